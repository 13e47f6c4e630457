"""The delivery file is checked at load: every mistake names the file, the key and its line."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from targetgroup.config import load_sources
from targetgroup.delivery.config import is_loopback, load_delivery
from targetgroup.errors import ConfigError
from tests.conftest import write_municipality

SECRET = "fake-smtp-secret-Kq2"


def write(tmp_path: Path, text: str) -> Path:
    for folder in ("buf", "job", "momentum"):
        (tmp_path / folder).mkdir(exist_ok=True)
    path = tmp_path / "delivery.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


GOOD = """\
folders:
  BUF: buf
  JOB: {path: job}
systems:
  Momentum: momentum
file_mode: "0640"
mail:
  host: smtp.example.kommune.dk
  port: 587
  from: maalgruppe@example.kommune.dk
  username: {env: TG_CONFIG_USER}
  password: {file: secret.txt}
  departments: {BUF: [buf@example.kommune.dk]}
  operations: [drift@example.kommune.dk]
"""


@pytest.fixture
def sources(tmp_path):
    return load_sources(write_municipality(tmp_path / "input"))


@pytest.fixture(autouse=True)
def secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("TG_CONFIG_USER", "someone")
    (tmp_path / "secret.txt").write_text(SECRET + "\n")


def problem(tmp_path, sources, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_delivery(write(tmp_path, text), sources)
    assert SECRET not in str(caught.value)
    return caught.value


def test_a_good_file_loads_with_paths_from_its_folder(tmp_path, sources):
    config = load_delivery(write(tmp_path, GOOD), sources)
    assert config.folder("folders", "JOB").path == str(tmp_path / "job")
    assert config.mode == 0o640
    assert config.mail.password.value(config.base) == SECRET
    assert SECRET not in repr(config)


@pytest.mark.parametrize(("old", "new", "key", "words"), [
    ("  BUF: buf\n", "  XYZ: buf\n", "folders.XYZ", "unknown department 'XYZ'"),
    ("  Momentum: momentum", "  Fasit: momentum", "systems.Fasit", "unknown case system 'Fasit'"),
    ("  JOB: {path: job}", "  JOB: {path: nowhere}", "folders.JOB", "does not exist"),
    ("  port: 587", "  port: 587\n  security: none", "mail.security", "not this machine"),
    ("{env: TG_CONFIG_USER}", "{env: TG_CONFIG_UNSET}", "mail.username", "TG_CONFIG_UNSET is not set"),
    ("{file: secret.txt}", "{file: missing.txt}", "mail.password", "cannot be read"),
    ("[buf@example.kommune.dk]", "[buf.example.kommune.dk]", "mail.departments.BUF[0]", "not an e-mail address"),
    ("  departments: {BUF:", "  departments: {SUND:", "mail.departments.SUND", "unknown department 'SUND'"),
    ('file_mode: "0640"', 'file_mode: "0666"', "file_mode", "octal mode"),
    ("  port: 587", "  port: 587\n  pasword: x", "mail.pasword", "unknown key"),
])
def test_mistakes_name_file_key_and_line(tmp_path, sources, old, new, key, words):
    assert old in GOOD
    text = GOOD.replace(old, new)
    exc = problem(tmp_path, sources, text)
    assert words in str(exc)
    assert exc.key == key
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if new.splitlines()[-1].strip() in row)
    assert exc.line == line and exc.file == tmp_path / "delivery.yaml"


def test_unwritable_folder_is_refused(tmp_path, sources):
    if os.geteuid() == 0:   # root writes anywhere a mode allows nothing: take a read-only file system's folder
        unwritable = Path("/proc/sys")
        if os.access(unwritable, os.W_OK):
            pytest.skip("running as root and /proc/sys is writable here: no unwritable folder to test with")
    else:
        unwritable = tmp_path / "locked"
        unwritable.mkdir()
        unwritable.chmod(0o500)
    exc = problem(tmp_path, sources, GOOD.replace("  BUF: buf", f"  BUF: {unwritable}"))
    assert "not writable" in str(exc) and exc.key == "folders.BUF" and exc.line == 2


def test_none_security_is_allowed_to_loopback_only(tmp_path, sources):
    text = GOOD.replace("smtp.example.kommune.dk", "127.0.0.1").replace("  port: 587", "  port: 8025\n  security: none")
    assert load_delivery(write(tmp_path, text), sources).mail.security == "none"
    assert is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.0.2")
    assert not is_loopback("10.0.0.1") and not is_loopback("smtp.localhost.example.dk")


def test_a_secret_written_into_the_file_is_refused_without_echoing_it(tmp_path, sources):
    exc = problem(tmp_path, sources, GOOD.replace("{file: secret.txt}", SECRET))
    assert exc.key == "mail.password"


def test_caseworkers_file_errors_name_its_line(tmp_path, sources):
    (tmp_path / "cw.csv").write_text("caseworker,address\nJens Job,jens@example.kommune.dk\nSøs Ærø,not-an-address\n")
    text = GOOD + "  caseworkers: {file: cw.csv}\n"
    with pytest.raises(ConfigError) as caught:
        load_delivery(write(tmp_path, text), sources)
    assert caught.value.line == 3 and caught.value.file == tmp_path / "cw.csv"
    (tmp_path / "cw.csv").write_text("caseworker,address\nJens Job,jens@example.kommune.dk\n")
    config = load_delivery(write(tmp_path, text), sources)
    assert config.caseworker_addresses == {"Jens Job": "jens@example.kommune.dk"}
