"""Keyed random rounding to base 5 (deliver.disclosure); expected values worked out by hand."""

import os

import pytest

from targetgroup.deliver.disclosure import HIDDEN, protect, rounded, rounding_key
from targetgroup.errors import ConfigError

KEY = b"0123456789abcdef0123456789abcdef"


def test_multiples_of_five_stay_and_others_go_to_a_neighbouring_multiple():
    for n in range(0, 60):
        r = rounded(KEY, ("combo", "A+B"), n)
        if n % 5 == 0:
            assert r == n
        else:
            assert r in (n - n % 5, n - n % 5 + 5), n


def test_same_cell_same_value_same_rounding_whatever_the_report():
    cells = [("combo", f"X{i}") for i in range(200)]
    first = [rounded(KEY, c, 3) for c in cells]
    assert first == [rounded(KEY, c, 3) for c in cells]  # re-published: unchanged, nothing to average
    assert {0, 5} == set(first)  # but not the same for every cell
    assert first != [rounded(b"another key, just as long as the 1st", c, 3) for c in cells]


def test_rounding_is_unbiased_over_cells():
    # n = 2: up with probability 2/5; n = 4: 4/5 (2,000 cells: +-0.05 is over 4 standard deviations)
    for n, p_up in ((2, 0.4), (4, 0.8)):
        ups = sum(rounded(KEY, ("team", str(i)), n) == n - n % 5 + 5 for i in range(2000)) / 2000
        assert abs(ups - p_up) < 0.05, (n, ups)


def test_cells_that_are_one_number_draw_one_coin_and_hidden_cells_show_a_dot():
    counts = {("size", "r1"): 3, ("rule", "r"): 3}
    cells = [("rule", str(i)) for i in range(40)]
    tied = [protect({("size", "r1"): 3, c: 3}, KEY, {c: "total", ("size", "r1"): "total"}) for c in cells]
    assert all(p.published[("size", "r1")] == p.published[c] for p, c in zip(tied, cells))
    result = protect(counts, KEY, hide=[("rule", "r")])
    assert result.show(("rule", "r")) == HIDDEN and result.value(("rule", "r")) is None
    assert result.show(("size", "r1")) in ("0", "5")


def test_the_key_file_is_made_once_owner_only_and_reused(tmp_path):
    key = rounding_key(tmp_path / "warehouse.duckdb", environ={})
    path = tmp_path / "disclosure.key"
    assert oct(path.stat().st_mode & 0o777) == "0o600" and len(key) == 64
    assert rounding_key(tmp_path / "warehouse.duckdb", environ={}) == key


def test_a_key_file_from_the_environment(tmp_path):
    path = tmp_path / "k"
    path.write_text("short\n")
    with pytest.raises(ConfigError, match="shorter than 32"):
        rounding_key(tmp_path / "w.duckdb", environ={"TARGETGROUP_DISCLOSURE_KEY_FILE": str(path)})
    with pytest.raises(ConfigError, match="not a file"):
        rounding_key(tmp_path / "w.duckdb", environ={"TARGETGROUP_DISCLOSURE_KEY_FILE": str(tmp_path / "none")})
    path.write_text("x" * 40)
    assert rounding_key(tmp_path / "w.duckdb", environ={"TARGETGROUP_DISCLOSURE_KEY_FILE": str(path)}) == b"x" * 40
    assert not os.path.exists(tmp_path / "disclosure.key")


