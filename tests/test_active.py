"""Active on D: status, start and end boundaries; alive and resident on D (DOMAIN.md)."""

from __future__ import annotations

from datetime import date

import pytest

from targetgroup.warehouse import open_work, run_sql

D = date(2026, 11, 1)

# (case_id, active status?, start, end) -> expected active on D
BOUNDARIES = [
    ("start_is_D", True, "2026-11-01", None, True),
    ("end_is_D", True, "2025-01-01", "2026-11-01", True),
    ("end_is_D_minus_1", True, "2025-01-01", "2026-10-31", False),
    ("start_is_D_plus_1", True, "2026-11-02", None, False),
    ("empty_end", True, "2000-01-01", None, True),
    ("status_passive", False, "2025-01-01", None, False),
]


def _connection(persons: list[tuple], cases: list[tuple]):
    con = open_work()
    con.execute("""create table persons (cpr varchar, name varchar, birth_date date, household_id varchar,
                   mother_cpr varchar, father_cpr varchar, death_date date, moved_away_date date,
                   protected boolean, area varchar)""")
    con.execute("""create table cases (source varchar, department varchar, system varchar, cpr varchar,
                   case_id varchar, case_type varchar, status varchar, active boolean, start_date date,
                   end_date date, caseworker varchar, team varchar, consent varchar, in_register boolean)""")
    con.executemany("insert into persons values (?, 'X', ?, 'H', null, null, ?, ?, false, null)", persons)
    if cases:
        con.executemany("insert into cases values ('s', 'JOB', 'sys', ?, ?, 't', 'st', ?, ?, ?, 'w', 'team', null, ?)",
                        cases)
    run_sql(con, "active.sql", {"as_of": D})
    return con


@pytest.mark.parametrize(("case_id", "active", "start", "end", "expected"), BOUNDARIES)
def test_active_on_d_boundaries(case_id, active, start, end, expected):
    con = _connection([("0101900001", "1990-01-01", None, None)],
                      [("0101900001", case_id, active, start, end, True)])
    got = con.execute("select count(*) from active_cases").fetchone()[0]
    assert got == int(expected), case_id


@pytest.mark.parametrize(("death", "moved", "resident"), [
    (None, None, True),
    ("2026-11-01", None, False),     # dies on D: not in the target group on D
    ("2026-11-02", None, True),
    (None, "2026-11-01", False),     # moves away on D
    (None, "2026-10-01", False),
    (None, "2027-01-01", True),
])
def test_alive_and_resident_on_d(death, moved, resident):
    con = _connection([("0101900001", "1990-01-01", death, moved)],
                      [("0101900001", "c1", True, "2020-01-01", None, True)])
    assert con.execute("select count(*) from residents").fetchone()[0] == int(resident)
    assert con.execute("select count(*) from active_cases").fetchone()[0] == int(resident)


def test_case_for_cpr_not_in_register_is_not_used():
    con = _connection([("0101900001", "1990-01-01", None, None)],
                      [("0202900002", "c1", True, "2020-01-01", None, False)])
    assert con.execute("select count(*) from active_cases").fetchone()[0] == 0


@pytest.mark.parametrize(("birth", "age", "minor"), [
    ("2008-11-01", 18, False),   # turns 18 on D: an adult on D
    ("2008-11-02", 17, True),
    ("1990-02-28", 36, False),
])
def test_age_and_minor_on_d(birth, age, minor):
    con = _connection([("0101900001", birth, None, None)], [])
    assert con.execute("select age, minor from residents").fetchone() == (age, minor)
