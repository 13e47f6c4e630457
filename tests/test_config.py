"""Sources configuration: mistakes name the file, the key (with its line) and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SOURCES_YAML, write_municipality
from targetgroup.config import SAMPLE_SOURCES, load_sources
from targetgroup.errors import ConfigError


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SOURCES_YAML
    return write_municipality(tmp_path, **{"sources.yaml": SOURCES_YAML.replace(old, new, 1)})


def _line(needle: str) -> int:
    """The line of the first occurrence of `needle` in the tiny sources.yaml."""
    return SOURCES_YAML[:SOURCES_YAML.index(needle)].count("\n") + 1


def test_sample_configuration_loads():
    config = load_sources(SAMPLE_SOURCES)
    assert list(config.departments) == ["BUF", "JOB", "SOC", "SUND", "UNG"]
    assert {s.format for s in config.sources} == {"csv", "xlsx", "parquet"}
    assert config.source("buf_dubu").active_codes == ["aktiv"]


def test_unknown_department(tmp_path):
    path = _broken(tmp_path, "department: JOB", "department: JOBB")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    text = str(info.value)
    assert f"sources.yaml:{_line('department: JOB')}: sources[1].department" in text
    assert "unknown department 'JOBB'" in text and "use one of BUF, JOB, SOC" in text


def test_missing_mapping_for_required_field(tmp_path):
    path = _broken(tmp_path, "columns: {cpr: cpr, case_id: id,", "columns: {cpr: cpr,")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert "sources[1]" in str(info.value)
    assert "no mapping for required field(s) case_id" in str(info.value)


def test_file_that_does_not_exist(tmp_path):
    path = _broken(tmp_path, "path: job.csv", "path: job_2026.csv")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert "sources[1].path" in str(info.value) and "no file matches 'job_2026.csv'" in str(info.value)


def test_typo_in_a_key(tmp_path):
    path = _broken(tmp_path, "    delimiter: \";\"", "    delimeter: \";\"")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert "sources[0].delimeter" in str(info.value) and "unknown key" in str(info.value)
    line = _line('delimiter: ";"')
    assert f"sources.yaml:{line}:" in str(info.value)


def test_a_misspelt_required_key_gets_did_you_mean_at_its_own_line(tmp_path):
    # 'colums:' used to give "required key is missing" at the source's first line (issue 14 §4)
    old = "    columns: {cpr: cpr, case_id: id, case_type: type, status: status, start_date: start,\n" \
          "              end_date: end, caseworker: worker, team: team}\n    statuses: {AKT"
    path = _broken(tmp_path, old, old.replace("columns:", "colums:"))
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    text = str(info.value)
    line = SOURCES_YAML.count("\n", 0, SOURCES_YAML.index(old)) + 1   # the misspelt key's own line
    assert f"sources.yaml:{line}: sources[1].colums: unknown key" in text
    assert "did you mean 'columns'?" in text and "required key is missing" not in text


@pytest.mark.parametrize(("old", "new", "field", "suggestion"), [
    ("    delimiter: \";\"", "    delimeter: \";\"", "sources[0].delimeter", "delimiter"),
    ("persons:\n  path: persons.csv", "persons:\n  paht: persons.csv", "persons.paht", "path"),
    ('  BUF: {name: "Børn og Familie"', '  BUF: {nmae: "Børn og Familie"', "departments.BUF.nmae", "name"),
    ("sources:\n", "sourcse:\n", "sourcse", "sources"),
])
def test_typos_anywhere_in_the_sources_file_get_did_you_mean(tmp_path, old, new, field, suggestion):
    with pytest.raises(ConfigError) as info:
        load_sources(_broken(tmp_path, old, new))
    assert f"{field}: unknown key" in str(info.value)
    assert f"did you mean '{suggestion}'?" in str(info.value)


def test_no_active_status(tmp_path):
    path = _broken(tmp_path, "statuses: {AKT: true, PAS: false, AFS: false}",
                   "statuses: {AKT: false, PAS: false, AFS: false}")
    with pytest.raises(ConfigError, match="no status code is marked active"):
        load_sources(path)


def test_missing_sources_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_sources(tmp_path / "nope.yaml")


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("departments:\n  BUF: {name: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources.yaml:\d+: not valid YAML"):
        load_sources(path)


def test_the_person_extract_name_is_an_identifier(tmp_path):
    # it names the raw table (raw_<name>): like every source name, letters, digits and _ only
    text = SOURCES_YAML.replace("persons:\n  path: persons.csv", 'persons:\n  name: "p\\"; select 1; --"\n  path: persons.csv')
    assert text != SOURCES_YAML
    sources = write_municipality(tmp_path, **{"sources.yaml": text})
    with pytest.raises(ConfigError, match="name"):
        load_sources(sources)


def test_outcomes_case_types_must_be_declared(tmp_path):
    declared = "departments:\n  BUF:"
    good = _broken(tmp_path / "good", declared, "outcomes:\n  benefit_case_types: [Jobparat kontanthjælp]\n"
                   "  education_case_types: []\n" + declared)
    assert load_sources(good).outcomes.benefit_case_types == ["Jobparat kontanthjælp"]
    path = _broken(tmp_path / "bad", declared, "outcomes:\n  benefit_case_types:\n    - Jobparat kontanthjælp\n"
                   "    - Kontanthjaelp\n" + declared)
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    text = str(info.value)
    assert "sources.yaml:5: outcomes.benefit_case_types[1]" in text
    assert "case type 'Kontanthjaelp' is not declared by any source" in text
    assert load_sources(SAMPLE_SOURCES).outcomes.education_case_types
