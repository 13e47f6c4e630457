"""`targetgroup fleet`: every municipality of a fleet file, each its own run, on a Dask cluster."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from targetgroup.cli import app, err, fail, parse_date, stdout


@app.command()
def fleet(
    fleet_file: Annotated[Path, typer.Option("--fleet", help="Fleet file (YAML) naming the municipalities.")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date D to find the target group on (YYYY-MM-DD); default today.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Local Dask worker processes (0: one after another in this process).")] = 1,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Join an existing Dask cluster, e.g. tcp://HOST:8786 (instead of --workers).")] = None,
    only: Annotated[Optional[list[str]], typer.Option("--only", help="Run only this municipality (repeatable).")] = None,
    summary: Annotated[Optional[Path], typer.Option("--summary", help="Where to write fleet_summary.json; default next to the fleet file.")] = None,
) -> None:
    """Run every municipality of the fleet file, each isolated; print and store a summary (no CPR)."""
    from targetgroup.fleet.file import load_fleet  # noqa: PLC0415 - keep --help fast
    from targetgroup.fleet.run import run_fleet  # noqa: PLC0415
    from targetgroup.fleet.summary import rows, totals, write_summary  # noqa: PLC0415

    day = parse_date(as_of)
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://")):
        raise typer.BadParameter("--scheduler must be an address such as tcp://HOST:8786")
    started = time.perf_counter()
    try:
        loaded = load_fleet(fleet_file)
        where = f"the cluster at {scheduler}" if scheduler else (
            f"a local cluster of {workers} worker(s)" if workers else "this process, one after another")
        err.print(f"{len(only or loaded.municipalities)} municipalities on {day}, on {where}", soft_wrap=True)
        outcomes = run_fleet(loaded, day, workers=workers, scheduler=scheduler, names=only,
                             on_done=lambda o: err.print(f"{'[green]✓[/]' if o.status == 'committed' else '[red]✗[/]'} "
                                                         f"{o.name:<20} {o.status:<10} {o.seconds:>7.1f} s  {o.worker}",
                                                         markup=True))
        path = write_summary(summary or loaded.file.parent / "fleet_summary.json", day, outcomes,
                             time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - every error ends as one clear line
        fail(exc)
    print_table(rows(outcomes), day)
    counts = totals(outcomes)
    stdout.print(f"{counts['committed']} committed, {counts['failed']} failed; summary: {path}", soft_wrap=True)
    for o in outcomes:
        if o.status != "committed":
            err.print(f"[red]Failed:[/] {o.name}: {o.error} (see ALERT.txt in {o.folder})", markup=True, soft_wrap=True)
    if counts["failed"]:
        raise typer.Exit(1)


def print_table(table_rows: list[dict], day) -> None:
    """The per-municipality table: status, counts, seconds, worker."""
    table = Table(title=f"Fleet on {day}")
    for name, justify in (("municipality", "left"), ("status", "left"), ("citizens flagged", "right"),
                          ("new", "right"), ("continuing", "right"), ("ended", "right"),
                          ("seconds", "right"), ("worker", "left")):
        table.add_column(name, justify=justify)

    def n(value) -> str:
        return "" if value is None else f"{value:,}"
    for r in table_rows:
        status = r["status"] if r["status"] == "committed" else f"[red]{r['status']}[/]"
        table.add_row(r["municipality"], status, n(r["citizens_flagged"]), n(r["flags_new"]),
                      n(r["flags_continuing"]), n(r["flags_ended"]), f"{r['seconds']:.1f}", r["worker"])
    stdout.print(table)


def sample_fleet(out: Path, scale: float, seed: int, reference_date) -> None:
    """`targetgroup sample --fleet DIR [--scale F]`: the synthetic 98-municipality fleet."""
    from targetgroup.fleet.sample import generate_fleet  # noqa: PLC0415

    try:
        with err.status("generating the fleet ...") as status:
            fleet_file = generate_fleet(out, scale=scale, seed=seed, reference_date=reference_date,
                                        progress=lambda name, n: status.update(f"{name}: {n:,} citizens written"))
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    err.print(f"Written to {out}; run it with: targetgroup fleet --fleet {fleet_file} --workers 2", soft_wrap=True)
