"""The volume guard (validate/volume.py): each threshold and both halves, rows and active cases,
in both directions; its active cases are "active on D" by the one definition (test_active.py).

The numbers are written by hand: a drop of exactly the threshold is allowed, one case more stops.
"""

from __future__ import annotations

from datetime import date

import pytest

from targetgroup.validate.volume import Volume, current, problems
from targetgroup.warehouse import open_work

D = date(2026, 11, 1)


def _volume(rows: int, active: int | None, last_rows: int | None = 100, last_active: int | None = 100) -> Volume:
    return Volume("job", rows, active, last_rows, last_active, "R1" if last_rows is not None else None)


@pytest.mark.parametrize(("threshold", "kept", "stops"), [
    (0.20, 80, False), (0.20, 79, True),     # the default: 20 % allowed, 21 % stops
    (0.60, 40, False), (0.60, 39, True),     # a generous municipality: 60 % allowed
    (0.05, 95, False), (0.05, 94, True),     # a strict one
])
@pytest.mark.parametrize("half", ["rows", "active cases"])
def test_each_threshold_and_each_half_in_both_directions(threshold, kept, stops, half):
    v = _volume(kept, 100) if half == "rows" else _volume(100, kept)
    stop, allowed = problems([v], threshold, frozenset())
    assert allowed == []
    if stops:
        assert stop == [f"source job: {half} dropped from 100 to {kept} ({(100 - kept) / 100:.0%}, more than the "
                        f"{threshold:.0%} allowed) since run R1"]
    else:
        assert stop == []


def test_both_halves_at_once_give_two_problems():
    stop, _ = problems([_volume(50, 10)], 0.2, frozenset())
    assert [p.split(":")[1].strip().split(" dropped")[0] for p in stop] == ["rows", "active cases"]


@pytest.mark.parametrize("volume", [
    _volume(150, 150),                              # growth never stops a run
    _volume(10, 10, last_rows=None, last_active=None),   # no earlier run to compare with
    _volume(100, None, last_active=None),           # the person extract has no active cases
])
def test_no_problem(volume):
    assert problems([volume], 0.2, frozenset()) == ([], [])


def test_an_empty_extract_stops_even_without_history_and_allow_drop_moves_it_to_warnings():
    empty = _volume(0, 0, last_rows=None, last_active=None)
    assert problems([empty], 0.2, frozenset()) == (["source job: the extract is empty (0 rows)"], [])
    assert problems([empty], 0.2, frozenset({"job"})) == ([], ["source job: the extract is empty (0 rows)"])
    assert problems([_volume(50, 100)], 0.2, frozenset({"soc"}))[0]     # allowing another source does nothing


def test_active_cases_are_active_on_d_by_the_one_definition():
    con = open_work(threads=1)
    con.execute("create table cases (source varchar, active boolean, in_register boolean, start_date date, "
                "end_date date)")
    con.executemany("insert into cases values (?, ?, ?, ?, ?)", [
        ("job", True, True, "2025-01-01", "2026-11-01"),    # ends on D: active
        ("job", True, True, "2026-11-01", None),            # starts on D: active
        ("job", True, True, "2025-01-01", "2026-10-31"),    # ended the day before
        ("job", True, True, "2026-11-02", None),            # starts the day after
        ("job", False, True, "2025-01-01", None),           # passive status
        ("job", True, False, "2025-01-01", None),           # CPR not in the person extract
        ("soc", True, True, "2020-01-01", None),
    ])
    try:
        counts = current(con, {"job": 6, "soc": 1, "persons": 9}, "persons", D)
    finally:
        con.close()
    assert counts == {"job": (6, 2), "soc": (1, 1), "persons": (9, None)}
