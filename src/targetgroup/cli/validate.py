"""`targetgroup validate`: the quality gate alone (extract, stage, validate; no warehouse writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from targetgroup.cli import StageProgress, app, err, fail, parse_date, stdout
from targetgroup.config import SAMPLE_SOURCES


def print_quality(quality: dict, errors: bool = True) -> None:
    """The gate's summary: errors, warnings, quarantined rows and where the reports are."""
    if not quality:
        return
    for line in quality.get("errors", []) if errors else []:
        stdout.print(f"[bold red]error[/]   {line}", markup=True, soft_wrap=True)
    for line in quality.get("warnings", []):
        stdout.print(f"[yellow]warning[/] {line}", markup=True, soft_wrap=True)
    stdout.print(f"Quality gate: {len(quality.get('errors', []))} error(s), {len(quality.get('warnings', []))} "
                 f"warning(s), {quality.get('rows_quarantined_total', 0):,} row(s) quarantined, "
                 f"{sum(quality.get('rows_rejected', {}).values()):,} rejected. Details: {quality.get('data_docs')}",
                 soft_wrap=True)


@app.command()
def validate(
    sources: Annotated[Path, typer.Option("--sources", help="Sources configuration (YAML).")] = SAMPLE_SOURCES,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date D the checks refer to (YYYY-MM-DD); default today.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the gate's report (and the default warehouse).")] = Path("reports"),
    warehouse: Annotated[Optional[Path], typer.Option("--warehouse", help="Warehouse to compare volumes with (read only); default OUT/warehouse.duckdb.")] = None,
    allow_drop: Annotated[Optional[list[str]], typer.Option("--allow-drop", help="Accept an empty extract or a volume drop for this source (repeatable).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Run the quality gate alone on the extracts: exit 1 if an error-level expectation fails."""
    from targetgroup import pipeline  # noqa: PLC0415 - keep --help fast
    from targetgroup.errors import ValidationError  # noqa: PLC0415

    settings = pipeline.RunSettings(sources=sources, as_of=parse_date(as_of), out=out, warehouse=warehouse,
                                    rebuild=True, allow_drop=tuple(allow_drop or ()))
    progress = StageProgress(err, quiet)
    run = None
    try:
        run = pipeline.prepare(settings, progress)
        pipeline.extract(run)
        pipeline.stage(run)
        pipeline.validate(run)
    except ValidationError as exc:
        progress.stop()
        run.close()
        pipeline.finish(run, status="failed", error=exc)
        print_quality(run.manifest.get("quality", {}), errors=False)
        fail(exc)
    except Exception as exc:  # noqa: BLE001 - every error ends as one clear line
        progress.stop()
        if run is not None:
            run.close()
            pipeline.finish(run, status="failed", error=exc if hasattr(exc, "hint") else None)
        fail(exc)
    progress.stop()
    run.close()   # removes DuckDB's spill folder
    pipeline.finish(run, status="validated")
    print_quality(run.manifest.get("quality", {}))
    stdout.print(f"Report: {run.report_dir / 'quarantine.csv'}")
