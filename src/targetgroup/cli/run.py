"""`targetgroup run` and `targetgroup sample`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from targetgroup.cli import StageProgress, app, err, fail, parse_date, stdout
from targetgroup.cli.validate import print_quality
from targetgroup.config import SAMPLE_SOURCES


@app.command()
def run(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date D to find the target group on (YYYY-MM-DD); default today.")] = None,
    sources: Annotated[Path, typer.Option("--sources", help="Sources configuration (YAML).")] = SAMPLE_SOURCES,
    rules: Annotated[Optional[Path], typer.Option("--rules", help="Rule file (YAML) defining the target group; default rules/default.yaml.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for run reports (and the default warehouse).")] = Path("reports"),
    warehouse: Annotated[Optional[Path], typer.Option("--warehouse", help="DuckDB warehouse file; default OUT/warehouse.duckdb.")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Allow an as-of date before the last committed run.")] = False,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait if another run holds the warehouse.")] = 0.0,
    threads: Annotated[Optional[int], typer.Option("--threads", help="DuckDB threads (default: all cores).")] = None,
    memory_limit: Annotated[Optional[str], typer.Option("--memory-limit", help="DuckDB memory limit, e.g. 2GB.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
    allow_drop: Annotated[Optional[list[str]], typer.Option("--allow-drop", help="Accept an empty extract or a volume drop for this source tonight (repeatable).")] = None,
) -> None:
    """Run the whole pipeline: read the extracts, find the target group, write reports, store the run."""
    from targetgroup.pipeline import RunSettings, run_pipeline  # noqa: PLC0415 - keep --help fast

    from targetgroup.rules import DEFAULT_RULES  # noqa: PLC0415

    settings = RunSettings(sources=sources, rules=rules or DEFAULT_RULES, as_of=parse_date(as_of), out=out, warehouse=warehouse,
                           rebuild=rebuild, threads=threads, memory_limit=memory_limit, wait_seconds=wait,
                           allow_drop=tuple(allow_drop or ()))
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
    print_quality(result.manifest.get("quality", {}))
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
