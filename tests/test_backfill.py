"""`targetgroup backfill`: the series is checked before anything runs (gaps, disorder, the
{date} placeholder), then each snapshot is one committed run, oldest first."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from targetgroup.backfill import dates_between, plan, sources_path
from targetgroup.cli import app
from targetgroup.errors import ConfigError, RunError
from targetgroup.sample.history import generate_history


def _series(root: Path, days: list[date]) -> str:
    for day in days:
        (root / day.isoformat()).mkdir(parents=True)
        (root / day.isoformat() / "sources.yaml").write_text("# placeholder\n", encoding="utf-8")
    return str(root / "{date}" / "sources.yaml")


def test_monthly_dates_keep_the_day_and_include_the_end():
    assert dates_between(date(2026, 1, 1), date(2026, 4, 1), "month") == [
        date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert dates_between(date(2026, 1, 1), date(2026, 1, 15), "week") == [
        date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 15)]
    with pytest.raises(ConfigError, match="before --from"):
        dates_between(date(2026, 2, 1), date(2026, 1, 1), "month")
    with pytest.raises(ConfigError, match="unknown interval"):
        dates_between(date(2026, 1, 1), date(2026, 2, 1), "fortnight")


def test_date_is_replaced_as_text_and_other_braces_stay(tmp_path):
    # a folder literally named {0} or {x}: str.format would fail or substitute; the path keeps it
    template = str(tmp_path / "{0}{x}" / "{date}" / "sources.yaml")
    assert sources_path(template, date(2026, 3, 1)) == tmp_path / "{0}{x}" / "2026-03-01" / "sources.yaml"
    with pytest.raises(ConfigError, match="exactly once"):
        plan(str(tmp_path / "sources.yaml"), date(2026, 1, 1), date(2026, 2, 1))
    with pytest.raises(ConfigError, match="exactly once"):
        plan(str(tmp_path / "{date}" / "{date}.yaml"), date(2026, 1, 1), date(2026, 2, 1))


def test_a_gap_is_refused_unless_allowed(tmp_path):
    template = _series(tmp_path, [date(2026, 1, 1), date(2026, 3, 1)])
    with pytest.raises(ConfigError, match=r"1 snapshot\(s\) missing.*2026-02-01") as caught:
        plan(template, date(2026, 1, 1), date(2026, 3, 1))
    assert "--allow-gaps" in str(caught.value) and "2026-02-01" in str(caught.value)
    allowed = plan(template, date(2026, 1, 1), date(2026, 3, 1), allow_gaps=True)
    assert [d for d, _ in allowed.runs] == [date(2026, 1, 1), date(2026, 3, 1)]
    assert allowed.gaps == [date(2026, 2, 1)]
    assert allowed.runs[1][1] == tmp_path / "2026-03-01" / "sources.yaml"


def test_going_back_in_time_is_refused_unless_resuming(tmp_path):
    template = _series(tmp_path, [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)])
    with pytest.raises(RunError, match="back in time"):
        plan(template, date(2026, 1, 1), date(2026, 3, 1), last_as_of=date(2026, 1, 1))
    resumed = plan(template, date(2026, 1, 1), date(2026, 3, 1), last_as_of=date(2026, 2, 1), resume=True)
    assert [d for d, _ in resumed.runs] == [date(2026, 3, 1)] and resumed.done == [date(2026, 1, 1), date(2026, 2, 1)]
    # a warehouse whose last run is before the series is fine without --resume
    assert len(plan(template, date(2026, 1, 1), date(2026, 3, 1), last_as_of=date(2025, 12, 1)).runs) == 3
    with pytest.raises(RunError, match="no snapshot left"):
        plan(template, date(2026, 1, 1), date(2026, 3, 1), last_as_of=date(2026, 3, 1), resume=True)


@pytest.mark.slow
def test_backfill_commits_one_run_per_snapshot_in_order_and_stops_at_a_bad_one(tmp_path):
    """Three monthly snapshots of the sample history, the third broken: two committed runs."""
    history = tmp_path / "history"
    days = generate_history(history, months=12, citizens=800, seed=2, end=date(2026, 11, 1))[:3]
    (history / days[2].isoformat() / "job_momentum.parquet").write_bytes(b"not parquet")
    out = tmp_path / "reports"
    runner = CliRunner()
    args = ["backfill", "--from", days[0].isoformat(), "--to", days[2].isoformat(),
            "--sources", str(history / "{date}" / "sources.yaml"), "--out", str(out), "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output and "--resume" in result.output
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        ledger = con.execute("select as_of, status from runs order by finished_at").fetchall()
    finally:
        con.close()
    assert ledger == [(days[0], "committed"), (days[1], "committed")]
    # the same series again would go back in time; --resume picks up where it stopped
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "back in time" in again.output
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 1 and "Skipped 2 date(s)" in resumed.output


@pytest.mark.slow
def test_outputs_last_commits_every_snapshot_alike_and_writes_deliverables_only_for_the_last(tmp_path):
    """`--outputs last`: the register and ledger are what `--outputs all` leaves, but only the
    last snapshot's folder has lists, a report and its audit."""
    history = tmp_path / "history"
    days = generate_history(history, months=12, citizens=500, seed=3, end=date(2026, 11, 1))[:2]
    stored = {}
    for mode in ("all", "last"):
        out = tmp_path / mode
        result = CliRunner().invoke(app, ["backfill", "--from", days[0].isoformat(), "--to", days[1].isoformat(),
                                          "--sources", str(history / "{date}" / "sources.yaml"),
                                          "--out", str(out), "--outputs", mode, "--quiet"])
        assert result.exit_code == 0, result.output
        con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
        try:
            ledger = con.execute("select as_of, status, targets, citizens_flagged, flags_new, flags_continuing, "
                                 "flags_ended, counts::varchar, report_dir from runs order by as_of").fetchall()
            flags = con.execute("select * exclude (opened_run, closed_run) from flags order by all").fetchall()
            actions = con.execute("select * exclude (run_id) from actions order by all").fetchall()
            index = con.execute("select * exclude (run_id) from outcome_index order by all").fetchall()
        finally:
            con.close()
        folders = [Path(row[-1]) for row in ledger]
        stored[mode] = ([row[:-1] for row in ledger], flags, actions, index)
        assert len(folders) == 2 and all((f / "manifest.json").is_file() for f in folders)
        assert (folders[1] / "leadership_report.html").is_file() and list(folders[1].glob("flags_*.xlsx"))
        written = sorted(p.name for p in folders[0].iterdir())
        if mode == "all":
            assert "leadership_report.html" in written
        else:
            assert not [n for n in written if n.startswith(("flags_", "leadership", "notices_", "exclusions"))], written
            assert "history only" in (folders[0] / "manifest.json").read_text(encoding="utf-8")
    assert stored["all"] == stored["last"]
    assert stored["all"][1], "the series flags nobody: the comparison would prove nothing"
