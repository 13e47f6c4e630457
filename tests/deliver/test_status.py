"""Flag status without the register (derived from targets over runs), and courses."""

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


def test_derived_flag_status_new_continuing_updated_ended(con):
    assert status.ensure_flag_status(con, "r3", AS_OF) == "derived"
    got = {r[0]: r[1:] for r in con.execute(
        "select cpr, change, flag_valid_from, end_reason from flag_status order by cpr").fetchall()}
    assert got == {
        "0000000001": ("continuing", date(2026, 9, 1), None),
        "0000000002": ("updated", date(2026, 9, 1), None),
        "0000000003": ("new", AS_OF, None),          # absent in r2: a new course
        "0000000004": ("new", AS_OF, None),
        "0000000005": ("ended", date(2026, 10, 1), "died"),
        "0000000006": ("ended", date(2026, 10, 1), "CASE_CLOSED_JOB"),
    }
    assert status.change_counts(con) == {"new": 2, "continuing": 2, "ended": 2}
    # flag ids are stable across runs and carry no CPR
    ids = dict(con.execute("select cpr, flag_id from flag_status").fetchall())
    assert ids["0000000001"].startswith("r1-") and ids["0000000003"].startswith("r3-")
    assert not any("0000000" in i for i in ids.values())


def test_courses_durations_and_coordinator(con):
    status.ensure_flag_status(con, "r3", AS_OF)
    status.build_courses(con, AS_OF)
    rows = {r[0]: r[1:] for r in con.execute(
        """select f.cpr, c.ongoing, c.valid_to, c.duration_days, c.coordinator, c.team
           from courses as c join flag_status as f using (flag_id) order by f.cpr""").fetchall()}
    assert rows["0000000001"] == (True, None, 61, "Sara", "Voksen")  # SOC case started first
    assert rows["0000000005"][:3] == (False, AS_OF, 31)
    # the island of 0000000003 in r1 ended when r2 did not have it
    closed = con.execute("select valid_from, valid_to from courses where valid_to = date '2026-10-01'").fetchall()
    assert closed == [(date(2026, 9, 1), date(2026, 10, 1))]


def test_register_flag_status_is_used_when_present(con):
    con.execute("""create temp table flag_status as select 'R' as rule_id, 's' as subject_id, '0000000001' as cpr,
                   null::varchar as family_id, 'new' as change, 'F1' as flag_id, date '2026-11-01' as flag_valid_from,
                   null::varchar as end_reason, ['JOB', 'SOC'] as departments""")
    con.execute("create temp table hist_flags as select 'F0' as flag_id, 'R' as rule_id, "
                "date '2026-01-01' as valid_from, date '2026-06-01' as valid_to")
    assert status.ensure_flag_status(con, "r3", AS_OF) == "register"
    status.build_courses(con, AS_OF)
    assert con.execute("select flag_id, ongoing from courses order by flag_id").fetchall() == [
        ("F0", False), ("F1", True)]


def test_load_history_without_warehouse_gives_empty_tables(tmp_path):
    con = open_work()
    assert status.load_history(con, tmp_path / "none.duckdb") == 0
    assert con.execute("select count(*) from hist_targets").fetchone()[0] == 0