def test_a_report_that_rounding_leaves_pinned_gets_cells_hidden_until_the_audit_passes():
    from datetime import date

    import pandas as pd

    from targetgroup.deliver import audit as disclosure_audit
    from targetgroup.deliver.figures import DURATIONS, Figures, _hide_until_safe, published_rows

    # 2 ended courses, one under 3 months and one of 3-6 months: rounded on their own, the total
    # and the parts can disagree so that only 1..4 fits (e.g. total 0, one part 5)
    counts = {("size", "r1"): 40, ("new", "r1"): 40, ("ended", "r1"): 0, ("courses", "ongoing"): 40,
              ("courses", "ended"): 2, **{("duration", b, "ongoing"): 40 if b == "dur_lt3m" else 0 for b in DURATIONS},
              **{("duration", b, "ended"): 1 if b in ("dur_lt3m", "dur_3_6m") else 0 for b in DURATIONS}}
    as_of = date(2026, 11, 1)

    def figure(key: bytes) -> Figures:
        fig = Figures(run_id="r1", as_of=as_of, runs=[("r1", as_of)], coins={("size", "r1"): "total"})
        fig.cells = protect(counts, key, fig.coins)
        return fig

    def audited(fig: Figures):
        frame = pd.DataFrame(published_rows(fig))
        return disclosure_audit.audit([disclosure_audit.report_from_frame(frame, "r1", as_of)])

    keys = (f"test key number {i:016d}".encode() for i in range(200))
    key = next(k for k in keys if not audited(figure(k)).passed)
    fig = figure(key)
    _hide_until_safe(fig, key, keep=[("size", "r1"), ("courses", "ongoing"), ("courses", "ended")], previous=None)
    assert fig.audit.passed and audited(fig).passed
    assert fig.cells.hidden_cells and fig.cells.hidden_cells <= {k for k in counts if k[0] in ("duration", "courses")}


def test_a_run_size_hidden_in_its_own_report_stays_hidden_in_the_next_series():
    from datetime import date

    import pandas as pd

    from targetgroup.deliver.audit import report_from_frame
    from targetgroup.deliver.figures import Figures, _hide_until_safe

    before, now = date(2026, 10, 1), date(2026, 11, 1)
    previous = report_from_frame(pd.DataFrame({"breakdown": ["total", "flags_new", "flags_ended"], "group": "all",
                                               "subgroup": "", "count": ["•", "40", "0"], "rounded_to": "5"}),
                                 "r0", before)
    counts = {("size", "r0"): 41, ("new", "r0"): 41, ("ended", "r0"): 0,
              ("size", "r1"): 60, ("new", "r1"): 19, ("ended", "r1"): 0}
    fig = Figures(run_id="r1", as_of=now, runs=[("r0", before), ("r1", now)],
                  coins={**{("size", r): "total" for r in ("r0", "r1")}, **{("new", r): "flags_new" for r in ("r0", "r1")},
                         **{("ended", r): "flags_ended" for r in ("r0", "r1")}})
    fig.cells = protect(counts, KEY, fig.coins)
    _hide_until_safe(fig, KEY, keep=[], previous=previous)
    assert fig.cells.hidden(("size", "r0")) and fig.audit.passed


def test_figures_the_previous_report_pins_on_its_own_do_not_make_this_one_hide_everything():
    # the first run after an upgrade: the previous report still has '<5' cells, pinned by
    # themselves; nothing this report hides can change that, so they are not its verdict
    from datetime import date

    import pandas as pd

    from targetgroup.deliver.audit import report_from_frame
    from targetgroup.deliver.figures import Figures, _hide_until_safe

    before, now = date(2026, 10, 1), date(2026, 11, 1)
    old = pd.DataFrame([("total", "all", "", "30"), ("flags_new", "all", "", "30"), ("flags_ended", "all", "", "0"),
                        ("department_combination", "A+B", "", "<5"), ("department_combination", "A+C", "", "<5"),
                        ("department_combination", "B+C", "", "26")], columns=["breakdown", "group", "subgroup", "count"])
    previous = report_from_frame(old, "r0", before)
    counts = {("size", "r0"): 30, ("new", "r0"): 30, ("ended", "r0"): 0, ("size", "r1"): 31, ("new", "r1"): 1,
              ("ended", "r1"): 0, ("combo", "A+B"): 3, ("combo", "B+C"): 28}
    fig = Figures(run_id="r1", as_of=now, runs=[("r0", before), ("r1", now)],
                  coins={("size", "r0"): "total", ("size", "r1"): "total"})
    fig.cells = protect(counts, KEY, fig.coins)
    _hide_until_safe(fig, KEY, keep=[], previous=previous)
    # inherited: A+B and A+C ('<5'), and what r0 showed exactly: B+C, its size, new and ended
    assert fig.safe and len(fig.inherited) == 6 and not fig.audit.passed
    assert not fig.cells.hidden_cells
