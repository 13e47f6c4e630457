"""The fleet file is checked at load (issue 18): names, files, output folders, pseudonym keys."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from conftest import write_municipality
from targetgroup.errors import ConfigError
from targetgroup.fleet.file import load_fleet
from targetgroup.rules import DEFAULT_RULES


def _key(path: Path, secret: str) -> None:
    path.write_text(secret * 40 + "\n")
    os.chmod(path, 0o600)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """Two municipalities' inputs and keys; the fleet file is written by each test."""
    for name, secret in (("aa", "a"), ("bb", "b")):
        write_municipality(tmp_path / name)
        _key(tmp_path / name / "key", secret)
    return tmp_path


def _fleet(base: Path, text: str) -> Path:
    path = base / "fleet.yaml"
    path.write_text(textwrap.dedent(text))
    return path


GOOD = """\
    municipalities:
      - name: aa
        sources: aa/sources.yaml
        out: aa/out
        pseudonym_key_file: aa/key
      - name: bb
        sources: bb/sources.yaml
        rules: {rules}
        out: bb/out
        pseudonym_key_file: bb/key
        memory_limit: 512MB
        threads: 2
    memory_limit: 1GB
"""


def test_good_file_resolves_paths_from_its_folder(base):
    fleet = load_fleet(_fleet(base, GOOD.format(rules=DEFAULT_RULES)))
    aa, bb = fleet.municipalities
    assert fleet.names() == ["aa", "bb"]
    assert aa.sources == (base / "aa" / "sources.yaml").resolve() and aa.out == (base / "aa" / "out").resolve()
    assert aa.rules == DEFAULT_RULES.resolve()       # no rules: what `targetgroup run` uses
    assert (aa.memory_limit, aa.threads, bb.memory_limit, bb.threads) == ("1GB", None, "512MB", 2)


def test_relative_rule_file_is_taken_from_the_fleet_folder(base):
    (base / "mine.yaml").write_text(DEFAULT_RULES.read_text())
    fleet = load_fleet(_fleet(base, GOOD.format(rules="mine.yaml")))
    assert fleet.municipalities[1].rules == (base / "mine.yaml").resolve()


def _error(base: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_fleet(_fleet(base, text))
    return info.value


def test_duplicate_name(base):
    exc = _error(base, GOOD.format(rules=DEFAULT_RULES).replace("name: bb", "name: AA"))
    assert "used twice" in str(exc) and exc.line == 6 and exc.key == "municipalities[1].name"


@pytest.mark.parametrize("out_b", ["aa/out", "aa/./out", "aa/out/bb", "aa"])
def test_shared_or_nested_output_folders(base, out_b):
    exc = _error(base, GOOD.format(rules=DEFAULT_RULES).replace("out: bb/out", f"out: {out_b}"))
    assert "output folder" in str(exc) and exc.key == "municipalities[1].out" and exc.line == 9


def test_shared_key_file(base):
    exc = _error(base, GOOD.format(rules=DEFAULT_RULES).replace("pseudonym_key_file: bb/key", "pseudonym_key_file: aa/../aa/key"))
    assert "shares its pseudonym file with aa" in str(exc) and exc.line == 10


def test_same_key_in_two_files(base):
    _key(base / "bb" / "key", "a")
    exc = _error(base, GOOD.format(rules=DEFAULT_RULES))
    assert "shares its pseudonym key (in another file) with aa" in str(exc)


@pytest.mark.parametrize("old, new, key", [
    ("sources: bb/sources.yaml", "sources: bb/nowhere.yaml", "sources"),
    ("pseudonym_key_file: bb/key", "pseudonym_key_file: bb/nokey", "pseudonym_key_file"),
    ("rules: {rules}", "rules: bb/norules.yaml", "rules"),
    ("threads: 2", "threads: 2\n        delivery: bb/delivery.yaml", "delivery"),
])
def test_missing_files(base, old, new, key):
    exc = _error(base, GOOD.replace(old, new).format(rules=DEFAULT_RULES))
    assert "not found" in str(exc) and exc.key == f"municipalities[1].{key}"
    assert str(exc).startswith(str(base / "fleet.yaml"))


def test_key_file_readable_by_others(base):
    os.chmod(base / "bb" / "key", 0o644)
    exc = _error(base, GOOD.format(rules=DEFAULT_RULES))
    assert "read by others" in str(exc) and exc.key == "municipalities[1].pseudonym_key_file"


@pytest.mark.parametrize("name", ["../evil", "a/b", "has space", "x" * 65, "tab\there", ".hidden", "''"])
def test_names_are_codes(base, name):
    exc = _error(base, GOOD.format(rules=DEFAULT_RULES).replace("name: bb", f"name: {name!r}" if "\t" not in name else 'name: "tab\\there"'))
    assert "must be a code" in str(exc) and exc.key == "municipalities[1].name"


def test_unknown_key_with_its_line(base):
    exc = _error(base, GOOD.format(rules=DEFAULT_RULES).replace("threads: 2", "thread: 2"))
    assert "unknown key 'thread'" in str(exc) and exc.line == 12


def test_required_key_missing(base):
    exc = _error(base, GOOD.format(rules=DEFAULT_RULES).replace("        out: aa/out\n", ""))
    assert "required key is missing" in str(exc) and exc.key == "municipalities[0].out"
