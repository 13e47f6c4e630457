"""`targetgroup run` and `targetgroup sample`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from targetgroup.cli import RULES_HELP, StageProgress, app, err, fail, parse_date, rule_file, stdout
from targetgroup.cli.validate import print_quality
from targetgroup.config import SAMPLE_SOURCES


@app.command()
def run(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date D to find the target group on (YYYY-MM-DD); default today.")] = None,
    sources: Annotated[Path, typer.Option("--sources", help="Sources configuration (YAML).")] = SAMPLE_SOURCES,
    rules: Annotated[Optional[str], typer.Option("--rules", help=RULES_HELP)] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for run reports (and the default warehouse).")] = Path("reports"),
    warehouse: Annotated[Optional[Path], typer.Option("--warehouse", help="DuckDB warehouse file; default OUT/warehouse.duckdb.")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rewrite the register from an as-of date before the last committed run.")] = False,
    switch_rules: Annotated[bool, typer.Option("--switch-rules", help="Accept a rule set other than the last committed run's; the flags it ends get the reason 'rule set changed'.")] = False,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait if another run holds the warehouse.")] = 0.0,
    threads: Annotated[Optional[int], typer.Option("--threads", help="DuckDB threads (default: all cores).")] = None,
    memory_limit: Annotated[Optional[str], typer.Option("--memory-limit", help="DuckDB memory limit, e.g. 2GB.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
    suppressions: Annotated[Optional[Path], typer.Option("--suppressions", help="Folder of removal files (<DEPT>.csv); default: suppressions: in the sources file.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the caseworker lists and the leadership report: da or en.")] = "da",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write every output but change nothing in the warehouse (register, ledger); any as-of date.")] = False,
    store_extracts: Annotated[bool, typer.Option("--store-extracts/--no-store-extracts", help="Keep the run's canonical cases and persons for analysts and the web overview (Parquet files beside the warehouse, views in it; default yes).")] = True,
    allow_drop: Annotated[Optional[list[str]], typer.Option("--allow-drop", help="Accept an empty extract or a volume drop for this source tonight (repeatable).")] = None,
    delivery: Annotated[Optional[Path], typer.Option("--delivery", help="Delivery file (YAML): drop folders and mail notices after the commit (docs/delivery.md).")] = None,
) -> None:
    """Run the whole pipeline: read the extracts, find the target group, write reports, store the run."""
    from targetgroup.validate.gate import preload  # noqa: PLC0415

    # Great Expectations (3-4 s to import) and pandas load in the background from the start; the
    # quality gate waits for them, the extracts are read meanwhile (docs/quality.md)
    preload()
    from targetgroup.pipeline import RunSettings, run_pipeline  # noqa: PLC0415 - keep --help fast

    if lang not in ("da", "en"):
        raise typer.BadParameter("--lang must be da or en")
    settings = RunSettings(sources=sources, rules=rule_file(rules), as_of=parse_date(as_of), out=out,
                           warehouse=warehouse, rebuild=rebuild, threads=threads, memory_limit=memory_limit,
                           wait_seconds=wait, lang=lang, dry_run=dry_run, suppressions=suppressions, store_extracts=store_extracts,
                           allow_drop=tuple(allow_drop or ()), switch_rules=switch_rules, delivery=delivery)
    from targetgroup import interrupts  # noqa: PLC0415
    from targetgroup.errors import RunInterrupted  # noqa: PLC0415

    progress = StageProgress(err, quiet)
    # SIGINT/SIGTERM around the run too: what the command says must agree with the ledger
    with interrupts.guard() as outer:
        try:
            result = run_pipeline(settings, progress)
        except (RunInterrupted, interrupts.Interrupted) as exc:
            outer.hold()
            progress.stop()
            fail(exc if isinstance(exc, RunInterrupted) else
                 RunInterrupted(f"the run was stopped by {exc} before it started; nothing was stored"),
                 interrupts.EXIT_INTERRUPTED)
        except Exception as exc:  # noqa: BLE001 - every error ends as one clear line
            outer.hold()
            progress.stop()
            if delivery is not None:
                from targetgroup.delivery.alerts import mail_failure  # noqa: PLC0415

                mail_failure(settings, exc)
            fail(exc)
        outer.hold()   # the run is stored: a signal now only changes the exit code
        progress.stop()
        print_summary(result)
        stopped_by = None if settings.dry_run else result.interrupted or outer.name
    if stopped_by:
        err.print(f"[yellow]Stopped by {stopped_by} after the commit was sent:[/] the run is stored "
                  f"in the warehouse and its folder is in place ({result.report_dir}).", markup=True, soft_wrap=True)
        raise typer.Exit(interrupts.EXIT_INTERRUPTED_COMMITTED)
    if result.delivered is not None and result.delivered.pending:
        err.print(f"[yellow]Delivery pending:[/] the run is stored, but {result.delivered.pending} of "
                  f"{result.delivered.total} deliveries are not done ({escape(result.delivered.errors[-1])}); operations "
                  f"were alerted. Retry with: targetgroup deliver --run {result.run_id}", markup=True, soft_wrap=True)
        raise typer.Exit(interrupts.EXIT_DELIVERY_PENDING)


def print_summary(result) -> None:
    """The closing summary: flags new / continuing / ended per department, warnings, what to open."""
    table = Table(title=f"Target group on {result.settings.as_of} (run {result.run_id})")
    for name, justify in (("department", "left"), ("new", "right"), ("continuing", "right"),
                          ("ended", "right"), ("citizens flagged", "right")):
        table.add_column(name, justify=justify)
    citizens = result.summary["flags_per_department"]
    for dept, counts in result.summary["flag_changes_per_department"].items():
        table.add_row(dept, f"{counts['new']:,}", f"{counts['continuing']:,}", f"{counts['ended']:,}",
                      f"{citizens.get(dept, 0):,}")
    flags = result.summary["flags"]
    table.add_row("[bold]all (flags)[/]", f"[bold]{flags['new']:,}[/]", f"[bold]{flags['continuing']:,}[/]",
                  f"[bold]{flags['ended']:,}[/]", f"[bold]{result.summary['identify']['citizens_flagged']:,}[/]")
    table.caption = "per department: citizens in its caseworker list; all: flags (one per citizen per rule)"
    stdout.print(table)
    print_quality(result.manifest.get("quality", {}))
    for warning in result.summary.get("warnings", []):
        err.print(f"[yellow]Warning:[/] {warning}", markup=True)
    if result.settings.dry_run:
        err.print(f"[yellow]Dry run:[/] outputs written to {result.report_dir}, the warehouse was not changed.",
                  markup=True, soft_wrap=True)
    stdout.print(f"Open first: {result.summary['report_html']}", soft_wrap=True)
    stdout.print(f"Caseworker lists: {result.report_dir}/flags_<DEPT>.xlsx", soft_wrap=True)


@app.command()
def sample(
    citizens: Annotated[int, typer.Option("--citizens", min=100, help="Number of citizens.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 42,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the extracts and sources.yaml into.")] = Path("sample_data"),
    fmt: Annotated[str, typer.Option("--format", help="mixed (each department its own format), csv or parquet.")] = "mixed",
    reference_date: Annotated[Optional[str], typer.Option("--reference-date", help="The date the data is 'today' for (YYYY-MM-DD).")] = "2026-11-01",
    history: Annotated[Optional[str], typer.Option("--history", help="Monthly snapshots over this many months (12m-24m) ending on the reference date, one folder OUT/<yyyy-mm-dd>/ each (default 3,000 citizens).")] = None,
    fleet_dir: Annotated[Optional[Path], typer.Option("--fleet", help="Write a synthetic fleet instead: Denmark's 98 municipalities at their real sizes x --scale, and DIR/fleet.yaml.")] = None,
    scale: Annotated[float, typer.Option("--scale", min=0.0001, max=1.0, help="With --fleet: citizens per inhabitant (each municipality at least 200).")] = 0.01,
) -> None:
    """Generate a synthetic municipality (fake CPR numbers) in the form real case systems deliver."""
    from targetgroup.sample import generate  # noqa: PLC0415

    if fleet_dir is not None:
        from targetgroup.cli.fleet import sample_fleet  # noqa: PLC0415 - the fleet's own sample
        sample_fleet(fleet_dir, scale, seed, parse_date(reference_date))
        return
    if fmt not in ("mixed", "csv", "parquet"):
        raise typer.BadParameter("--format must be mixed, csv or parquet")
    if history is not None:
        _history(history, out, citizens, seed, reference_date, fmt)
        return
    try:
        with err.status(f"generating {citizens:,} citizens ..."):
            counts = generate(out, citizens=citizens, seed=seed, reference_date=parse_date(reference_date), fmt=fmt)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    for name, rows in counts.items():
        out_line = f"{name:<28} {rows:>10,} rows"
        err.print(out_line)
    err.print(f"Written to {out}")


def _history(months_text: str, out: Path, citizens: int, seed: int, reference_date: Optional[str], fmt: str) -> None:
    """`sample --history`: one snapshot folder per month (targetgroup.sample.history)."""
    from targetgroup.sample.history import HISTORY_CITIZENS, generate_history, parse_months  # noqa: PLC0415

    try:
        months = parse_months(months_text)
        size = HISTORY_CITIZENS if citizens == 20_000 else citizens   # 20,000 is the single sample's default
        with err.status(f"generating {months} monthly snapshots of {size:,} citizens ..."):
            dates = generate_history(out, months=months, citizens=size, seed=seed,
                                     end=parse_date(reference_date), fmt=fmt)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    err.print(f"{len(dates)} snapshots, {dates[0]} to {dates[-1]}, written to {out}/<yyyy-mm-dd>/")
