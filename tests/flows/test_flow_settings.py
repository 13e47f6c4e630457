"""The flows take what `targetgroup run` takes: parameters first, then the environment (no server)."""

from datetime import date
from pathlib import Path

import pytest

from flows.pipeline import _settings
from targetgroup.errors import RunError
from targetgroup.rules import DEFAULT_RULES

ENV = ("TARGETGROUP_RULES", "TARGETGROUP_ALLOW_DROP", "TARGETGROUP_LANG", "TARGETGROUP_THREADS",
       "TARGETGROUP_MEMORY_LIMIT")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def _make(**given):
    args = dict(as_of=date(2026, 11, 1), sources="s.yaml", out="o", warehouse=None, rules=None, lang=None,
                dry_run=False, rebuild=False)
    return _settings(**{**args, **given})


def test_defaults_are_the_cli_defaults():
    s = _make()
    assert (s.rules, s.lang, s.allow_drop, s.memory_limit, s.threads, s.switch_rules) == \
        (DEFAULT_RULES, "da", (), None, None, False)


def test_parameters_are_passed_through():
    s = _make(rules="odense", lang="en", allow_drop=["job", "buf"], memory_limit="2GB", threads=3,
              switch_rules=True)
    assert (s.rules, s.lang, s.allow_drop, s.memory_limit, s.threads, s.switch_rules) == \
        (DEFAULT_RULES.parent / "odense.yaml", "en", ("job", "buf"), "2GB", 3, True)


def test_the_environment_fills_what_the_parameters_leave_out(monkeypatch):
    monkeypatch.setenv("TARGETGROUP_RULES", "furesoe")     # a rule set's name, as --rules takes
    monkeypatch.setenv("TARGETGROUP_ALLOW_DROP", " job, soc ,")
    monkeypatch.setenv("TARGETGROUP_LANG", "en")
    s = _make()
    assert (s.rules, s.allow_drop, s.lang) == (DEFAULT_RULES.parent / "furesoe.yaml", ("job", "soc"), "en")
    s = _make(rules="halsnaes", allow_drop=[], lang="da")        # a parameter wins, an empty list too
    assert (s.rules, s.allow_drop, s.lang) == (DEFAULT_RULES.parent / "halsnaes.yaml", (), "da")


def test_threads_and_memory_limit_from_the_environment_reach_duckdb(monkeypatch):
    from targetgroup.warehouse import open_work

    monkeypatch.setenv("TARGETGROUP_THREADS", "1")
    monkeypatch.setenv("TARGETGROUP_MEMORY_LIMIT", "300MB")
    s = _make()
    con = open_work(s.threads, s.memory_limit)
    try:
        threads, limit = con.execute("select current_setting('threads'), current_setting('memory_limit')").fetchone()
    finally:
        con.close()
    assert threads == 1 and limit.replace(" ", "") in ("286.1MiB", "300.0MB", "300MB")


def test_an_unknown_language_is_refused():
    with pytest.raises(RunError, match="language 'fr' is not da or en"):
        _make(lang="fr")
