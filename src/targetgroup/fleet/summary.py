"""The fleet's night in one table: per municipality its status, counts, seconds and worker.

    rows(outcomes)                      -> list of flat dicts (the table's rows; no CPR, no paths)
    write_summary(path, as_of, outcomes) -> fleet_summary.json (mode 600)

The same rows feed the CLI table, the Prefect flow's table artifact and fleet_summary.json. An
error text is the pipeline's own message, already worded without cells and scrubbed again here.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from targetgroup import privacy
from targetgroup.deliver.files import write_json
from targetgroup.fleet.run import Outcome


def rows(outcomes: list[Outcome]) -> list[dict[str, object]]:
    """One flat row per municipality, in the order given."""
    return [{"municipality": o.name, "status": o.status,
             **{k: o.counts.get(k) for k in ("citizens_flagged", "flags_new", "flags_continuing", "flags_ended")},
             "seconds": o.seconds, "worker": o.worker, "peak_mb": o.peak_mb, "run_id": o.run_id,
             "error": privacy.scrub(o.error) if o.error else None} for o in outcomes]


def totals(outcomes: list[Outcome]) -> dict[str, int]:
    """How many municipalities committed and failed."""
    committed = sum(o.status == "committed" for o in outcomes)
    return {"municipalities": len(outcomes), "committed": committed, "failed": len(outcomes) - committed}


def write_summary(path: Path, as_of: date, outcomes: list[Outcome], wall_seconds: float) -> Path:
    """fleet_summary.json: the night's date, totals, wall time and one row per municipality."""
    return write_json(path, {"as_of": as_of.isoformat(), "written_at": datetime.now().isoformat(timespec="seconds"),
                             "wall_seconds": round(wall_seconds, 2), **totals(outcomes),
                             "municipalities": rows(outcomes)})
