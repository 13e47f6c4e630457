"""The disclosure audit on hand-written reports: the three attacks of issue 11 §3, and rounding.

Every report here is written by hand; the expected ranges are worked out by hand in the comments.
"""

from datetime import date

import pandas as pd
import pytest

from targetgroup.deliver.audit import audit, read_report, report_from_frame
from targetgroup.errors import InputError

RUN_A, RUN_B = ("20261001T040000-aaaa", date(2026, 10, 1)), ("20261101T040000-bbbb", date(2026, 11, 1))


def report(rows: list[tuple], run=RUN_B, rounded: int | str = "") -> object:
    frame = pd.DataFrame(rows, columns=["breakdown", "group", "subgroup", "count"])
    frame["rounded_to"] = str(rounded)
    return report_from_frame(frame, run[0], run[1], name=run[1].isoformat())


def ranges(result) -> dict[str, tuple]:
    return {c.label.split(" ", 1)[1] if c.label[:4].isdigit() else c.label: (c.lo, c.hi) for c in result.cells}


# Departments A, B, C. True counts: A+B 12, A+C 3, B+C 2, A+B+C 13; total 30; A 28, B 27, C 18.
# The old method hid A+C and B+C (<5) and, to protect them in A = A+B + A+C + A+B+C, A+B (•).
OLD_COMBOS = [("total", "all", "", "30"), ("flags_new", "all", "", "0"), ("flags_ended", "all", "", "0"),
              ("department_combination", "A+B", "", "•"), ("department_combination", "A+C", "", "<5"),
              ("department_combination", "B+C", "", "<5"), ("department_combination", "A+B+C", "", "13"),
              ("department", "A", "", "28"), ("department", "B", "", "27"), ("department", "C", "", "18")]


def test_suppressed_combinations_are_solved_from_the_margins():
    # A: AB + AC = 15, B: AB + BC = 14, C: AC + BC = 5, so AB + AC + BC = 17: AB 12, AC 3, BC 2
    result = audit([report(OLD_COMBOS)])
    got = ranges(result)
    assert got["department_combination A+B"] == (12, 12)
    assert got["department_combination A+C"] == (3, 3)
    assert got["department_combination B+C"] == (2, 2)
    assert not result.passed and len(result.pinned) == 3


def test_new_and_ended_follow_from_the_size_series():
    # one rule; size 377 -> 373 with new '•' (a hidden 0) and ended '<5': ended - new = 4, ended <= 4
    rows = [("total_history", RUN_A[1].isoformat(), RUN_A[0], "377"), ("flags_new_history", "2026-10-01", RUN_A[0], "377"),
            ("flags_ended_history", "2026-10-01", RUN_A[0], "0"),
            ("total", "all", "", "373"), ("flags_new", "all", "", "•"), ("flags_ended", "all", "", "<5"),
            ("rule", "r1", "", "373")]
    got = ranges(audit([report(rows)]))
    assert got["new of run 2026-11-01"] == (0, 0)
    assert got["ended of run 2026-11-01"] == (4, 4)


def test_cumulative_ended_across_two_reports_gives_the_run_s_ended():
    # report A: 25 courses ended so far; report B (next run): 29, and B's ended this run '<5' -> 4
    before = report([("total", "all", "", "400"), ("flags_new", "all", "", "12"), ("flags_ended", "all", "", "8"),
                     ("courses", "ended", "", "25")], run=RUN_A)
    after = report([("total_history", "2026-10-01", RUN_A[0], "400"), ("flags_new_history", "2026-10-01", RUN_A[0], "12"),
                    ("flags_ended_history", "2026-10-01", RUN_A[0], "8"),
                    ("total", "all", "", "396"), ("flags_new", "all", "", "•"), ("flags_ended", "all", "", "<5"),
                    ("courses", "ended", "", "29")])
    alone = ranges(audit([after]))
    assert alone["ended of run 2026-11-01"] == (1, 4)  # '<5' alone: already fewer than 5 values
    got = ranges(audit([before, after]))
    assert got["ended of run 2026-11-01"] == (4, 4)


