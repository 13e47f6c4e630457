"""Stable action ids: the same change to the same marking has the same id in every run."""

from __future__ import annotations

import hashlib

import duckdb

from targetgroup.deliver.actions import ACTIONS_SQL

ROWS = [  # system, action, cpr, marking_code, start, end, reason
    ("Momentum", "create", "0101800001", "PGM", "2026-11-01", None, "coordinated course: JOB, SOC"),
    ("Momentum", "end", "0303900004", "PGM", "2026-10-01", "2026-11-01", "case closed in JOB"),
    ("Momentum", "create", "0606900007", "PGM", "2026-10-01", None, "missing in the system, create again: JOB, SOC"),
]


def _ids(as_of: str) -> dict[str, str]:
    con = duckdb.connect()
    con.execute("""create table reg_actions (system varchar, action varchar, cpr varchar, marking_code varchar,
                   start_date date, end_date date, reason varchar, rule_ids varchar[], flag_ids varchar[])""")
    con.executemany("insert into reg_actions values (?, ?, ?, ?, ?, ?, ?, ['r1'], ['F0000001'])", ROWS)
    return dict(con.execute(f"select cpr, action_id from ({ACTIONS_SQL})", [as_of, "odense", "0" * 64, "Momentum"]).fetchall())


def _expected(row: tuple, as_of: str = "") -> str:
    system, action, cpr, code, start, end, reason = row
    text = "|".join([system, action, cpr, code, start, end or "", reason, as_of])
    return "A" + hashlib.sha256(text.encode()).hexdigest()[:16]


def test_action_ids_are_the_hash_of_the_change_and_stable_across_runs():
    first, rerun = _ids("2026-11-01"), _ids("2026-11-02")
    assert first["0101800001"] == rerun["0101800001"] == _expected(ROWS[0])
    assert first["0303900004"] == rerun["0303900004"] == _expected(ROWS[1])
    # a create issued again because the system lost the marking is a new action each night
    assert first["0606900007"] == _expected(ROWS[2], "2026-11-01") != rerun["0606900007"]
    assert len(set(first.values())) == 3
