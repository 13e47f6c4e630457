"""Run a fleet: one task per municipality, on a Dask cluster (or one after another in this process).

    job_for(municipality, as_of)          -> Job (what one task needs: paths, date, limits; no data)
    run_municipality(job)                 -> Outcome (the ONE per-municipality task, used by the CLI,
                                             the Prefect flow `fleet` and the sequential mode)
    run_fleet(fleet, as_of, workers=N | scheduler=ADDRESS | workers=0)
                                          -> list[Outcome], in fleet-file order

`run_municipality` calls the same entry as `targetgroup run` (pipeline.run_pipeline) with the
municipality's own out folder, rule set, pseudonym key file, memory limit and threads. It never
raises for a failed run: the failure is the municipality's alone. Its run folder holds FAILED.txt
(the pipeline's), ALERT.txt is written into that folder (or into its out folder when the run
never got one) and the outcome says "failed" with the scrubbed error text. While it works, the
`targetgroup` logger writes only to the municipality's own log file, `<out>/logs/<as-of>.log`
(and does not propagate to the worker's log), so nothing of one municipality reaches another's
logs.

A task whose worker dies (killed, out of memory) is given to another worker once: the local
cluster is started with dask's `distributed.scheduler.allowed-failures` = 1, and an external
scheduler should be started with the same (docs/fleet.md). The retry is safe: the warehouse lock
is an flock, which the kernel releases with the dead process; nothing was committed (the commit
is one transaction), and the retry's run sweeps the staging folder the dead one left. A task lost
twice is reported "failed" (worker lost) with an ALERT.txt in its out folder.

TEST HOOK: with TARGETGROUP_FLEET_HOLD_DIR set, every run touches `<dir>/<name>.<pid>.reached`
when its register stage starts (lock held, nothing committed); if `<dir>/<name>.hold` exists it
also writes `<dir>/<name>.<pid>.waiting` and waits until the hold file is removed. Tests use it
to kill a worker mid-run and to count the attempts.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from targetgroup import privacy
from targetgroup.deliver.files import make_private_dir, write_text
from targetgroup.errors import RunError, RunInterrupted, TargetGroupError, internal
from targetgroup.fleet.file import Fleet, Municipality

HOLD_ENV = "TARGETGROUP_FLEET_HOLD_DIR"
ALLOWED_FAILURES = 1          # a task lost with its worker runs once more, elsewhere
DEFAULT_RUN_MEMORY = "1GB"    # DuckDB's limit per run when the fleet file sets none
WORKER_OVERHEAD_MB = 768      # Python, pandas, pyarrow, Great Expectations in a worker, beside DuckDB
log = logging.getLogger("targetgroup")


@dataclass(frozen=True)
class Job:
    """Everything one municipality's task needs (paths, date, limits): pickled to a worker."""

    name: str
    sources: str
    rules: str
    out: str
    pseudonym_key_file: str
    as_of: date
    memory_limit: str | None
    threads: int | None
    delivery: str | None = None


@dataclass
class Outcome:
    """One municipality's night: status committed | failed, counts only, seconds, worker. No CPR."""

    name: str
    status: str
    seconds: float
    worker: str
    run_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    folder: str | None = None
    peak_mb: int | None = None        # the worker process's peak resident memory so far (MB)

    def to_dict(self) -> dict[str, object]:
        """Plain data for fleet_summary.json and the Prefect artifact."""
        return asdict(self)


def job_for(m: Municipality, as_of: date) -> Job:
    """The task description for municipality `m` on `as_of`."""
    return Job(name=m.name, sources=str(m.sources), rules=str(m.rules), out=str(m.out),
               pseudonym_key_file=str(m.pseudonym_key_file), as_of=as_of,
               memory_limit=m.memory_limit or DEFAULT_RUN_MEMORY, threads=m.threads or 1,
               delivery=str(m.delivery) if m.delivery else None)


def worker_name() -> str:
    """The Dask worker this code runs on ('host:port'), or 'local' outside a worker."""
    try:
        from distributed import get_worker  # noqa: PLC0415
        return get_worker().address.removeprefix("tcp://")
    except (ImportError, ValueError):
        return "local"


