"""`targetgroup consent`: record a citizen's consent (given, refused, withdrawn) or list one citizen's records."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from targetgroup.cli import app, err, fail, parse_date, stdout
from targetgroup.config import SAMPLE_SOURCES


@app.command()
def consent(
    cpr: Annotated[str, typer.Option("--cpr", help="The citizen (DDMMYY-SSSS).")],
    given: Annotated[bool, typer.Option("--given", help="The citizen gave consent.")] = False,
    refused: Annotated[bool, typer.Option("--refused", help="The citizen refused consent.")] = False,
    withdrawn: Annotated[bool, typer.Option("--withdrawn", help="The citizen withdrew an earlier consent.")] = False,
    departments: Annotated[str, typer.Option("--departments", help="Departments the consent covers, e.g. BUF,JOB; * = all.")] = "*",
    by: Annotated[Optional[str], typer.Option("--by", help="Who records it (name or initials).")] = None,
    department: Annotated[Optional[str], typer.Option("--department", help="The department of the person who records it.")] = None,
    on: Annotated[Optional[str], typer.Option("--on", help="Date the consent was given (YYYY-MM-DD); default today.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Last day the consent holds (YYYY-MM-DD); default: no end.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the citizen's consent records (terminal only).")] = False,
    sources: Annotated[Path, typer.Option("--sources", help="Sources configuration (its departments).")] = SAMPLE_SOURCES,
    out: Annotated[Path, typer.Option("--out", help="Folder of run reports (holds the default warehouse).")] = Path("reports"),
    warehouse: Annotated[Optional[Path], typer.Option("--warehouse", help="DuckDB warehouse file; default OUT/warehouse.duckdb.")] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait if a run holds the warehouse.")] = 0.0,
) -> None:
    """Record a citizen's consent to sharing between departments, or --list the records.

    The newest record in force on a run's as-of date decides over the extracts' consent column
    (docs/consent.md). It takes effect at the next run; the register keeps every record.
    """
    from targetgroup import consent as ops  # noqa: PLC0415
    from targetgroup import cpr as cpr_module  # noqa: PLC0415
    from targetgroup.config import load_sources  # noqa: PLC0415
    from targetgroup.warehouse import DEFAULT_WAREHOUSE  # noqa: PLC0415

    path = warehouse or out / DEFAULT_WAREHOUSE.name
    try:
        value = cpr_module.parse_typed(cpr)
        if list_:
            _print(ops.citizen_consents(path, value), cpr_module.mask(value))
            return
        chosen = [name for name, flag in (("given", given), ("refused", refused), ("withdrawn", withdrawn)) if flag]
        if len(chosen) != 1 or not by:
            raise typer.BadParameter("give one of --given, --refused, --withdrawn, and --by NAME (or --list)")
        config = load_sources(sources, check_files=False)
        covered = ops.parse_departments(departments, config)
        if department and department not in config.departments:
            raise typer.BadParameter(f"unknown department; use one of {', '.join(config.departments)}")
        new_id = ops.add_consent(path, cpr=value, consent=chosen[0], departments=covered, recorded_by=by,
                                 department=department, recorded_on=parse_date(on) if on else date.today(),
                                 until=parse_date(until) if until else None, wait_seconds=wait)
    except typer.BadParameter:
        raise
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    err.print(f"Consent {new_id} ({chosen[0]}, {', '.join(covered) or 'all departments'}) recorded for "
              f"{cpr_module.mask(value)}; it takes effect at the next run.")


def _print(rows: list[tuple], masked: str) -> None:
    table = Table(title=f"Consent records for {masked}")
    for col in ("id", "consent", "departments", "by", "department", "given on", "until", "origin"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r[0], r[1], ", ".join(r[2]) or "all", r[3], r[4] or "", str(r[5]), str(r[6] or ""), r[7])
    stdout.print(table)
    if not rows:
        stdout.print("No consent recorded.")