def test_ongoing_courses_across_two_reports_give_the_run_s_new():
    # ongoing courses 400 -> 396 while the run ended 5 (published exactly): new = 1, not just "<5"
    before = report([("total", "all", "", "400"), ("courses", "ongoing", "", "400")], run=RUN_A)
    after = report([("total_history", "2026-10-01", RUN_A[0], "400"), ("flags_new_history", "2026-10-01", RUN_A[0], "9"),
                    ("flags_ended_history", "2026-10-01", RUN_A[0], "8"), ("total", "all", "", "396"),
                    ("flags_new", "all", "", "<5"), ("flags_ended", "all", "", "5"), ("courses", "ongoing", "", "396")])
    assert ranges(audit([after]))["new of run 2026-11-01"] == (1, 4)
    assert ranges(audit([before, after]))["new of run 2026-11-01"] == (1, 1)


def test_rounded_figures_keep_every_cell_wide():
    # the same municipality rounded to base 5 (totals rounded on their own): 30, AB 10, AC 5, BC 0,
    # ABC 15, A 30, B 25, C 20. Every combination keeps at least 5 possible values.
    rows = [("total", "all", "", "30"), ("department_combination", "A+B", "", "10"),
            ("department_combination", "A+C", "", "5"), ("department_combination", "B+C", "", "0"),
            ("department_combination", "A+B+C", "", "15"), ("department", "A", "", "30"),
            ("department", "B", "", "25"), ("department", "C", "", "20")]
    result = audit([report(rows, rounded=5)])
    assert result.passed, [(c.label, c.lo, c.hi) for c in result.pinned]
    got = ranges(result)
    assert got["department_combination B+C"][0] == 0 and got["department_combination B+C"][1] >= 4
    assert len(result.cells) == len(rows)


def test_rounding_that_pins_a_cell_is_caught():
    # ended courses rounded down to 0 (true 0..4) but one duration bucket rounded up to 5 (true
    # 1..9): both are 1..4 (pinned: not 0, fewer than 5 values); the other buckets are 0..3,
    # narrower than before but still possibly 0, so not pinned
    buckets = ("dur_lt3m", "dur_3_6m", "dur_6_12m", "dur_1_2y", "dur_ge2y")
    rows = [("courses", "ended", "", "0"), *[("course_duration", b, "ended", "5" if b == "dur_lt3m" else "0")
                                             for b in buckets]]
    result = audit([report(rows, rounded=5)])
    got = {c.label.split(" ", 1)[1]: (c.lo, c.hi) for c in result.cells}
    assert got == {"courses ended": (1, 4), "course_duration dur_lt3m ended": (1, 4),
                   **{f"course_duration {b} ended": (0, 3) for b in buckets[1:]}}
    assert {c.label.split(" ", 1)[1] for c in result.pinned} == {"courses ended", "course_duration dur_lt3m ended"}


def test_contradicting_figures_are_an_error_not_a_pass():
    # a department is the sum of its combinations by construction: 28 <> 10
    rows = [("total", "all", "", "30"), ("department_combination", "A+B", "", "10"), ("department", "A", "", "28")]
    with pytest.raises(InputError, match="contradict"):
        audit([report(rows)])


def test_a_relation_that_does_not_hold_is_left_out_not_an_error():
    # total 30 but combinations 10: some flagged citizen has no active case (included by hand);
    # "total = sum of combinations" does not hold here, so a reader cannot use it either
    rows = [("total", "all", "", "30"), ("department_combination", "A+B", "", "<5"),
            ("department_combination", "A+C", "", "10")]
    result = audit([report(rows)])
    assert result.dropped == ["2026-11-01: every citizen flagged has a combination"]
    assert [(c.lo, c.hi) for c in result.cells] == [(1, 4)]


def test_a_folder_without_counts_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="leadership_counts.csv"):
        read_report(tmp_path)


