"""`targetgroup users`, `targetgroup access-log` and the refusals of `targetgroup serve` (no server started)."""

from __future__ import annotations

import stat

import duckdb
import pytest
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.web import access_log
from targetgroup.web import users as users_file
from tests.web.conftest import CHEAP

runner = CliRunner()


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2id with small parameters (tests/web/conftest.py): the file format is the same."""
    monkeypatch.setattr(users_file, "_hasher", CHEAP)


def _invoke(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def test_users_add_list_passwd_remove(tmp_path):
    path = tmp_path / "users.yaml"
    added = _invoke("users", "add", "sara", "--role", "caseworker", "--department", "BUF", "--department", "JOB",
                    "--password-stdin", "--users", str(path), input="a long enough passphrase\n")
    assert added.exit_code == 0, added.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "$argon2id$" in text and "a long enough passphrase" not in text
    assert users_file.load(path).verify("sara", "a long enough passphrase").departments == ["BUF", "JOB"]
    assert _invoke("users", "add", "lea", "--role", "leader", "--users", str(path), "--password-stdin",
                   input="another long passphrase\n").exit_code == 0
    listed = _invoke("users", "list", "--users", str(path))
    assert listed.exit_code == 0 and "sara" in listed.output and "BUF, JOB" in listed.output
    assert "argon2" not in listed.output
    assert _invoke("users", "passwd", "sara", "--password-stdin", "--users", str(path),
                   input="a brand new passphrase\n").exit_code == 0
    found = users_file.load(path)
    assert found.verify("sara", "a brand new passphrase") and not found.verify("sara", "a long enough passphrase")
    assert _invoke("users", "remove", "lea", "--users", str(path)).exit_code == 0
    assert set(users_file.load(path).users) == {"sara"}


def test_users_refusals_say_what_to_do(tmp_path):
    path = tmp_path / "users.yaml"
    short = _invoke("users", "add", "sara", "--role", "caseworker", "--department", "BUF", "--password-stdin",
                    "--users", str(path), input="short\n")
    assert short.exit_code == 1 and "Error:" in short.output and "shorter than 12" in short.output
    no_dept = _invoke("users", "add", "sara", "--role", "caseworker", "--password-stdin", "--users", str(path),
                      input="a long enough passphrase\n")
    assert no_dept.exit_code == 1 and "--department" in no_dept.output
    bad_role = _invoke("users", "add", "sara", "--role", "boss", "--users", str(path), "--sso")
    assert bad_role.exit_code == 1 and "role must be one of" in bad_role.output
    assert _invoke("users", "remove", "nobody", "--users", str(path)).exit_code == 1
    cpr_name = _invoke("users", "add", "0101800001", "--role", "admin", "--sso", "--users", str(path))
    assert cpr_name.exit_code == 1 and "CPR" in cpr_name.output and "0101800001" not in cpr_name.output
    assert _invoke("users", "add", "ada", "--role", "admin", "--sso", "--users", str(path)).exit_code == 0
    path.chmod(0o644)
    loose = _invoke("users", "list", "--users", str(path))
    assert loose.exit_code == 1 and "chmod 600" in loose.output


def test_access_log_prints_masked_cpr_unless_asked(tmp_path):
    log = tmp_path / "access_log.duckdb"
    access_log.record(log, user="sara", role="caseworker", page="citizen", outcome="shown", cpr="0101800001",
                      department="BUF", address="127.0.0.1")
    access_log.record(log, user="jens", role="caseworker", page="list_download", outcome="downloaded",
                      department="JOB", address="127.0.0.1")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    masked = _invoke("access-log", "--access-log-file", str(log))
    assert masked.exit_code == 0 and "010180-****" in masked.output and "0101800001" not in masked.output
    assert "jens" in masked.output and "list_download" in masked.output
    only_sara = _invoke("access-log", "--access-log-file", str(log), "--user", "sara", "--show-cpr")
    assert "0101800001" in only_sara.output and "jens" not in only_sara.output
    assert "sara" not in _invoke("access-log", "--access-log-file", str(log), "--since", "2999-01-01").output
    assert access_log.prune(log, days=1) == 0 and len(access_log.read(log)) == 2
    with duckdb.connect(str(log)) as con:                      # a row from 400 days ago
        con.execute("""insert into access_log select logged_at - interval 400 day, user_name, role, page,
                       department, cpr, outcome, address from access_log where user_name = 'jens'""")
    assert access_log.prune(log, days=365) == 1 and len(access_log.read(log)) == 2


def test_serve_refuses_another_address_without_tls_and_a_missing_users_file(tmp_path):
    users = tmp_path / "users.yaml"
    refused = _invoke("serve", "--host", "0.0.0.0", "--users", str(users), "--out", str(tmp_path))
    assert refused.exit_code == 1 and "--tls-cert" in refused.output and "--behind-tls-proxy" in refused.output
    half_sso = _invoke("serve", "--trust-header", "X-Remote-User", "--out", str(tmp_path))
    assert half_sso.exit_code == 1 and "--trusted-proxy" in half_sso.output
    missing = _invoke("serve", "--out", str(tmp_path))
    assert missing.exit_code == 1 and "users file not found" in missing.output
