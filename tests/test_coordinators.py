"""Recorded coordinators: the record in force wins over the guess, handovers, files and the CLI.

Fake CPR numbers (serial 000x). The expected coordinators are written by hand.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import SOURCES_YAML, write_municipality
from targetgroup import coordinators
from targetgroup.cli import app
from targetgroup.config import load_sources
from targetgroup.deliver import status
from targetgroup.errors import InputError
from targetgroup.warehouse import run_sql

X, Y, Z, W = "0101800011", "0101800012", "0101800013", "0101800014"
AS_OF = date(2026, 11, 1)


def _courses(records: list[tuple]) -> dict[str, tuple]:
    con = duckdb.connect()
    try:
        con.execute("create temp table hist_flags (flag_id varchar, rule_id varchar, valid_from date, valid_to date)")
        con.execute("""create temp table flag_status (flag_id varchar, rule_id varchar, subject_type varchar,
                       cpr varchar, change varchar, flag_valid_from date, departments varchar[])""")
        con.executemany("insert into flag_status values (?, 'two', 'person', ?, ?, ?, ['BUF', 'JOB'])",
                        [("F1", X, "continuing", date(2025, 1, 1)), ("F2", Y, "continuing", date(2025, 1, 1)),
                         ("F3", Z, "new", AS_OF), ("F4", W, "new", AS_OF)])
        con.execute("""create temp table active_cases as select * from (values
            (?, 'BUF', date '2020-01-01', 'Bo Gæt', 'Familie'), (?, 'JOB', date '2021-01-01', 'Jo Job', 'Job'),
            (?, 'BUF', date '2020-01-01', 'Bo Gæt', 'Familie'), (?, 'JOB', date '2019-01-01', 'Jo Job', 'Job'),
            (?, 'BUF', date '2020-01-01', 'Bo Gæt', 'Familie'), (?, 'JOB', date '2021-01-01', 'Jo Job', 'Job'),
            (?, 'BUF', date '2020-01-01', 'Bo Gæt', 'Familie'), (?, 'JOB', date '2021-01-01', 'Jo Job', 'Job')
        ) as t(cpr, department, start_date, caseworker, team)""", [X, X, Y, Y, Z, Z, W, W])
        con.execute(coordinators.RECORDS_EMPTY.format(name="coordinator_records"))
        if records:
            con.executemany("insert into coordinator_records values (?, ?, ?, ?, ?, ?, 'AB', 'BUF', 'test', now())",
                            records)
        status.build_courses(con, AS_OF)
        return {r[0]: r[1:] for r in con.execute(
            "select flag_id, coordinator, team, coordinator_source from courses").fetchall()}
    finally:
        con.close()


def test_the_record_in_force_wins_and_the_guess_fills_the_rest():
    got = _courses([
        ("T000001", X, "*", "Rita Registreret", "Team R", date(2026, 1, 1)),
        ("T000002", X, "two", "Hans Handover", "Voksen", date(2026, 6, 1)),     # handover: later from
        ("T000003", Y, "two", "Fie Fremtid", "Team F", date(2027, 1, 1)),      # not yet in force
        ("T000004", Z, "other", "Otto Anden", "Team O", date(2026, 1, 1)),     # another rule's course
        ("T000005", W, "*", "Willy Alle", None, date(2026, 11, 1)),           # from the as-of date itself
    ])
    assert got == {
        "F1": ("Hans Handover", "Voksen", "recorded"),
        "F2": ("Jo Job", "Job", "guessed"),        # JOB served Y longest (2019)
        "F3": ("Bo Gæt", "Familie", "guessed"),
        "F4": ("Willy Alle", None, "recorded"),
    }


def test_without_records_every_coordinator_is_the_guess():
    assert {k: v[2] for k, v in _courses([]).items()} == dict.fromkeys(("F1", "F2", "F3", "F4"), "guessed")


def _import(tmp_path, text: str) -> duckdb.DuckDBPyConnection:
    sources = write_municipality(tmp_path / "in", **{"sources.yaml": SOURCES_YAML + "coordinators: tovholdere\n"})
    (tmp_path / "in" / "tovholdere").mkdir()
    (tmp_path / "in" / "tovholdere" / "BUF.csv").write_text(text, encoding="utf-8")
    config = load_sources(sources)
    con = duckdb.connect()
    run_sql(con, "macros.sql")
    coordinators.import_files(con, config, config.base / config.coordinators, None)
    return con


def test_a_department_file_is_read_with_rule_team_and_date(tmp_path):
    con = _import(tmp_path, "cpr,coordinator,team,from,recorded_by\n"
                            "010180-0011,Rita Registreret,Team R,01-02-2026,AB\n"
                            "0101800012,Hans Handover,,2026-03-01,CD\n")
    rows = con.execute("""select coordinator_id, cpr, rule_id, coordinator, team, from_date, recorded_in_department,
                                 origin from coordinator_new order by coordinator_id""").fetchall()
    assert rows == [("T000001", X, "*", "Rita Registreret", "Team R", date(2026, 2, 1), "BUF", "file BUF.csv line 2"),
                    ("T000002", Y, "*", "Hans Handover", None, date(2026, 3, 1), "BUF", "file BUF.csv line 3")]


def test_a_bad_line_names_file_and_line_without_the_value(tmp_path):
    with pytest.raises(InputError) as caught:
        _import(tmp_path, "cpr,coordinator,from,recorded_by\n010180-0011,Rita,1 februar,AB\n")
    text = str(caught.value)
    assert "BUF.csv:2" in text and "from is not a date" in text and "februar" not in text
    with pytest.raises(InputError) as caught:
        _import(tmp_path / "b", "cpr,coordinator,from,recorded_by\n12345,Rita,2026-01-01,AB\n")
    assert "BUF.csv:2" in str(caught.value) and "12345" not in str(caught.value)


def test_the_cli_records_a_coordinator_and_a_handover_and_lists_them(tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    cpr = f"{X[:6]}-{X[6:]}"
    first = runner.invoke(app, ["coordinator", "--cpr", cpr, "--name", "Rita Registreret", "--team", "Team R",
                                "--from", "2026-01-01", "--by", "AB", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert "T000001" in first.output and X[6:] not in first.output
    handover = runner.invoke(app, ["coordinator", "--cpr", cpr, "--name", "Hans Handover", "--rule", "two",
                                   "--from", "2026-06-01", "--by", "CD", "--out", str(out)])
    assert handover.exit_code == 0, handover.output
    listed = runner.invoke(app, ["coordinator", "--cpr", cpr, "--list", "--out", str(out)])
    assert listed.exit_code == 0
    assert listed.output.index("Hans Handover") < listed.output.index("Rita Registreret")   # newest first
    missing = runner.invoke(app, ["coordinator", "--cpr", cpr, "--name", "Rita", "--out", str(out)])
    assert missing.exit_code != 0 and "--by" in missing.output