def run_municipality(job: Job) -> Outcome:
    """Run one municipality's pipeline (as `targetgroup run` would); never raises for its failure."""
    from targetgroup.pipeline import RunSettings, run_pipeline  # noqa: PLC0415 - heavy, in the worker

    privacy.private_umask()
    privacy.install_log_scrubber()
    out = make_private_dir(Path(job.out))
    started = time.perf_counter()
    worker = worker_name()
    failed_before = _failed_folders(out)
    with _own_log(out / "logs" / f"{job.as_of:%Y-%m-%d}.log") as logger:
        logger.info("fleet: %s on %s, worker %s", job.name, job.as_of, worker)
        # its own delivery file, as `targetgroup run --delivery` takes it (docs/delivery.md)
        settings = RunSettings(sources=Path(job.sources), rules=Path(job.rules), as_of=job.as_of, out=out,
                               threads=job.threads, memory_limit=job.memory_limit,
                               delivery=Path(job.delivery) if job.delivery else None,
                               pseudonym_key_file=Path(job.pseudonym_key_file), wait_seconds=60.0)
        try:
            run = run_pipeline(settings, _progress(logger, job))
        except BaseException as exc:  # noqa: BLE001 - a municipality's failure is its own
            if worker == "local" and isinstance(exc, (KeyboardInterrupt, SystemExit, RunInterrupted)):
                raise   # Ctrl-C on `targetgroup fleet --workers 0` stops the fleet, not only this run
            error = exc if isinstance(exc, TargetGroupError) else internal(exc, "the pipeline")
            logger.error("fleet: %s failed: %s", job.name, error)
            new = sorted(_failed_folders(out) - failed_before)
            folder = out / "failed" / new[-1] if new else out
            _alert(folder, job, worker, str(error))
            return Outcome(name=job.name, status="failed", seconds=round(time.perf_counter() - started, 2),
                           worker=worker, error=privacy.scrub(str(error)), folder=str(folder), peak_mb=_peak_mb())
        flags = run.summary.get("flags", {})
        counts = {"citizens_flagged": int(run.summary["identify"]["citizens_flagged"]),
                  "active_cases": int(run.summary["identify"]["active_cases"]),
                  **{f"flags_{k}": int(flags.get(k, 0)) for k in ("new", "continuing", "ended")}}
        logger.info("fleet: %s %s, run %s, %s citizens flagged", job.name, run.status, run.run_id,
                    counts["citizens_flagged"])
        return Outcome(name=job.name, status=run.status or "committed", seconds=round(time.perf_counter() - started, 2),
                       worker=worker, run_id=run.run_id, counts=counts, folder=str(run.report_dir), peak_mb=_peak_mb())


def lost(job: Job, exc: BaseException, seconds: float) -> Outcome:
    """The outcome of a task that never returned (its worker died twice, or the task itself broke):
    ALERT.txt in its out folder; the exception's type only (its text may quote data)."""
    out = make_private_dir(Path(job.out))
    message = (f"the task was lost with its worker twice ({type(exc).__name__}); nothing was committed by it"
               if type(exc).__name__ == "KilledWorker" else
               f"the task stopped with an internal error ({type(exc).__name__}) before its run finished")
    _alert(out, job, "lost", message)
    return Outcome(name=job.name, status="failed", seconds=round(seconds, 2), worker="lost", error=message,
                   folder=str(out))


def _peak_mb() -> int:
    """This process's peak resident memory in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _failed_folders(out: Path) -> set[str]:
    failed = out / "failed"
    return {p.name for p in failed.iterdir()} if failed.is_dir() else set()


def _alert(folder: Path, job: Job, worker: str, error: str) -> None:
    """ALERT.txt for the operator, in the municipality's own folder; scrubbed, no CPR."""
    text = (f"ALERT: targetgroup fleet: municipality {job.name} failed on {job.as_of} "
            f"at {datetime.now().isoformat(timespec='seconds')} (worker {worker}).\n{error}\n"
            "Nothing was stored in its warehouse; the other municipalities are not affected.\n")
    write_text(make_private_dir(folder) / "ALERT.txt", privacy.scrub(text))


