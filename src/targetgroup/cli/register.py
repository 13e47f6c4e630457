"""`targetgroup suppress`, `targetgroup runs` and `targetgroup history`: the flag register by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from targetgroup.cli import app, err, fail, parse_date, stdout

WarehouseOpt = Annotated[Optional[Path], typer.Option("--warehouse", help="DuckDB warehouse file; default OUT/warehouse.duckdb.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder of run reports (holds the default warehouse).")]


def _warehouse(warehouse: Path | None, out: Path) -> Path:
    from targetgroup.warehouse import DEFAULT_WAREHOUSE  # noqa: PLC0415

    return warehouse or out / DEFAULT_WAREHOUSE.name


@app.command()
def suppress(
    cpr: Annotated[Optional[str], typer.Option("--cpr", help="The citizen to remove (DDMMYY-SSSS).")] = None,
    rule: Annotated[Optional[str], typer.Option("--rule", help="The rule to remove the citizen's subject from.")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Who removes (name or initials).")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Why, in words a colleague understands.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Removal ends on this date (YYYY-MM-DD); default: no end.")] = None,
    department: Annotated[Optional[str], typer.Option("--department", help="The department of the caseworker who removes.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List every removal.")] = False,
    lift: Annotated[Optional[str], typer.Option("--lift", help="Lift the removal with this id (e.g. S000002).")] = None,
    out: OutOpt = Path("reports"),
    warehouse: WarehouseOpt = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait if a run holds the warehouse.")] = 0.0,
) -> None:
    """Remove a citizen (or the family the citizen belongs to) from a rule, list removals, or lift one.

    A removal holds at every run until --until, until it is lifted, or until a department becomes
    involved that was not involved when it was made; the flag ends at the next run with the
    reason "removed by caseworker".
    """
    from targetgroup import cpr as cpr_module  # noqa: PLC0415
    from targetgroup.register import suppress as ops  # noqa: PLC0415

    path = _warehouse(warehouse, out)
    try:
        if list_:
            _print_suppressions(ops.list_suppressions(path))
            return
        if lift:
            ops.lift_suppression(path, lift, lifted_by=by, wait_seconds=wait)
            err.print(f"Removal {lift} lifted; the rule may flag the citizen again from the next run.")
            return
        missing = [name for name, value in (("--cpr", cpr), ("--rule", rule), ("--by", by), ("--reason", reason))
                   if not value]
        if missing:
            raise typer.BadParameter(f"give {', '.join(missing)} (or --list, or --lift ID)")
        value = cpr_module.parse_typed(cpr)
        new_id = ops.add_suppression(path, cpr=value, rule_id=rule, removed_by=by, reason=reason,
                                     until=parse_date(until) if until else None, department=department,
                                     wait_seconds=wait)
    except typer.BadParameter:
        raise
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    err.print(f"Removal {new_id} recorded for {cpr_module.mask(value)} in rule {rule}; "
              "it takes effect at the next run.")


def _print_suppressions(rows: list[dict]) -> None:
    table = Table(title="Caseworker removals")
    for col in ("id", "rule", "cpr", "by", "department", "reason", "until", "created", "state"):
        table.add_column(col, no_wrap=col in ("id", "cpr"), min_width=11 if col == "cpr" else None)
    for r in rows:
        table.add_row(r["id"], r["rule"], r["cpr"], r["by"], r["department"] or "", r["reason"],
                      str(r["until"] or ""), f"{r['created']:%Y-%m-%d}", r["state"])
    stdout.print(table)


@app.command()
def runs(out: OutOpt = Path("reports"), warehouse: WarehouseOpt = None) -> None:
    """List the runs in the ledger: as-of, status, flag counts, delivery state, the rule set's hash and the run's folder."""
    from targetgroup.register import suppress as ops  # noqa: PLC0415

    try:
        rows = ops.list_runs(_warehouse(warehouse, out))
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    if stdout.width < RUNS_TABLE_WIDTH:
        _print_runs_narrow(rows)
        return
    table = Table(title="Runs")
    for col in ("run id", "as-of", "status", "citizens", "new", "continuing", "updated", "ended", "actions",
                "delivery", "rules", "rules hash", "folder"):
        table.add_column(col, no_wrap=True)
    for r in rows:
        table.add_row(r["run_id"], str(r["as_of"]), r["status"], *(_n(r[k]) for k in COUNTS), r["delivery"],
                      r["rules_name"] or "", (r["rules_hash"] or "")[:12], Path(r["folder"] or "").name)
    stdout.print(table)


COUNTS = ("citizens", "new", "continuing", "updated", "ended", "actions")
RUNS_TABLE_WIDTH = 182   # the table's width with a 20-character run id and the delivery column; narrower terminals get blocks


def _print_runs_narrow(rows: list[dict]) -> None:
    """Two lines per run, each under 80 characters: id, as-of, status, rule set; then the counts;
    a third with the delivery state when the run has deliveries."""
    stdout.print(f"Runs (a terminal of {RUNS_TABLE_WIDTH} columns shows them as a table)", markup=False)
    for r in rows:
        stdout.print(f"{r['run_id']}  as-of {r['as_of']}  {r['status']:<9}  rules {r['rules_name'] or '-'} "
                     f"{(r['rules_hash'] or '')[:12]}", markup=False, soft_wrap=True)
        stdout.print("    " + "  ".join(f"{k} {_n(r[k]) or '-'}" for k in COUNTS), markup=False, soft_wrap=True)
        if r["delivery"]:
            stdout.print(f"    delivery {r['delivery']}", markup=False, soft_wrap=True)


def _n(value: object) -> str:
    return "" if value is None else f"{value:,}"


@app.command()
def history(
    cpr: Annotated[str, typer.Option("--cpr", help="The citizen (DDMMYY-SSSS).")],
    out: OutOpt = Path("reports"),
    warehouse: WarehouseOpt = None,
) -> None:
    """Show one citizen's flags, markings, removals, actions, family flags left and consent records
    over time (terminal only, never logged)."""
    from targetgroup import cpr as cpr_module  # noqa: PLC0415
    from targetgroup.register import suppress as ops  # noqa: PLC0415

    try:
        value = cpr_module.parse_typed(cpr)
        found = ops.citizen_history(_warehouse(warehouse, out), value)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    heads = {
        "flags": ("flag", "version", "rule", "subject", "from", "to", "status", "departments", "change", "end reason"),
        "markings": ("system", "code", "start", "from", "to", "status", "reason", "end reason"),
        "removals": ("id", "rule", "by", "reason", "until", "created", "state"),
        "actions": ("as-of", "system", "action", "code", "start", "end", "reason"),
        "left family flags": ("flag", "version", "rule", "left on", "member's end reason"),
        "consents": ("id", "consent", "departments", "by", "department", "given on", "until", "origin"),
    }
    if not any(found.values()):
        stdout.print(f"{cpr_module.mask(value)} has never been flagged.")
        return
    for section, rows in found.items():
        table = Table(title=f"{section} for {cpr_module.mask(value)}")
        for col in heads[section]:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*("" if v is None else ", ".join(v) if isinstance(v, list) else str(v) for v in row))
        stdout.print(table)
