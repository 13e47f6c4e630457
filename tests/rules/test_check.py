"""`targetgroup rules check` on broken files: each problem names its file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.config import SAMPLE_SOURCES, load_sources
from targetgroup.errors import RulesError
from targetgroup.rules import DEFAULT_RULES, check_rules, load_rules

GOOD = """\
name: t
rules:
  - id: r
    title_da: T
    title_en: T
    conditions:
      - kind: departments
        at_least: 2
"""

BROKEN = [
    # (what, replace this, with this, field, line, words in message or hint)
    ("typo in a key", "    title_en: T\n", "    titel_en: T\n", "rules[0].titel_en", 5, "did you mean 'title_en'"),
    ("typo in a condition key", "        at_least: 2\n", "        at_lest: 2\n", "rules[0].conditions[0].at_lest", 8, "did you mean 'at_least'"),
    ("unknown department", "        at_least: 2\n", "        at_least: 1\n        of: [JOBB]\n", "rules[0].conditions[0].of[0]", 9, "did you mean 'JOB'"),
    ("unknown condition kind", "kind: departments", "kind: departmens", "rules[0].conditions[0].kind", 7, "did you mean 'departments'"),
    ("impossible age range", "      - kind: departments\n        at_least: 2\n",
     "      - kind: age\n        min: 30\n        max: 18\n", "rules[0].conditions[0]", 7, "impossible age range"),
    ("unknown case type", "      - kind: departments\n        at_least: 2\n",
     "      - kind: case_type\n        department: JOB\n        case_types: [Kontanthjaelp]\n",
     "rules[0].conditions[0].case_types[0]", 9, "unknown case type"),
    ("duplicate rule id", "        at_least: 2\n", "        at_least: 2\n" + GOOD.split("rules:\n")[1], "rules[1].id", 9, "used twice"),
    ("bad period", "      - kind: departments\n        at_least: 2\n",
     "      - kind: duration\n        department: JOB\n        more_than: 8 years\n", "rules[0].conditions[0].more_than", 9, "not a period"),
    ("missing title", "    title_da: T\n", "", "rules[0].title_da", 3, "required key is missing"),
    ("started_within with a negative count", "      - kind: departments\n        at_least: 2\n",
     "      - kind: duration\n        department: JOB\n        started_within: {days: -1}\n",
     "rules[0].conditions[0].started_within.days", 9, "greater than or equal to 0"),
    ("started_within beside more_than", "      - kind: departments\n        at_least: 2\n",
     "      - kind: duration\n        department: JOB\n        more_than: 8y\n        started_within: {days: 30}\n",
     "rules[0].conditions[0]", 7, "exactly one of more_than, at_least or started_within"),
    # the sample's person extract declares no area column
    ("area without an area column", "      - kind: departments\n        at_least: 2\n",
     "      - kind: area\n        in: [A1]\n", "rules[0].conditions[0].kind", 7, "needs the person extract's area column"),
    ("area with an empty list", "      - kind: departments\n        at_least: 2\n",
     "      - kind: area\n        in: []\n", "rules[0].conditions[0].in", 8, "at least 1 item"),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sources():
    return load_sources(SAMPLE_SOURCES, check_files=False)


def test_good_file_has_no_problems(tmp_path, sources):
    assert check_rules(write(tmp_path, GOOD), sources) == []


@pytest.mark.parametrize(("what", "old", "new", "field", "line", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_names_field_and_line(tmp_path, sources, what, old, new, field, line, words):
    assert old in GOOD
    if what == "area without an area column":   # the sample maps one: a sources file without it
        text = SAMPLE_SOURCES.read_text(encoding="utf-8")
        assert "    area: omraadekode" in text
        no_area = tmp_path / "sources.yaml"
        no_area.write_text(text.replace("    area: omraadekode", "    # area: omraadekode"), encoding="utf-8")
        sources = load_sources(no_area, check_files=False)
    path = write(tmp_path, GOOD.replace(old, new))
    problems = check_rules(path, sources)
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert (problem.field, problem.line) == (field, line)
    assert f"{path}:{line}: {field}" in str(problem)
    assert words in str(problem)


def test_all_problems_are_reported_together(tmp_path, sources):
    # structural and vocabulary problems in one pass (issue 14 §4): the typo and the department
    path = write(tmp_path, GOOD.replace("title_en", "titel_en").replace("at_least: 2", "at_least: 1\n        of: [XYZ]"))
    problems = check_rules(path, sources)
    assert [(p.field, p.line) for p in problems] == [("rules[0].titel_en", 5), ("rules[0].conditions[0].of[0]", 9)]
    assert "unknown department 'XYZ'" in str(problems[1])
    path = write(tmp_path, GOOD.replace("at_least: 2", "at_least: 1\n        of: [XYZ, ABC]"))
    assert [p.line for p in check_rules(path, sources)] == [9, 9]
    with pytest.raises(RulesError) as caught:
        load_rules(path, sources)
    assert len(caught.value.problems) == 2


def test_cli_rules_check_exits_1_and_prints_each_problem(tmp_path):
    path = write(tmp_path, GOOD.replace("kind: departments", "kind: departmens"))
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:7: rules[0].conditions[0].kind" in result.output
    assert "1 problem" in result.output


def test_cli_rules_check_accepts_every_shipped_rule_set():
    for path in sorted(DEFAULT_RULES.parent.glob("*.yaml")):
        result = CliRunner().invoke(app, ["rules", "check", str(path), "--sources", str(SAMPLE_SOURCES)])
        assert result.exit_code == 0, result.output


def test_invalid_yaml_is_a_problem_with_a_line(tmp_path, sources):
    problems = check_rules(write(tmp_path, GOOD.replace("title_da: T", "title_da: [T")), sources)
    assert len(problems) == 1 and problems[0].line is not None


def test_one_pass_checks_the_valid_parts_of_a_broken_rule(tmp_path, sources):
    """A broken condition is reported; the rule's other conditions, its notify list and a second
    rule are still checked against the sources, and a duplicate id is still found."""
    text = GOOD.replace("        at_least: 2\n", "        at_lest: 2\n"
                        "      - kind: case_type\n        department: JOB\n        case_types: [Kontanthjaelp]\n"
                        "    notify: [JOBB]\n") + GOOD.split("rules:\n")[1].replace("at_least: 2", "at_least: 1\n        of: [ABC]")
    problems = check_rules(write(tmp_path, text), sources)
    fields = [p.field for p in problems]
    assert "rules[0].conditions[0].at_lest" in fields
    assert "rules[0].conditions[1].case_types[0]" in fields
    assert "rules[0].notify[0]" in fields
    assert "rules[1].conditions[0].of[0]" in fields
    assert "rules[1].id" in fields   # used twice
    assert len(problems) == 5, [str(p) for p in problems]


def test_cli_rules_check_prints_structural_and_vocabulary_problems_together(tmp_path):
    path = write(tmp_path, GOOD.replace("kind: departments", "kind: departmens")
                 + "    notify: [XYZ]\n")
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:7: rules[0].conditions[0].kind" in result.output
    assert "unknown department 'XYZ'" in result.output and "2 problems" in result.output
