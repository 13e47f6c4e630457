"""Courses (coordinated courses over time) from the flag history and this run's flag status."""

from datetime import date

import duckdb
import pytest

from targetgroup.deliver import status
from targetgroup.warehouse import open_work

AS_OF = date(2026, 11, 1)
RULE = "default.two_departments"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = open_work()
    con.execute("""create temp table hist_runs as select * from (values
        ('r1', date '2026-09-01', timestamp '2026-09-01 04:00', 3, 3, 3, 0, 0),
        ('r2', date '2026-10-01', timestamp '2026-10-01 04:00', 4, 4, 2, 1, 1))
        t(run_id, as_of, started_at, targets, citizens_flagged, flags_new, flags_continuing, flags_ended)""")
    con.execute(f"""create temp table hist_targets as
        select run_id, as_of::date as as_of, '{RULE}' as rule_id, cpr as subject_id, cpr, null::varchar as family_id,
               departments::varchar[] as departments
        from (values
            ('r1', '2026-09-01', '0000000001', ['JOB', 'SOC']),
            ('r1', '2026-09-01', '0000000002', ['JOB', 'SOC']),
            ('r1', '2026-09-01', '0000000003', ['JOB', 'SOC']),
            ('r2', '2026-10-01', '0000000001', ['JOB', 'SOC']),
            ('r2', '2026-10-01', '0000000002', ['JOB', 'SOC']),
            ('r2', '2026-10-01', '0000000005', ['JOB', 'SOC']),
            ('r2', '2026-10-01', '0000000006', ['JOB', 'SOC'])) t(run_id, as_of, cpr, departments)""")
    con.execute(f"""create temp table targets as
        select '{RULE}' as rule_id, 'person' as subject_type, cpr as subject_id, cpr, null::varchar as family_id,
               departments::varchar[] as departments, []::varchar[] as case_keys,
               ['DEPTS_GE_2'] as reason_codes, departments::varchar[] as notify_departments
        from (values ('0000000001', ['JOB', 'SOC']), ('0000000002', ['BUF', 'JOB', 'SOC']),
                     ('0000000003', ['JOB', 'SOC']), ('0000000004', ['BUF', 'SOC'])) t(cpr, departments)""")
    con.execute("""create temp table persons as select * from (values
        ('0000000005', date '2026-10-20', null::date), ('0000000006', null::date, null::date))
        t(cpr, death_date, moved_away_date)""")
    con.execute("""create temp table active_cases as select * from (values
        ('0000000006', 'SOC', 'S9', date '2020-01-01', 'Sara', 'Voksen'),
        ('0000000001', 'JOB', 'J1', date '2020-01-01', 'Jens', 'Team A'),
        ('0000000001', 'SOC', 'S1', date '2019-01-01', 'Sara', 'Voksen'))
        t(cpr, department, case_id, start_date, caseworker, team)""")
    return con


def test_courses_from_history_and_this_run(con):
    con.execute("""create temp table flag_status as select 'R' as rule_id, 's' as subject_id, '0000000001' as cpr,
                   null::varchar as family_id, 'new' as change, 'F1' as flag_id, date '2026-11-01' as flag_valid_from,
                   null::varchar as end_reason, ['JOB', 'SOC'] as departments""")
    con.execute("create temp table hist_flags as select 'F0' as flag_id, 'R' as rule_id, "
                "date '2026-01-01' as valid_from, date '2026-06-01' as valid_to")
    status.build_courses(con, AS_OF)
    assert con.execute("select flag_id, ongoing from courses order by flag_id").fetchall() == [
        ("F0", False), ("F1", True)]


def test_load_history_without_warehouse_gives_empty_tables(tmp_path):
    con = open_work()
    assert status.load_history(con, tmp_path / "none.duckdb") == 0
    assert con.execute("select count(*) from hist_targets").fetchone()[0] == 0


def test_courses_durations_and_coordinator(con):
    con.execute("""create temp table hist_flags as select * from (values
        ('F1', 'R', date '2026-09-01', null::date),
        ('F5', 'R', date '2026-10-01', null::date),
        ('F3', 'R', date '2026-09-01', date '2026-10-01')) t(flag_id, rule_id, valid_from, valid_to)""")
    con.execute("""create temp table flag_status as select * from (values
        ('R', '0000000001', '0000000001', 'continuing', 'F1', date '2026-09-01', null, ['JOB', 'SOC']),
        ('R', '0000000005', '0000000005', 'ended', 'F5', date '2026-10-01', 'died', ['JOB', 'SOC']))
        t(rule_id, subject_id, cpr, change, flag_id, flag_valid_from, end_reason, departments)""")
    status.build_courses(con, AS_OF)
    rows = {r[0]: r[1:] for r in con.execute(
        "select flag_id, ongoing, valid_to, duration_days, coordinator, team from courses order by flag_id").fetchall()}
    assert rows["F1"] == (True, None, 61, "Sara", "Voksen")  # the SOC case started first: its caseworker
    assert rows["F5"][:3] == (False, AS_OF, 31)
    assert rows["F3"][:3] == (False, date(2026, 10, 1), 30)
