"""No value from an extract or a configuration file ever runs as SQL (issue 11, section 1).

Every value of the hostile corpus (tests/hostile.py) goes in as an extract header (CSV in
utf-8, latin-1 and cp1252, Parquet, Excel), as a cell, as a code or name in the sources file
and in a rule file, through `extract`/staging, `validate`, `rules check` and `run`. Each test
proves that nothing executed: the canary file the value tries to `copy ... to` never appears,
no table is added, and the result equals the clean run's, or the value is refused with a clear
error naming file, line and field that does not repeat the value.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from conftest import BUF_CSV, SOURCES_YAML, write_municipality
from hostile import NAMES, PRINTABLE, REFUSED, corpus
from targetgroup import extract, stage
from targetgroup.cli import app
from targetgroup.config import load_sources
from targetgroup.errors import ConfigError, InputError, RulesError
from targetgroup.rules import check_rules
from targetgroup.warehouse import open_work, run_script, sql_identifier, sql_literal

@pytest.fixture
def canary(tmp_path, monkeypatch) -> Path:
    """The file every hostile value tries to write: relative, so the values stay short."""
    monkeypatch.chdir(tmp_path)
    return Path("canary.csv")


def _quiet(value: str, message: str) -> bool:
    """The message does not repeat the value (a long run of one letter may show cut short)."""
    return value not in message and (len(set(value)) == 1 or value[:12] not in message)


FORMATS = ["csv-utf-8", "csv-latin-1", "csv-cp1252", "parquet", "xlsx"]
BUF_HEADER = BUF_CSV.splitlines()[0].split(";")
BUF_ROW = BUF_CSV.splitlines()[1].split(";")


# --- the quoting helpers and the script runner ------------------------------------------------

@pytest.mark.parametrize("name", [n for n in NAMES if n != "nul"])
def test_quoting_helpers_round_trip_every_hostile_value(name, canary):
    value = corpus(canary)[name]
    con = open_work()
    assert con.execute(f"select {sql_literal(value)}").fetchone()[0] == value
    con.execute(f"create table t as select 1 as {sql_identifier(value)}")
    assert [r[0] for r in con.execute("describe t").fetchall()] == [value]
    assert not canary.exists()


def test_quoting_helpers_refuse_nul():
    with pytest.raises(ValueError):
        sql_literal("a\x00b")
    with pytest.raises(ValueError):
        sql_identifier("a\x00b")


def test_scripts_are_split_by_duckdbs_parser():
    """';' at a line end inside a string and '--' lines inside a string are text, not SQL."""
    con = open_work()
    run_script(con, "create table t as select 'a;\n-- b;\nc' as x, $n as n;\n"
                    "-- a comment; with a semicolon\n"
                    "insert into t values ('/* not; a comment */', $n + 1);", {"n": 1, "unused": 2})
    assert con.execute("select x, n from t order by n").fetchall() == [("a;\n-- b;\nc", 1),
                                                                      ("/* not; a comment */", 2)]


# --- extract headers --------------------------------------------------------------------------

def _write_buf(folder: Path, fmt: str, header: str) -> None:
    """buf's extract with one extra column named `header` (cells 'x'), in format `fmt`."""
    names, row = [*BUF_HEADER, header], [*BUF_ROW, "x"]
    sources = (folder / "sources.yaml").read_text(encoding="utf-8")
    if fmt.startswith("csv"):
        encoding = fmt.removeprefix("csv-")
        text = io.StringIO()
        csv.writer(text, delimiter=";", lineterminator="\n").writerows([names, row])
        (folder / "buf.csv").write_bytes(text.getvalue().encode(encoding))
        sources = sources.replace("encoding: latin-1", f"encoding: {encoding}")
    elif fmt == "parquet":
        pq.write_table(pa.table({n: [v] for n, v in zip(names, row)}), folder / "buf.parquet")
        sources = sources.replace("path: buf.csv\n    format: csv", "path: buf.parquet\n    format: parquet")
    else:
        import pandas as pd  # noqa: PLC0415

        pd.DataFrame([row], columns=names).to_excel(folder / "buf.xlsx", index=False)
        sources = sources.replace("path: buf.csv\n    format: csv", "path: buf.xlsx\n    format: xlsx")
    (folder / "sources.yaml").write_text(sources, encoding="utf-8")


