"""The `targetgroup` command line: a thin layer over the library; errors become `Error: ...`."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from targetgroup.config import SAMPLE_SOURCES
from targetgroup.errors import TargetGroupError

app = typer.Typer(
    help="Find citizens served by several municipal departments at once (the coordinated-course target group).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
stdout = Console(highlight=False)
STATE = {"debug": False}


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False) -> None:
    """targetgroup: department extracts in, flag lists and leadership counts out."""
    STATE["debug"] = debug


def fail(exc: BaseException) -> None:
    """Print an error the way every command does, then exit 1."""
    if STATE["debug"]:
        err.print_exception()
    if isinstance(exc, TargetGroupError):
        err.print(f"[bold red]Error:[/] {exc}", markup=True, soft_wrap=True)
    else:
        # Unexpected exceptions may quote data; show only their type unless --debug was given.
        err.print(f"[bold red]Error:[/] internal error ({type(exc).__name__}); "
                  "rerun with --debug to see the traceback", markup=True)
    raise typer.Exit(1)


def parse_date(value: str | None) -> date:
    """YYYY-MM-DD from the command line; None is today."""
    if value is None:
        return date.today()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date in the form YYYY-MM-DD") from None


class StageProgress:
    """Prints one line per finished stage (with counts, never CPR numbers) to stderr."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console, self.quiet = console, quiet
        self.status = None

    def __call__(self, stage: str, detail: str) -> None:
        if self.quiet:
            return
        if detail == "started":
            if self.status is None:
                self.status = self.console.status(f"{stage} ...")
                self.status.start()
            else:
                self.status.update(f"{stage} ...")
            return
        self.console.print(f"[green]✓[/] {stage:<9} {detail}", markup=True)

    def stop(self) -> None:
        """Remove the spinner."""
        if self.status is not None:
            self.status.stop()


@app.command()
def run(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date D to find the target group on (YYYY-MM-DD); default today.")] = None,
    sources: Annotated[Path, typer.Option("--sources", help="Sources configuration (YAML).")] = SAMPLE_SOURCES,
    out: Annotated[Path, typer.Option("--out", help="Folder for run reports (and the default warehouse).")] = Path("reports"),
    warehouse: Annotated[Optional[Path], typer.Option("--warehouse", help="DuckDB warehouse file; default OUT/warehouse.duckdb.")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Allow an as-of date before the last committed run.")] = False,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait if another run holds the warehouse.")] = 0.0,
    threads: Annotated[Optional[int], typer.Option("--threads", help="DuckDB threads (default: all cores).")] = None,
    memory_limit: Annotated[Optional[str], typer.Option("--memory-limit", help="DuckDB memory limit, e.g. 2GB.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Run the whole pipeline: read the extracts, find the target group, write reports, store the run."""
    from targetgroup.pipeline import RunSettings, run_pipeline  # noqa: PLC0415 - keep --help fast

    settings = RunSettings(sources=sources, as_of=parse_date(as_of), out=out, warehouse=warehouse,
                           rebuild=rebuild, threads=threads, memory_limit=memory_limit, wait_seconds=wait)
    progress = StageProgress(err, quiet)
    try:
        result = run_pipeline(settings, progress)
    except Exception as exc:  # noqa: BLE001 - every error ends as one clear line
        progress.stop()
        fail(exc)
    progress.stop()
    table = Table(title=f"Target group on {settings.as_of} (run {result.run_id})")
    table.add_column("department")
    table.add_column("flagged citizens", justify="right")
    for dept, n in result.summary["flags_per_department"].items():
        table.add_row(dept, f"{n:,}")
    table.add_row("[bold]all[/]", f"[bold]{result.summary['identify']['citizens_flagged']:,}[/]")
    stdout.print(table)
    stdout.print(f"Open first: {result.report_dir / 'leadership_counts.csv'}  (flag lists: flags_<DEPT>.csv)")


@app.command()
def sample(
    citizens: Annotated[int, typer.Option("--citizens", min=100, help="Number of citizens.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 42,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the extracts and sources.yaml into.")] = Path("sample_data"),
    fmt: Annotated[str, typer.Option("--format", help="mixed (each department its own format), csv or parquet.")] = "mixed",
    reference_date: Annotated[Optional[str], typer.Option("--reference-date", help="The date the data is 'today' for (YYYY-MM-DD).")] = "2026-11-01",
) -> None:
    """Generate a synthetic municipality (fake CPR numbers) in the form real case systems deliver."""
    from targetgroup.sample import generate  # noqa: PLC0415

    if fmt not in ("mixed", "csv", "parquet"):
        raise typer.BadParameter("--format must be mixed, csv or parquet")
    try:
        with err.status(f"generating {citizens:,} citizens ..."):
            counts = generate(out, citizens=citizens, seed=seed, reference_date=parse_date(reference_date), fmt=fmt)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    for name, rows in counts.items():
        out_line = f"{name:<28} {rows:>10,} rows"
        err.print(out_line)
    err.print(f"Written to {out}")


def entry() -> None:
    """Console-script entry point."""
    app(prog_name="targetgroup")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
