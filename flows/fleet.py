"""The Prefect flow `fleet`: every municipality of a fleet file as one task on a Dask cluster.

    run_fleet_flow(fleet_file, as_of=None, workers=2, scheduler=None)   picks the task runner, runs `fleet`

`fleet` runs on prefect-dask's DaskTaskRunner: `address=` joins an existing scheduler
(`dask scheduler` on one host, `dask worker` on several), else `cluster_class`/`cluster_kwargs`
start a LocalCluster of `workers` processes on 127.0.0.1. Each task calls
targetgroup.fleet.run.run_municipality, the same function `targetgroup fleet` submits, which never
raises for a municipality's failure (FAILED.txt and ALERT.txt in its own folder). The flow
publishes the summary (status, counts, seconds, worker; no CPR) as a table artifact in the
Prefect UI and as fleet_summary.json next to the fleet file, and fails when any municipality did.

Privacy (docs/privacy.md): parameters are a path, a date, a number and an address; tasks are not
cached and their results not persisted; log lines carry names and counts only.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import dask
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from targetgroup import privacy
from targetgroup.errors import RunError
from targetgroup.fleet.file import load_fleet
from targetgroup.fleet.run import ALLOWED_FAILURES, Job, Outcome, job_for, lost, run_municipality, worker_memory
from targetgroup.fleet.summary import rows, totals, write_summary


@task(name="municipality", cache_policy=NO_CACHE, persist_result=False, log_prints=False)
def municipality(job: Job) -> Outcome:
    """One municipality's whole run on a Dask worker; its failure is its own (never raised)."""
    return run_municipality(job)


@flow(name="fleet", persist_result=False, log_prints=False)
def fleet(fleet_file: str, as_of: date | None = None) -> dict[str, object]:
    """Run every municipality of FLEET_FILE on AS_OF (default today), one task each, and publish the summary."""
    privacy.private_umask()
    privacy.install_log_scrubber()
    started = time.perf_counter()
    loaded = load_fleet(Path(fleet_file))
    day = as_of or date.today()
    jobs = [job_for(m, day) for m in loaded.municipalities]
    futures = [municipality.submit(job) for job in jobs]
    outcomes = []
    for job, future in zip(jobs, futures):
        try:
            outcomes.append(future.result())
        except Exception as exc:  # noqa: BLE001 - a task lost with its worker twice
            outcomes.append(lost(job, exc, time.perf_counter() - started))
    path = write_summary(loaded.file.parent / "fleet_summary.json", day, outcomes, time.perf_counter() - started)
    create_table_artifact(key="fleet-summary", table=rows(outcomes),
                          description=f"targetgroup fleet on {day}: per municipality status, counts, seconds, worker")
    counts = totals(outcomes)
    get_run_logger().info("fleet on %s: %s committed, %s failed; summary %s", day, counts["committed"],
                          counts["failed"], path)
    if counts["failed"]:
        failed = ", ".join(o.name for o in outcomes if o.status != "committed")
        raise RunError(f"{counts['failed']} of {counts['municipalities']} municipalities failed: {failed}",
                       hint="each has ALERT.txt in its own folder; the others are committed")
    return {"as_of": day.isoformat(), **counts, "summary": str(path)}


def task_runner(workers: int = 2, scheduler: str | None = None, jobs: list[Job] | None = None) -> DaskTaskRunner:
    """DaskTaskRunner on `scheduler`, or on a new LocalCluster of `workers` one-thread processes."""
    if scheduler:
        return DaskTaskRunner(address=scheduler)
    kwargs = {"n_workers": workers, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
              "dashboard_address": None}
    if jobs:
        kwargs["memory_limit"] = worker_memory(jobs)
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=kwargs)


def run_fleet_flow(fleet_file: str, as_of: date | None = None, workers: int = 2,
                   scheduler: str | None = None) -> object:
    """Run the `fleet` flow on the chosen cluster (a task runner is not a flow parameter)."""
    day = as_of or date.today()
    jobs = [job_for(m, day) for m in load_fleet(Path(fleet_file)).municipalities]
    # a task lost with its worker is run once more elsewhere (the local cluster's scheduler is created here)
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        return fleet.with_options(task_runner=task_runner(workers, scheduler, jobs))(fleet_file, day)


if __name__ == "__main__":  # pragma: no cover
    import sys
    run_fleet_flow(sys.argv[1], workers=int(sys.argv[2]) if len(sys.argv) > 2 else 2)