def _staged(sources: Path):
    """Extract and stage `sources` in a fresh connection: (cases rows, table and view names)."""
    config = load_sources(sources)
    con = open_work()
    result = extract.read_all(con, config)
    stage.stage_all(con, config, result.tables)
    rows = con.execute("select * exclude (file) from cases order by all").fetchall()
    names = con.execute("select table_name from duckdb_tables() union all "
                        "select view_name from duckdb_views() where not internal order by 1").fetchall()
    databases = con.execute("select database_name from duckdb_databases() order by 1").fetchall()
    return rows, names, databases


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", NAMES)
def test_hostile_header_never_executes(name, fmt, tmp_path, canary):
    value = corpus(canary)[name]
    folder = tmp_path / "input"
    sources = write_municipality(folder)
    try:
        _write_buf(folder, fmt, value)
    except (UnicodeEncodeError, ValueError) as exc:  # latin-1 has no RTL mark; Excel has no NUL
        pytest.skip(f"{fmt} cannot hold this value ({type(exc).__name__})")
    clean = write_municipality(tmp_path / "clean")
    _write_buf(clean.parent, fmt, "extra")
    if name in REFUSED:
        with pytest.raises(InputError) as info:
            _staged(sources)
        message = str(info.value)
        assert f"buf.{fmt.split('-')[0]}:1 (source buf)" in message and "column" in message
        assert _quiet(value, message)
    else:
        rows, names, databases = _staged(sources)
        assert (rows, databases) == _staged(clean)[::2]
        assert names == _staged(clean)[1]
    assert not canary.exists()


def test_hostile_cells_are_stored_as_text(tmp_path, canary):
    values = [corpus(canary)[n] for n in PRINTABLE]
    lines = ["cpr,id,type,status,start,end,worker,team"]
    for i, value in enumerate(values):
        cells = [f"01018000{i + 10}", value, value, "AKT", "2020-01-01", "", value, value]
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerow(cells)
        lines.append(text.getvalue().rstrip("\n"))
    sources = write_municipality(tmp_path / "input", **{"job.csv": "\n".join(lines) + "\n"})
    config = load_sources(sources)
    con = open_work()
    stage.stage_all(con, config, extract.read_all(con, config).tables)
    stored = con.execute("select case_id, case_type, caseworker, team from cases where source = 'job' "
                         "order by line").fetchall()
    assert stored == [(v, v, v, v) for v in values]
    assert not canary.exists()


# --- codes and names in the sources file and rule files ----------------------------------------

def _sources_with(data_change) -> str:
    data = yaml.safe_load(SOURCES_YAML)
    data_change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


SOURCE_FIELDS = {
    # field -> (how to put the value there, the key the error names)
    "department code": (lambda d, v: d["departments"].update({v: {"name": "X", "name_en": "X"}}), "departments"),
    "department name": (lambda d, v: d["departments"]["BUF"].update(name=v), "departments.BUF.name"),
    "system": (lambda d, v: d["sources"][0].update(system=v), "sources[0].system"),
    "status": (lambda d, v: d["sources"][0]["statuses"].update({v: True}), "sources[0].statuses"),
    "case type": (lambda d, v: d["sources"][0]["case_types"].append(v), "sources[0].case_types[2]"),
    "marking code": (lambda d, v: d["sources"][0].update(marking_code=v), "sources[0].marking_code"),
    "column name": (lambda d, v: d["sources"][0]["columns"].update(team=v), "sources[0].columns.team"),
    "consent value": (lambda d, v: d["sources"][2]["consent_values"].update({v: "given"}),
                      "sources[2].consent_values"),
    "date format": (lambda d, v: d["sources"][0].update(date_format=v), "sources[0].date_format"),
}


