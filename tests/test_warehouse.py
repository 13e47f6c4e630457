"""The work connection takes DuckDB's threads and memory limit from settings or the environment."""

import pytest

from targetgroup.errors import RunError
from targetgroup.warehouse import open_work


def _setting(con, name):
    return con.execute(f"select current_setting('{name}')").fetchone()[0]


def test_threads_and_memory_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("TARGETGROUP_THREADS", "1")
    monkeypatch.setenv("TARGETGROUP_MEMORY_LIMIT", "512MB")
    con = open_work()
    assert _setting(con, "threads") == 1
    assert _setting(con, "memory_limit").startswith("488")  # 512 MB shown in MiB
    assert _setting(open_work(threads=2), "threads") == 2  # a setting wins over the environment


@pytest.mark.parametrize("name,value,match", [
    ("TARGETGROUP_THREADS", "many", "not a number of threads"),
    ("TARGETGROUP_MEMORY_LIMIT", "lots", "memory limit"),
])
def test_unusable_values_are_refused_clearly(monkeypatch, name, value, match):
    monkeypatch.setenv(name, value)
    with pytest.raises(RunError, match=match):
        open_work()