def test_a_run_figure_hidden_in_its_report_stays_hidden_in_the_next():
    from targetgroup.deliver.figures import _hidden_series

    rows = [("total_history", "2026-10-01", RUN_A[0], "•"), ("flags_new_history", "2026-10-01", RUN_A[0], "10"),
            ("total", "all", "", "400"), ("flags_ended", "all", "", "•"), ("courses", "ended", "", "•")]
    assert _hidden_series(report(rows, rounded=5)) == {("size", RUN_A[0]), ("ended", RUN_B[0])}


def test_the_first_run_s_new_is_its_size():
    # one rule, the first run of all: every flag is new; size 400 (396..404) and new 405
    # (401..409) rounded on their own leave 401..404
    rows = [("total", "all", "", "400"), ("flags_new", "all", "", "405"), ("flags_ended", "all", "", "0"),
            ("rule", "r1", "", "400")]
    result = audit([report(rows, run=RUN_A, rounded=5)])
    assert ranges(result)["total of run 2026-10-01"] == (401, 404) and not result.passed


def test_outcome_relations_pin_a_follow_up_count_that_its_cohort_bounds():
    # cohort shown 0 (0..4), followed shown 5 (1..9): followed <= cohort leaves 1..4, pinned;
    # the departments split (0 + 1 + 2+ = followed, all shown 0) pins it as well
    rows = [("total", "all", "", "10"), ("outcomes", "ended:2026Q1", "cohort", "0"),
            ("outcomes", "ended:2026Q1", "3m:followed", "5"), ("outcomes", "ended:2026Q1", "3m:back_in_group", "5"),
            ("outcomes", "ended:2026Q1", "3m:departments_0", "5"), ("outcomes", "ended:2026Q1", "3m:departments_1", "0"),
            ("outcomes", "ended:2026Q1", "3m:departments_2p", "0"), ("outcomes", "ended:2026Q1", "3m:benefit", "0"),
            ("outcomes", "ended:2026Q1", "3m:education", "0")]
    found = ranges(audit([report(rows, rounded=5)]))
    assert found["outcomes ended:2026Q1 3m:followed"] == (1, 4)
    assert found["outcomes ended:2026Q1 3m:back_in_group"] == (1, 4)   # 1..9 and <= followed
    alone = [r for r in rows if r[2] in ("3m:followed",)] + [("total", "all", "", "10")]
    assert ranges(audit([report(alone, rounded=5)]))["outcomes ended:2026Q1 3m:followed"] == (1, 9)


def _caseload_rows(ongoing, buckets, total, over, within, capacity):
    return [("total", "all", "", "100"), ("courses", "ongoing", "", ongoing),
            ("coordinators_by_courses", "total", "", total),
            *[("coordinators_by_courses", b, "", n) for b, n in zip(("coord_1", "coord_2", "coord_3_4", "coord_5p"), buckets)],
            ("caseload_against_capacity", "caseworkers_over", f"capacity_{capacity}", over),
            ("caseload_against_capacity", "caseworkers_within", f"capacity_{capacity}", within)]


def test_caseload_relations_bound_the_coordinators_over_and_within_capacity():
    # every figure rounded to 5: shown R means R-4 .. R+4 (at least 0)
    over, within = "caseload_against_capacity caseworkers_over", "caseload_against_capacity caseworkers_within"
    # over + within = coordinators (1..9, = c1 + c5p): within shown 10 (6..14) -> 6..9
    rows = _caseload_rows("100", ["5", "0", "0", "0"], "5", "0", "10", 20)
    assert ranges(audit([report(rows, rounded=5)]))[f"{within} capacity_20"] == (6, 9)
    # each coordinator over 20 holds 21+ courses: 21*over + within <= ongoing (46..54), within >= 1
    # -> over <= 2 (without it: 1..9)
    rows = _caseload_rows("50", ["5", "0", "0", "5"], "10", "5", "5", 20)
    assert ranges(audit([report(rows, rounded=5)]))[f"{over} capacity_20"] == (1, 2)
    # with capacity 4 every coordinator over it is in the 5+ bucket: over <= c5p (1..9) -> 6..9
    rows = _caseload_rows("100", ["20", "0", "0", "5"], "25", "10", "15", 4)
    assert ranges(audit([report(rows, rounded=5)]))[f"{over} capacity_4"] == (6, 9)