@pytest.mark.parametrize("field", list(SOURCE_FIELDS))
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_sources_file_refuses_control_characters_and_long_codes(name, field, tmp_path, canary):
    value = corpus(canary)[name]
    put, key = SOURCE_FIELDS[field]
    sources = write_municipality(tmp_path / "input", **{"sources.yaml": _sources_with(lambda d: put(d, value))})
    with pytest.raises(ConfigError) as info:
        load_sources(sources)
    err = info.value
    assert err.file == sources and isinstance(err.line, int) and err.key.startswith(key)
    assert _quiet(value, str(err))


RULES_YAML = """\
name: hostile
rules:
  - id: buf_type
    title_da: Type
    title_en: Type
    conditions:
      - kind: case_type
        department: BUF
        case_types: [CASE_TYPE]
  - id: two
    title_da: To
    title_en: Two
    conditions:
      - kind: departments
        at_least: 2
"""

RULE_FIELDS = {
    # field -> (text to replace, its replacement with VALUE, the field the error names, its line)
    "case type": ("[CASE_TYPE]", "[VALUE]", "rules[0].conditions[0].case_types[0]", 9),
    "department": ("department: BUF", "department: VALUE", "rules[0].conditions[0].department", 8),
    "title": ("title_da: Type", "title_da: VALUE", "rules[0].title_da", 4),
    "notify": ("    title_en: Two\n", "    title_en: Two\n    notify: [VALUE]\n", "rules[1].notify[0]", 13),
    "rule id": ("id: buf_type", "id: VALUE", "rules[0].id", 3),
}


@pytest.mark.parametrize("field", list(RULE_FIELDS))
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_rule_file_refuses_control_characters_and_long_codes(name, field, tmp_path, canary):
    value = corpus(canary)[name]
    old, new, field_name, line = RULE_FIELDS[field]
    text = RULES_YAML.replace("[CASE_TYPE]", "[Forebyggende]") if field != "case type" else RULES_YAML
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new.replace("VALUE", json.dumps(value))),
                    encoding="utf-8")
    config = load_sources(write_municipality(tmp_path / "input"))
    problems = check_rules(path, config)
    assert problems, "the rule file was called valid"
    assert (problems[0].file, problems[0].line) == (path, line) and problems[0].field.startswith(field_name)
    assert all(_quiet(value, str(p)) for p in problems)


def _municipality_with_case_type(folder: Path, case_type: str, status: str) -> Path:
    """The tiny municipality with BUF's case type 'Forebyggende' and status 'Aktiv' renamed."""
    sources = _sources_with(lambda d: (d["sources"][0].update(
        case_types=[case_type, "Anbringelse"], statuses={status: True, "Passiv": False, "Afsluttet": False})))
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\n")
    writer.writerow(BUF_HEADER)
    writer.writerow([case_type if c == "Forebyggende" else status if c == "Aktiv" else c for c in BUF_ROW])
    path = write_municipality(folder, **{"sources.yaml": sources})
    (folder / "buf.csv").write_bytes(text.getvalue().encode("latin-1"))
    (folder / "rules.yaml").write_text(RULES_YAML.replace("[CASE_TYPE]", json.dumps([case_type])),
                                       encoding="utf-8")
    return path


@pytest.mark.parametrize("name", PRINTABLE)
def test_rules_check_accepts_printable_hostile_codes_as_text(name, tmp_path, canary):
    value = corpus(canary)[name]
    sources = _municipality_with_case_type(tmp_path / "input", value, value + "!")
    result = CliRunner().invoke(app, ["rules", "check", str(tmp_path / "input" / "rules.yaml"),
                                      "--sources", str(sources)])
    assert result.exit_code == 0, result.output
    assert not canary.exists()


def _targets(warehouse: Path) -> tuple[list, list]:
    import duckdb  # noqa: PLC0415

    with duckdb.connect(str(warehouse), read_only=True) as con:
        targets = con.execute("select rule_id, cpr, departments, reason_codes from targets order by all").fetchall()
        tables = con.execute("select table_name from duckdb_tables() order by 1").fetchall()
    return targets, tables


