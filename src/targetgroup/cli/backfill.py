"""`targetgroup backfill`: a series of dated snapshots, oldest first, into one warehouse."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from targetgroup.cli import StageProgress, app, err, fail, parse_date, stdout

SAMPLE_FOLDER = "sample_history"   # under --out: where --sample writes its snapshots


@app.command()
def backfill(
    start: Annotated[Optional[str], typer.Option("--from", help="First snapshot date (YYYY-MM-DD).")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last snapshot date (YYYY-MM-DD), included.")] = None,
    every: Annotated[str, typer.Option("--every", help="Interval between snapshots: month, week or day.")] = "month",
    sources: Annotated[Optional[str], typer.Option("--sources", help="Sources file of each snapshot, with {date} for YYYY-MM-DD, e.g. 'history/{date}/sources.yaml'.")] = None,
    sample: Annotated[Optional[str], typer.Option("--sample", help="Generate the sample municipality's history (e.g. 18m, 12-24 months) into OUT/sample_history and backfill it.")] = None,
    rules: Annotated[Optional[Path], typer.Option("--rules", help="Rule file (YAML) or rule set name; default rules/default.yaml (with --sample: the sample's rule set, sample.yaml).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for run reports (and the default warehouse).")] = Path("reports"),
    warehouse: Annotated[Optional[Path], typer.Option("--warehouse", help="DuckDB warehouse file; default OUT/warehouse.duckdb.")] = None,
    allow_gaps: Annotated[bool, typer.Option("--allow-gaps", help="Run the snapshots there are when some dates have none.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Skip the dates the warehouse already has a committed run for.")] = False,
    outputs: Annotated[Optional[str], typer.Option("--outputs", help="Write lists, report and analyst files for 'all' snapshots or only the 'last' (earlier ones are still committed runs); default all, with --sample last.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the lists and the report: da or en.")] = "da",
    threads: Annotated[Optional[int], typer.Option("--threads", help="DuckDB threads (default: all cores).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="One line per snapshot, no stage lines.")] = False,
) -> None:
    """Run dated extract snapshots in order into one warehouse: one committed run per snapshot."""
    from targetgroup import backfill as series  # noqa: PLC0415 - keep --help fast
    from targetgroup.pipeline import RunSettings  # noqa: PLC0415
    from targetgroup.rules import DEFAULT_RULES  # noqa: PLC0415

    if lang not in ("da", "en"):
        raise typer.BadParameter("--lang must be da or en")
    if outputs not in (None, *series.OUTPUTS):
        raise typer.BadParameter("--outputs must be all or last")
    # the sample's history runs with the sample's rule set (rulesets/sample.yaml) unless told otherwise
    default = DEFAULT_RULES.parent / "sample.yaml" if sample is not None else DEFAULT_RULES
    settings = RunSettings(rules=rules or default, out=out, warehouse=warehouse, threads=threads, lang=lang)
    try:
        if sample is not None:
            if start or end or sources:
                raise typer.BadParameter("--sample makes its own series: leave out --from, --to and --sources")
            template, first, last = _sample_series(sample, out)
        else:
            if not (start and end and sources):
                raise typer.BadParameter("give --from, --to and --sources (or --sample 18m)")
            template, first, last = sources, parse_date(start), parse_date(end)
        todo = series.plan(template, first, last, every, last_as_of=series.last_committed(settings.warehouse_path),
                           allow_gaps=allow_gaps, resume=resume)
    except typer.BadParameter:
        raise
    except Exception as exc:  # noqa: BLE001 - every error ends as one clear line
        fail(exc)
    for gap in todo.gaps:
        err.print(f"[yellow]Gap:[/] no snapshot for {gap} ({series.sources_path(template, gap)}); skipped",
                  markup=True, soft_wrap=True)
    if todo.done:
        err.print(f"Skipped {len(todo.done)} date(s) the warehouse already holds (up to {todo.done[-1]})")

    def announce(day: date, number: int, total: int) -> None:
        err.print(f"[bold]snapshot {number}/{total}[/] {day}", markup=True)

    progress = StageProgress(err, quiet=True)
    try:
        runs = series.backfill(todo, settings, announce, progress,
                               outputs=outputs or ("last" if sample is not None else "all"))
    except Exception as exc:  # noqa: BLE001
        progress.stop()
        err.print("The snapshots before the failed one are committed; fix it and rerun with --resume.")
        fail(exc)
    progress.stop()
    last_run = runs[-1]
    stdout.print(f"Backfilled {len(runs)} snapshot(s), {todo.runs[0][0]} to {todo.runs[-1][0]}, "
                 f"into {settings.warehouse_path}", soft_wrap=True)
    stdout.print(f"Open first: {last_run.summary['report_html']}", soft_wrap=True)
    if last_run.interrupted:
        raise typer.Exit(4)


def _sample_series(months_text: str, out: Path) -> tuple[str, date, date]:
    """Generate the sample history under OUT/sample_history; its template and date range."""
    from targetgroup.sample.history import generate_history, parse_months  # noqa: PLC0415

    months = parse_months(months_text)
    folder = out / SAMPLE_FOLDER
    with err.status(f"generating {months} monthly snapshots ..."):
        dates = generate_history(folder, months=months)
    err.print(f"Sample history: {len(dates)} snapshots in {folder}")
    return str(folder / "{date}" / "sources.yaml"), dates[0], dates[-1]