class _own_log:
    """While a task runs: the `targetgroup` logger writes to this municipality's file only."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> logging.Logger:
        make_private_dir(self.path.parent)
        self.handler = logging.FileHandler(self.path, encoding="utf-8")
        os.chmod(self.path, 0o600)
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.saved = (log.handlers[:], log.propagate, log.level)
        log.handlers[:] = [self.handler]
        log.propagate = False
        log.setLevel(logging.INFO)
        return log

    def __exit__(self, *exc: object) -> None:
        log.handlers[:], log.propagate, level = self.saved
        log.setLevel(level)
        self.handler.close()


def _progress(logger: logging.Logger, job: Job):
    """Stage progress into the municipality's log (counts only), and the test hook."""
    def progress(stage: str, detail: str) -> None:
        if detail != "started":
            logger.info("%s: %s", stage, detail)
        elif stage == "register":
            _hold(job)
    return progress


def _hold(job: Job) -> None:
    folder = os.environ.get(HOLD_ENV)
    if not folder:
        return
    (Path(folder) / f"{job.name}.{os.getpid()}.reached").touch()
    hold = Path(folder) / f"{job.name}.hold"
    if hold.exists():
        (Path(folder) / f"{job.name}.{os.getpid()}.waiting").touch()
    while hold.exists():
        time.sleep(0.05)


def worker_memory(jobs: list[Job]) -> str:
    """Memory per Dask worker: the largest per-run DuckDB limit plus the worker's own overhead."""
    from dask.utils import parse_bytes  # noqa: PLC0415
    largest = max(parse_bytes(j.memory_limit or DEFAULT_RUN_MEMORY) for j in jobs)
    return f"{(largest >> 20) + WORKER_OVERHEAD_MB}MiB"


def run_fleet(fleet: Fleet, as_of: date, *, workers: int | None = 1, scheduler: str | None = None,
              names: list[str] | None = None, on_done=None) -> list[Outcome]:
    """Run every municipality (or those in `names`); return their outcomes in fleet-file order.

    `scheduler` ('tcp://host:8786'): join that cluster. Else `workers` >= 1: a local cluster of that
    many worker processes on 127.0.0.1 (one thread each, memory per worker from `worker_memory`).
    `workers` == 0: one after another in this process (no Dask). `on_done(outcome)` is called as
    each municipality finishes.
    """
    chosen = [m for m in fleet.municipalities if names is None or m.name in names]
    unknown = sorted(set(names or ()) - {m.name for m in chosen})
    if unknown:
        raise RunError(f"not in the fleet file: {', '.join(unknown)}", hint=f"the names are: {', '.join(fleet.names())}")
    jobs = [job_for(m, as_of) for m in chosen]
    if scheduler is None and not workers:
        outcomes = []
        for job in jobs:
            outcomes.append(run_municipality(job))
            if on_done:
                on_done(outcomes[-1])
        return outcomes
    with cluster_client(jobs, workers, scheduler) as client:
        return _on_cluster(client, jobs, on_done)


class cluster_client:
    """A dask.distributed Client: on `scheduler`, or on a new local cluster of `workers` processes."""

    def __init__(self, jobs: list[Job], workers: int | None, scheduler: str | None):
        self.jobs, self.workers, self.scheduler = jobs, workers, scheduler
        self.cluster = None

    def __enter__(self):
        import dask  # noqa: PLC0415
        from distributed import Client, LocalCluster  # noqa: PLC0415

        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="20s")
            except OSError as exc:
                raise RunError(f"cannot reach the Dask scheduler at {self.scheduler} ({type(exc).__name__})",
                               hint="start it with `dask scheduler` (docs/fleet.md) or check the address") from None
            return self.client
        with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                        memory_limit=worker_memory(self.jobs), host="127.0.0.1",
                                        dashboard_address=None)
        self.client = Client(self.cluster)
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _on_cluster(client, jobs: list[Job], on_done) -> list[Outcome]:
    from distributed import as_completed  # noqa: PLC0415

    started = time.perf_counter()
    futures = {client.submit(run_municipality, job, key=f"targetgroup-{job.name}-{job.as_of}-{time.time_ns()}",
                             pure=False): job for job in jobs}
    results: dict[str, Outcome] = {}
    for future in as_completed(futures):
        job = futures[future]
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - KilledWorker and the like: the task never finished
            outcome = lost(job, exc, time.perf_counter() - started)
        results[job.name] = outcome
        if on_done:
            on_done(outcome)
    return [results[job.name] for job in jobs]