def _run_with_case_type(folder: Path, case_type: str, status: str) -> tuple[list, list]:
    from targetgroup.pipeline import RunSettings, run_pipeline  # noqa: PLC0415

    sources = _municipality_with_case_type(folder, case_type, status)
    settings = RunSettings(sources=sources, rules=sources.parent / "rules.yaml", as_of=date(2026, 11, 1),
                           out=folder / "reports")
    run_pipeline(settings)
    return _targets(settings.warehouse_path)


@pytest.fixture(scope="module")
def clean_case_type_run(tmp_path_factory) -> tuple[list, list]:
    """Targets and tables of the run with the plain case type 'Forebyggende' and status 'Aktiv'."""
    return _run_with_case_type(tmp_path_factory.mktemp("clean"), "Forebyggende", "Aktiv")


@pytest.mark.slow
@pytest.mark.parametrize("name", PRINTABLE)
def test_run_with_hostile_case_type_and_status_equals_the_clean_run(name, tmp_path, canary, clean_case_type_run):
    """A case type and a status that read as SQL select the same citizens as plain ones."""
    value = corpus(canary)[name]
    assert _run_with_case_type(tmp_path / "hostile", value, value + "!") == clean_case_type_run
    assert any(rule == "buf_type" for rule, *_ in clean_case_type_run[0])
    assert not canary.exists()


@pytest.mark.parametrize("name", ["newline", "nul", "rtl"])
def test_run_stops_with_a_config_error_on_a_refused_code(name, tmp_path, canary):
    value = corpus(canary)[name]
    sources = write_municipality(tmp_path / "input", **{"sources.yaml": _sources_with(
        lambda d: d["sources"][0]["case_types"].append(value))})
    result = CliRunner().invoke(app, ["run", "--sources", str(sources), "--as-of", "2026-11-01",
                                      "--out", str(tmp_path / "reports"), "-q"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "sources.yaml:" in result.output and "case_types" in result.output
    assert not canary.exists() and not (tmp_path / "reports" / "warehouse.duckdb").exists()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv-latin-1", "parquet"])
def test_run_and_validate_with_every_printable_hostile_header(fmt, tmp_path, canary):
    """All printable hostile headers at once, through the CLI's validate and run."""
    from targetgroup.pipeline import RunSettings, run_pipeline  # noqa: PLC0415

    values = [corpus(canary)[n] for n in PRINTABLE]
    folder = tmp_path / "input"
    sources = write_municipality(folder)
    _write_buf(folder, fmt, values[0])
    if fmt == "parquet":
        table = pq.read_table(folder / "buf.parquet")
        for value in values[1:]:
            table = table.append_column(value, pa.array(["x"]))
        pq.write_table(table, folder / "buf.parquet")
    else:
        rows = list(csv.reader(io.StringIO((folder / "buf.csv").read_text(encoding="latin-1")), delimiter=";"))
        text = io.StringIO()
        csv.writer(text, delimiter=";", lineterminator="\n").writerows(
            [rows[0] + values[1:], rows[1] + ["x"] * (len(values) - 1)])
        (folder / "buf.csv").write_bytes(text.getvalue().encode("latin-1"))
    result = CliRunner().invoke(app, ["validate", "--sources", str(sources), "--as-of", "2026-11-01",
                                      "--out", str(tmp_path / "validate"), "-q"])
    assert result.exit_code == 0, result.output
    clean = write_municipality(tmp_path / "clean")
    _write_buf(clean.parent, fmt, "extra")
    runs = {}
    for label, path in (("clean", clean), ("hostile", sources)):
        settings = RunSettings(sources=path, as_of=date(2026, 11, 1), out=tmp_path / label / "reports")
        run_pipeline(settings)
        runs[label] = _targets(settings.warehouse_path)
        flags = sorted((settings.out).glob("*/flags_*.csv"))
        runs[label + " flags"] = [f.read_text(encoding="utf-8-sig") for f in flags]
    assert runs["hostile"] == runs["clean"] and runs["hostile flags"] == runs["clean flags"]
    assert runs["clean flags"], "the run wrote no flag lists"
    assert not canary.exists()
