"""Analyst outputs: HMAC pseudonyms in DuckDB, key handling, Parquet and views without CPR."""

import hashlib
import hmac
import os
from datetime import date

import duckdb
import pytest

from targetgroup.deliver import analyst
from targetgroup.errors import ConfigError
from targetgroup.pipeline import RunSettings, run_pipeline
from tests.conftest import AS_OF, PERSONS_CSV

KEY = "k" * 40
CPRS = [line.split(",")[0] for line in PERSONS_CSV.splitlines()[1:]]


@pytest.mark.parametrize("key", [b"k" * 40, b"x" * 64, b"long" * 40])
def test_pseudonym_is_hmac_sha256(key):
    con = duckdb.connect()
    analyst.install_pseudonym(con, key)
    got = con.execute("select tg_pseudonym('0101800001'), tg_pseudonym(null)").fetchone()
    assert got == (hmac.new(key, b"0101800001", hashlib.sha256).hexdigest(), None)


def test_key_from_environment_or_file(tmp_path):
    assert analyst.pseudonym_key({}) is None
    assert analyst.pseudonym_key({analyst.ENV_KEY: KEY}) == KEY.encode()
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    assert analyst.pseudonym_key({analyst.ENV_KEY_FILE: str(key_file)}) == KEY.encode()


def test_unusable_keys_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="too short"):
        analyst.pseudonym_key({analyst.ENV_KEY: "short"})
    with pytest.raises(ConfigError, match="does not exist"):
        analyst.pseudonym_key({analyst.ENV_KEY_FILE: str(tmp_path / "missing")})
    open_file = tmp_path / "open.key"
    open_file.write_text(KEY)
    open_file.chmod(0o644)
    with pytest.raises(ConfigError, match="read by others"):
        analyst.pseudonym_key({analyst.ENV_KEY_FILE: str(open_file)})
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    inside = repo / "secret.key"
    inside.write_text(KEY)
    inside.chmod(0o600)
    with pytest.raises(ConfigError, match="inside a git repository"):
        analyst.pseudonym_key({analyst.ENV_KEY_FILE: str(inside)})


def test_parquet_and_views_carry_pseudonyms_not_cpr(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv(analyst.ENV_KEY, KEY)
    run = run_pipeline(RunSettings(sources=tiny, as_of=date.fromisoformat(AS_OF), out=tmp_path / "out"))
    files = sorted(p.name for p in (run.report_dir / "analyst").iterdir())
    assert files == ["counts.parquet", "flags.parquet", "targets.parquet"]
    con = duckdb.connect()
    for name in files:
        path = run.report_dir / "analyst" / name
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        text = str(con.execute(f"select * from '{path}'").fetchall())
        assert not any(cpr in text for cpr in CPRS)
    expected = hmac.new(KEY.encode(), b"0101800001", hashlib.sha256).hexdigest()
    pseudonyms = {r[0] for r in con.execute(
        f"select person_pseudonym from '{run.report_dir / 'analyst' / 'targets.parquet'}'").fetchall()}
    assert expected in pseudonyms and len(pseudonyms) == 2
    wh = duckdb.connect(str(run.settings.warehouse_path), read_only=True)
    assert run.manifest["analyst_views"] == ["v_runs", "v_target_group_size", "v_targets", "v_flags_history"]
    assert not any(cpr in str(wh.execute("select * from v_flags_history").fetchall()) for cpr in CPRS)
    rows = wh.execute("select * from v_targets").fetchall()
    assert {r[4] for r in rows} == pseudonyms and not any(cpr in str(rows) for cpr in CPRS)
    assert wh.execute("select citizens from v_target_group_size").fetchall() == [(2,)]


def test_without_key_no_analyst_files_and_the_manifest_says_why(tiny, tmp_path, monkeypatch):
    monkeypatch.delenv(analyst.ENV_KEY, raising=False)
    monkeypatch.delenv(analyst.ENV_KEY_FILE, raising=False)
    run = run_pipeline(RunSettings(sources=tiny, as_of=date.fromisoformat(AS_OF), out=tmp_path / "out"))
    assert not (run.report_dir / "analyst").exists()
    assert run.manifest["analyst_outputs"] == {"written": False, "warning": analyst.NO_KEY_WARNING}
