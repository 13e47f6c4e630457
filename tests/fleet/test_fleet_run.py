"""One municipality's task in this process: its own key file, its own log, a failure of its own."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import date

import duckdb
import pytest

from conftest import AS_OF, EXPECTED_DEFAULT, write_municipality
from targetgroup.fleet.run import Job, run_municipality
from targetgroup.rules import DEFAULT_RULES

pytestmark = pytest.mark.slow   # one whole pipeline run


def test_task_uses_its_key_file_and_its_own_log(tmp_path, monkeypatch, caplog):
    sources = write_municipality(tmp_path / "in")
    key = tmp_path / "pseudonym.key"
    key.write_text("municipality-own-key-" + "x" * 32 + "\n")
    key.chmod(0o600)
    # the operator's environment names another key: the fleet file's key wins
    monkeypatch.setenv("TARGETGROUP_PSEUDONYM_KEY", "environment-key-" + "y" * 32)
    job = Job(name="aa", sources=str(sources), rules=str(DEFAULT_RULES), out=str(tmp_path / "out"),
              pseudonym_key_file=str(key), as_of=date.fromisoformat(AS_OF), memory_limit="512MB", threads=1)
    with caplog.at_level(logging.INFO):
        outcome = run_municipality(job)
    assert (outcome.status, outcome.worker, outcome.counts["citizens_flagged"]) == ("committed", "local", 2)
    targets = duckdb.sql(f"select person_pseudonym from read_parquet('{outcome.folder}/analyst/targets.parquet')").fetchall()
    secret = key.read_bytes().strip()
    expected = {hmac.new(secret, cpr.encode(), hashlib.sha256).hexdigest() for cpr in EXPECTED_DEFAULT}
    assert {row[0] for row in targets} == expected
    log_text = (tmp_path / "out" / "logs" / f"{AS_OF}.log").read_text()
    assert "fleet: aa committed" in log_text and "identify: 2 citizens" in log_text
    assert not [r for r in caplog.records if r.name.startswith("targetgroup")]   # nothing into the process's log
    assert not logging.getLogger("targetgroup").handlers                       # and the handler is gone again
