"""`targetgroup deliver`: deliver what committed runs still have pending (drop folders, mail)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from targetgroup.cli import app, err, fail
from targetgroup.cli.register import OutOpt, WarehouseOpt, _warehouse


@app.command()
def deliver(
    run: Annotated[Optional[str], typer.Option("--run", help="The run to deliver (default: every run with pending deliveries).")] = None,
    delivery: Annotated[Optional[Path], typer.Option("--delivery", envvar="TARGETGROUP_DELIVERY", help="Delivery file (YAML, docs/delivery.md); default $TARGETGROUP_DELIVERY.")] = None,
    out: OutOpt = Path("reports"),
    warehouse: WarehouseOpt = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait if a run holds the warehouse.")] = 0.0,
) -> None:
    """Retry the deliveries of committed runs that are still pending; a delivered target is never
    delivered again. Exit code 5 while something stays pending."""
    from targetgroup import interrupts  # noqa: PLC0415
    from targetgroup.config import load_sources  # noqa: PLC0415
    from targetgroup.delivery import ledger  # noqa: PLC0415
    from targetgroup.delivery.config import load_delivery  # noqa: PLC0415
    from targetgroup.delivery.night import deliver_committed, sources_file  # noqa: PLC0415
    from targetgroup.errors import ConfigError  # noqa: PLC0415
    from targetgroup.warehouse import run_lock  # noqa: PLC0415

    path = _warehouse(warehouse, out)
    pending = 0
    try:
        if delivery is None:
            raise ConfigError("no delivery file", hint="pass --delivery FILE or set TARGETGROUP_DELIVERY")
        with run_lock(path, wait):
            run_ids = [run] if run else ledger.undelivered_runs(path)
            if not run_ids:
                err.print("Nothing to deliver: every committed run's deliveries are done.")
            for run_id in run_ids:
                config = load_delivery(delivery, load_sources(sources_file(path, run_id), check_files=False))
                result = deliver_committed(path, run_id, config, lambda line: err.print(f"  {escape(line)}", soft_wrap=True))
                pending += result.pending
                state = ledger.state_text(result.delivered, result.total, 0) or "nothing to deliver"
                err.print(f"Run {run_id}: {state}", soft_wrap=True)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    if pending:
        err.print(f"[yellow]Delivery pending:[/] {pending} target(s) not delivered; run targetgroup deliver again "
                  "when the cause is fixed.", markup=True, soft_wrap=True)
        raise typer.Exit(interrupts.EXIT_DELIVERY_PENDING)
