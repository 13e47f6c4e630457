"""Serve the nightly deployment (04:00 Europe/Copenhagen) and the analysts' ad hoc deployment.

    PREFECT_API_URL=http://127.0.0.1:4200/api python flows/deploy.py

The schedule is a Cron in local Danish time: `serve(cron=...)` alone would be UTC, and a time
between 02:00 and 02:59 would run an hour early on the night summer time begins. Stop this
process (Ctrl-C) before stopping the Prefect server. See README "Run it every night".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if (ROOT / "src").is_dir():
    sys.path.insert(0, str(ROOT / "src"))  # a checkout without `pip install -e .`

from prefect import serve  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from flows.pipeline import adhoc, nightly  # noqa: E402

NIGHTLY_CRON = os.environ.get("TARGETGROUP_NIGHTLY_CRON", "0 4 * * *")
TIMEZONE = "Europe/Copenhagen"


def nightly_deployment():
    """The nightly deployment: parameters from TARGETGROUP_SOURCES / TARGETGROUP_OUT if set."""
    params = {"out": os.environ.get("TARGETGROUP_OUT", str(ROOT / "reports"))}
    if os.environ.get("TARGETGROUP_SOURCES"):
        params["sources"] = os.environ["TARGETGROUP_SOURCES"]
    return nightly.to_deployment(name="nightly", schedules=[Cron(NIGHTLY_CRON, timezone=TIMEZONE)],
                                 parameters=params, tags=["targetgroup"],
                                 description="Nightly target-group run, 04:00 Danish time.")


def adhoc_deployment():
    """The ad hoc deployment for analysts (no schedule; start it with parameters)."""
    out = Path(os.environ.get("TARGETGROUP_OUT", str(ROOT / "reports")))
    params = {"out": str(out / "adhoc"), "warehouse": str(out / "warehouse.duckdb")}
    if os.environ.get("TARGETGROUP_SOURCES"):
        params["sources"] = os.environ["TARGETGROUP_SOURCES"]
    return adhoc.to_deployment(name="adhoc", parameters=params, tags=["targetgroup"],
                               description="Ad hoc run for analysts: as_of, rules, dry_run.")


if __name__ == "__main__":
    from targetgroup import privacy  # noqa: PLC0415

    privacy.private_umask()          # at process start: every file the runs create is owner-only
    privacy.install_log_scrubber()
    serve(nightly_deployment(), adhoc_deployment())
