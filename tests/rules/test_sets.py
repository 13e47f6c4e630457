"""Rule sets by name: the shipped sets, a local rules/ folder, the one resolver, `rules list`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.errors import RulesError
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.rules import DEFAULT_RULES, list_rule_sets, resolve_rule_set

SHIPPED = {"default", "odense", "furesoe", "halsnaes", "esbjerg_stepup", "ballerup_transitions", "assens_family",
           "sample"}
LOCAL = "name: mine\ndescription: Our own test set.\nrules:\n  - id: r\n    title_da: T\n    title_en: T\n" \
        "    conditions:\n      - kind: departments\n        at_least: 2\n"


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """An empty current folder with a local rules/ folder holding 'mine' and its own 'odense'."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "mine.yaml").write_text(LOCAL, encoding="utf-8")
    (tmp_path / "rules" / "odense.yaml").write_text(LOCAL.replace("name: mine", "name: odense_local"),
                                                     encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_shipped_sets_are_in_the_package():
    import targetgroup

    package = Path(targetgroup.__file__).parent
    assert DEFAULT_RULES.parent == package / "rulesets"
    assert {p.stem for p in DEFAULT_RULES.parent.glob("*.yaml")} == SHIPPED


def test_a_name_finds_the_shipped_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # no rules/ here
    assert resolve_rule_set("odense") == DEFAULT_RULES.parent / "odense.yaml"
    assert resolve_rule_set("odense.yaml") == DEFAULT_RULES.parent / "odense.yaml"


def test_an_existing_path_is_that_file(here):
    (here / "elsewhere.yaml").write_text(LOCAL, encoding="utf-8")
    assert resolve_rule_set("elsewhere.yaml") == Path("elsewhere.yaml")
    assert resolve_rule_set(str(DEFAULT_RULES)) == DEFAULT_RULES


def test_a_local_set_is_found_and_hides_a_shipped_one_of_the_same_name(here):
    assert resolve_rule_set("mine") == here / "rules" / "mine.yaml"
    assert resolve_rule_set("odense") == here / "rules" / "odense.yaml"
    entries = {(e.name, e.origin): e for e in list_rule_sets()}
    assert entries[("odense", "shipped")].shadowed and not entries[("default", "shipped")].shadowed
    assert entries[("mine", "local")].title == "mine: Our own test set."


def test_a_missing_set_lists_what_exists(here):
    with pytest.raises(RulesError) as caught:
        resolve_rule_set("odnese")
    text = str(caught.value)
    assert "no rule set 'odnese'" in text
    assert "mine (local)" in text and "default (shipped)" in text and "halsnaes (shipped)" in text
    with pytest.raises(RulesError):
        resolve_rule_set("rules/nope.yaml")   # a path that does not exist is not looked up by name


def test_cli_rules_list_shows_shipped_and_local_sets(here):
    result = CliRunner().invoke(app, ["rules", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in SHIPPED | {"mine"}:
        assert any(line.split()[:1] == [name] for line in lines), name
    i = next(i for i, line in enumerate(lines) if line.startswith("mine "))
    assert "local" in lines[i] and lines[i].endswith(str(Path("rules") / "mine.yaml"))
    assert lines[i + 1].strip() == "mine: Our own test set."
    default = next(line for line in lines if line.startswith("default "))
    assert "shipped" in default and default.endswith(str(DEFAULT_RULES))
    assert any(line.startswith("odense ") and "hidden by the local set" in line for line in lines)


def test_cli_rules_check_takes_a_name(here):
    result = CliRunner().invoke(app, ["rules", "check", "halsnaes"])
    assert result.exit_code == 0, result.output
    assert "rule set 'halsnaes' is valid" in result.output


def test_a_missing_set_stops_the_run_before_anything_is_read(tiny, tmp_path):
    out = tmp_path / "out"
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["run", "--sources", str(tiny), "--rules", "odnese", "--out", str(out),
                                      "--as-of", "2026-11-01", "-q"])
    assert result.exit_code == 1
    assert "no rule set 'odnese'" in result.output and "odense (shipped)" in result.output
    assert time.perf_counter() - started < 3
    assert not (out / "failed").exists() and not (out / "warehouse.duckdb").exists()


def test_the_pipeline_refuses_a_missing_set_without_a_run_folder(tiny, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RulesError, match="no rule set"):
        run_pipeline(RunSettings(sources=tiny, rules=Path("odnese"), out=out))
    assert not (out / "failed").exists()
    assert not (out / ".staging").exists() or not any((out / ".staging").iterdir())
