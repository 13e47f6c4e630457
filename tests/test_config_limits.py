"""Configuration files cannot exhaust the machine (issue 11, section 5).

A YAML alias bomb ("billion laughs": 9 levels of 9 aliases), a self-referencing alias, deep
nesting and over-size files are refused quickly, with a ConfigError/RulesError/InputError that
names the file and the line; removal files and manual lists have a size limit too.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_municipality
from targetgroup import limits
from targetgroup.cli import app
from targetgroup.config import load_sources
from targetgroup.errors import ConfigError, InputError
from targetgroup.register.imports import import_suppression_files
from targetgroup.rules import check_rules
from targetgroup.warehouse import open_work


def alias_bomb(top_key: str) -> str:
    """9 levels, each a list of 9 aliases to the level below: 9**9 strings when expanded."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    lines.append(f"{top_key}: *l9")
    return "\n".join(lines) + "\n"


def test_alias_bomb_in_the_sources_file_fails_fast(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(alias_bomb("departments"), encoding="utf-8")
    start = time.monotonic()
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert time.monotonic() - start < 1.0
    assert info.value.file == path and info.value.line is not None
    assert "aliases" in str(info.value)


def test_alias_bomb_in_a_rule_file_fails_fast(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("name: bomb\n" + alias_bomb("rules"), encoding="utf-8")
    start = time.monotonic()
    problems = check_rules(path)
    assert time.monotonic() - start < 1.0
    assert len(problems) == 1 and problems[0].file == path and problems[0].line is not None
    assert "aliases" in str(problems[0])


@pytest.mark.parametrize("command", ["validate", "rules check"])
def test_alias_bombs_through_the_cli(command, tmp_path):
    sources = write_municipality(tmp_path / "input")
    if command == "validate":
        sources.write_text(alias_bomb("departments"), encoding="utf-8")
        args = ["validate", "--sources", str(sources), "--as-of", "2026-11-01", "--out", str(tmp_path / "out"), "-q"]
        where = f"{sources}:"
    else:
        rules = tmp_path / "rules.yaml"
        rules.write_text("name: bomb\n" + alias_bomb("rules"), encoding="utf-8")
        args = ["rules", "check", str(rules), "--sources", str(sources)]
        where = f"{rules}:"
    start = time.monotonic()
    result = CliRunner().invoke(app, args)
    assert time.monotonic() - start < 5.0  # the CLI's own start-up included
    assert result.exit_code == 1 and where in result.output and "aliases" in result.output


def test_a_few_aliases_are_fine(tmp_path):
    """Anchors that repeat a block (the normal use) stay allowed."""
    sources = write_municipality(tmp_path / "input")
    text = sources.read_text(encoding="utf-8")
    text = text.replace("    statuses: {AKT: true, PAS: false, AFS: false}",
                        "    statuses: &job_statuses {AKT: true, PAS: false, AFS: false}")
    sources.write_text(text, encoding="utf-8")
    assert load_sources(sources).source("job").active_codes == ["akt"]


def test_an_alias_into_its_own_anchor_is_refused(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("departments: &d\n  BUF: *d\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert info.value.line == 1 or info.value.line == 2
    assert "refers to the collection that contains it" in str(info.value)


def test_deep_nesting_is_refused(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("departments: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert "nested more than" in str(info.value) and info.value.file == path


def test_an_oversize_sources_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "sources.yaml"
    line = "# " + "x" * 98 + "\n"
    path.write_text(line * (limits.MAX_CONFIG_BYTES // len(line) + 10), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert info.value.file == path
    assert info.value.line == limits.MAX_CONFIG_BYTES // len(line) + 1
    assert "more than the 1,048,576 allowed" in str(info.value)


def test_an_oversize_rule_file_is_refused(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("name: big\n" + "# padding\n" * (limits.MAX_CONFIG_BYTES // 10 + 1), encoding="utf-8")
    problems = check_rules(path)
    assert len(problems) == 1 and problems[0].file == path and "allowed" in str(problems[0])


def test_an_oversize_manual_list_is_refused_by_rules_check(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LIST_BYTES", 1000)
    monkeypatch.setattr("targetgroup.rules.load.MAX_LIST_BYTES", 1000)
    (tmp_path / "ex.csv").write_text("cpr,rule,reason,added_by\n" + "0101800001,r,x,y\n" * 100, encoding="utf-8")
    path = tmp_path / "rules.yaml"
    path.write_text("name: t\nmanual_exclusions: ex.csv\nrules:\n  - id: r\n    title_da: T\n    title_en: T\n"
                    "    conditions:\n      - kind: departments\n        at_least: 2\n", encoding="utf-8")
    problems = check_rules(path)
    assert [(p.field, p.line) for p in problems] == [("manual_exclusions", 2)]
    assert "larger than 1,000 bytes" in str(problems[0])


def test_an_oversize_removal_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("targetgroup.register.imports.MAX_LIST_BYTES", 1000)
    config = load_sources(write_municipality(tmp_path / "input"))
    folder = tmp_path / "removals"
    folder.mkdir()
    (folder / "JOB.csv").write_text("cpr,rule,removed_by,reason\n" + "0101800001,r,x,y\n" * 100, encoding="utf-8")
    con = open_work()
    with pytest.raises(InputError) as info:
        import_suppression_files(con, config, folder, datetime(2026, 11, 1))
    assert info.value.file == folder / "JOB.csv" and info.value.line is not None
    assert "more than the 1,000 allowed" in str(info.value)


def test_an_oversize_consent_file_is_refused(tmp_path, monkeypatch):
    from targetgroup import consent

    monkeypatch.setattr("targetgroup.register.imports.MAX_LIST_BYTES", 1000)
    folder = tmp_path / "consent"
    folder.mkdir()
    (folder / "JOB.csv").write_text("cpr,consent,departments,recorded_by,recorded_on\n"
                                    + "0101800001,given,*,AB,2026-11-01\n" * 100, encoding="utf-8")
    with pytest.raises(InputError) as info:
        consent.consent_files(folder)
    assert info.value.file == folder / "JOB.csv" and "more than the 1,000 allowed" in str(info.value)
