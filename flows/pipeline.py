"""Prefect flows that wire the library's stage functions (targetgroup.pipeline) in pipeline order.

    nightly(as_of=None, sources=..., out="reports", ...)  the scheduled run (flows/deploy.py); parameters
                                                            mirror `targetgroup run` (rules, allow_drop,
                                                            memory_limit, threads, lang, switch_rules),
                                                            else the environment (ENV)
    adhoc(as_of, rules=None, dry_run=True, ...)            for analysts: a run for any date, by
                                                            default a dry run (outputs, no register change)

Privacy (docs/privacy.md): parameters are dates, paths and switches only (stored in Prefect's
database in plain text); tasks return objects that stay in memory (NO_CACHE, results not
persisted); log lines carry counts only and every log record is CPR-scrubbed; an unexpected
exception is replaced by its type name before Prefect stores its text, and a failed flow's
exception, which Prefect pickles into its result storage whatever `persist_result` says,
pickles as its scrubbed text only (TargetGroupError.__reduce__). The flows set the
umask to 077 when they start. On failure a hook writes ALERT.txt into the run folder (or OUT
when the run never got one) and logs one line, both scrubbed.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.logging.loggers import flow_run_logger
from prefect.tasks import exponential_backoff

from targetgroup import pipeline, privacy
from targetgroup.config import SAMPLE_SOURCES
from targetgroup.deliver.files import write_text
from targetgroup.errors import RunError, TargetGroupError, internal
from targetgroup.rules import resolve_rule_set
from targetgroup.warehouse import run_lock

TASK = {"cache_policy": NO_CACHE, "persist_result": False, "log_prints": False}
# run folders of flow runs in this process, so the failure hook can put ALERT.txt there
RUN_FOLDERS: dict[str, Path] = {}


def _private_process() -> None:
    """Umask 077 and scrubbed log records for this process (flows/deploy.py does it at start too)."""
    privacy.private_umask()
    privacy.install_log_scrubber()


def _safe(stage_fn):
    """Call a stage; any non-project exception becomes a RunError naming only its type (no data)."""
    def call(*args, **kwargs):
        try:
            return stage_fn(*args, **kwargs)
        except TargetGroupError:
            raise
        except Exception as exc:  # noqa: BLE001 - its text may quote input rows
            raise internal(exc, stage_fn.__name__) from None
    call.__name__ = stage_fn.__name__
    return call


@task(name="prepare", **TASK)
def prepare_task(settings: pipeline.RunSettings) -> pipeline.Run:
    """Load the configuration, open the work connection, check the as-of date."""
    def progress(stage: str, detail: str) -> None:
        if detail != "started":
            get_run_logger().info("%s: %s", stage, detail)  # counts and paths only (pipeline's contract)
    return _safe(pipeline.prepare)(settings, progress, sweep=True)   # sweep: we hold the warehouse lock


@task(name="extract", retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=10),
      retry_jitter_factor=0.5, **TASK)
def extract_task(run: pipeline.Run) -> dict[str, int]:
    """Read every extract (retried with back-off: files may still be arriving)."""
    return _safe(pipeline.extract)(run)


@task(name="stage", **TASK)
def stage_task(run: pipeline.Run) -> dict[str, int]:
    """Build the canonical persons, cases and rejects tables."""
    return _safe(pipeline.stage)(run)


@task(name="validate", **TASK)
def validate_task(run: pipeline.Run) -> dict[str, int]:
    """The quality gate: expectations, quarantine, volume guard (stops the run on errors)."""
    return _safe(pipeline.validate)(run)


@task(name="identify", **TASK)
def identify_task(run: pipeline.Run) -> dict[str, int]:
    """Find the target group on the as-of date."""
    return _safe(pipeline.identify)(run)


@task(name="register", **TASK)
def register_task(run: pipeline.Run) -> dict[str, int]:
    """Compare the target group with the flag register; actions and notices (no warehouse writes)."""
    return _safe(pipeline.register)(run)


@task(name="deliver", **TASK)
def deliver_task(run: pipeline.Run) -> dict[str, int]:
    """Write caseworker lists, the leadership report and analyst files."""
    return _safe(pipeline.deliver)(run)


@task(name="commit", **TASK)
def commit_task(run: pipeline.Run) -> None:
    """Store the run in the warehouse in one transaction (skipped in a dry run)."""
    _safe(pipeline.commit)(run)


@task(name="deliver to caseworkers", retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=30),
      retry_jitter_factor=0.5, **TASK)
def delivery_task(warehouse: Path, run_id: str, config: object) -> str:
    """Deliver the committed run's pending targets (drop folders, mail); raises while some stay
    pending, so Prefect retries with back-off. Delivered targets are never repeated."""
    from targetgroup.delivery import ledger  # noqa: PLC0415
    from targetgroup.delivery.night import deliver_committed  # noqa: PLC0415

    with run_lock(warehouse, 600.0):
        result = deliver_committed(warehouse, run_id, config, lambda line: get_run_logger().info("delivery: %s", line))
    state = ledger.state_text(result.delivered, result.total, 0)
    if result.pending:
        raise RunError(f"run {run_id}: delivery {state}; {result.errors[-1] if result.errors else ''}",
                       hint=f"targetgroup deliver --run {run_id}")
    return state


@task(name="finish", **TASK)
def finish_task(run: pipeline.Run, status: str, error: TargetGroupError | None = None) -> str:
    """Write the run manifest and put the run folder in its place; returns the manifest's path.
    Sets run.status: "committed" when the ledger holds the run, even if `status` said failed."""
    return str(pipeline.finish(run, status=status, error=error))


# What the CLI takes as options, the flows take as parameters or, when a parameter is not given,
# from the environment (a deployment's or the worker's): the same names the CLI documents.
ENV = {"rules": "TARGETGROUP_RULES", "allow_drop": "TARGETGROUP_ALLOW_DROP", "lang": "TARGETGROUP_LANG",
       "threads": "TARGETGROUP_THREADS", "memory_limit": "TARGETGROUP_MEMORY_LIMIT",
       "delivery": "TARGETGROUP_DELIVERY"}


def _settings(as_of: date | None, sources: str, out: str, warehouse: str | None, rules: str | None,
              lang: str | None, dry_run: bool, rebuild: bool, allow_drop: list[str] | None = None,
              memory_limit: str | None = None, threads: int | None = None,
              switch_rules: bool = False, delivery: str | None = None) -> pipeline.RunSettings:
    """RunSettings from flow parameters; a parameter left out (None) comes from the environment
    (ENV: TARGETGROUP_RULES, TARGETGROUP_ALLOW_DROP as a comma-separated list of sources,
    TARGETGROUP_LANG, TARGETGROUP_THREADS, TARGETGROUP_MEMORY_LIMIT, TARGETGROUP_DELIVERY), else the
    CLI's default."""
    rules = rules or os.environ.get(ENV["rules"]) or None
    if allow_drop is None:
        allow_drop = [s.strip() for s in os.environ.get(ENV["allow_drop"], "").split(",") if s.strip()]
    lang = lang or os.environ.get(ENV["lang"]) or "da"
    if lang not in ("da", "en"):
        raise RunError(f"language {lang!r} is not da or en", hint=f"set the lang parameter or {ENV['lang']}")
    # the resolver the CLI uses: a path, or a shipped or local rule set's name
    extra = {"rules": resolve_rule_set(rules)} if rules else {}
    delivery = delivery or os.environ.get(ENV["delivery"]) or None
    if delivery:
        extra["delivery"] = Path(delivery)
    # threads and memory limit: None lets the warehouse read TARGETGROUP_THREADS / _MEMORY_LIMIT
    return pipeline.RunSettings(sources=Path(sources), as_of=as_of or date.today(), out=Path(out),
                                warehouse=Path(warehouse) if warehouse else None, lang=lang,
                                dry_run=dry_run, rebuild=rebuild, wait_seconds=600.0,
                                allow_drop=tuple(allow_drop), memory_limit=memory_limit, threads=threads,
                                switch_rules=switch_rules, **extra)


def run_stages(settings: pipeline.RunSettings, flow_run_id: str | None) -> dict[str, object]:
    """The pipeline in order, as tasks, under the warehouse lock (mirrors pipeline.run_pipeline)."""
    with run_lock(settings.warehouse_path, settings.wait_seconds):
        run = prepare_task(settings)
        try:
            extract_task(run)
            stage_task(run)
            validate_task(run)
            identify_task(run)
            register_task(run)
            deliver_task(run)
            commit_task(run)
        except BaseException as exc:
            finish_task(run, "failed", exc if isinstance(exc, TargetGroupError) else
                        RunError(f"internal error ({type(exc).__name__})"))
            if flow_run_id:
                RUN_FOLDERS[flow_run_id] = run.report_dir   # failed/<as-of>_<run-id>, for the alert
            if run.status != "committed":   # the ledger decides: stopped after its commit, it is stored
                raise
        else:
            finish_task(run, "dry_run" if settings.dry_run else "committed")
        finally:
            run.close()   # finish closed it already, unless finish itself failed
    delivery = None
    if run.status == "committed" and run.delivery is not None:   # after the commit; the lock is taken again
        state = delivery_task(settings.warehouse_path, run.run_id, run.delivery, return_state=True)
        delivery = state.result() if state.is_completed() else "pending (targetgroup deliver)"
        if not state.is_completed():
            get_run_logger().warning("run %s is stored; delivery pending after retries: operations alerted",
                                     run.run_id)
    flags = run.summary.get("flags", {})
    get_run_logger().info("run %s done: %s citizens flagged; flags new %s, continuing %s, ended %s; report %s",
                          run.run_id, run.summary["identify"]["citizens_flagged"], flags.get("new"),
                          flags.get("continuing"), flags.get("ended"), run.summary.get("report_html"))
    return {"run_id": run.run_id, "report_dir": str(run.report_dir), "flags": dict(flags), "delivery": delivery}


def alert_on_failure(flow, flow_run, state) -> None:
    """Failure hook: one log line and ALERT.txt in the run folder (or in OUT), without any CPR."""
    folder = RUN_FOLDERS.pop(str(flow_run.id), None) or Path(flow_run.parameters.get("out", "reports"))
    message = privacy.scrub(
        f"ALERT: targetgroup flow '{flow.name}' run '{flow_run.name}' failed at "
        f"{datetime.now().isoformat(timespec='seconds')} (state {state.name}). "
        f"{state.message or ''}\nSee manifest.json and FAILED.txt in {folder}; nothing was stored "
        f"in the warehouse.\n")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_text(folder / "ALERT.txt", message)
    finally:
        flow_run_logger(flow_run, flow).error(message.strip())
        _mail_operations(flow_run.parameters, state.message)


def _mail_operations(parameters: dict, cause: str | None) -> None:
    """Operations' mail about a failed flow run, when a delivery file is configured (best effort)."""
    from types import SimpleNamespace  # noqa: PLC0415

    from targetgroup.delivery.alerts import mail_failure  # noqa: PLC0415

    delivery = parameters.get("delivery") or os.environ.get(ENV["delivery"])
    if not delivery:
        return
    as_of = parameters.get("as_of")
    settings = SimpleNamespace(delivery=Path(delivery), sources=Path(parameters.get("sources") or SAMPLE_SOURCES),
                               as_of=date.fromisoformat(str(as_of)) if as_of else date.today(),
                               lang=parameters.get("lang") or os.environ.get(ENV["lang"]) or "da")
    try:
        mail_failure(settings, cause)
    except Exception:  # noqa: BLE001, S110 - the failure is logged and ALERT.txt written already
        pass


@flow(name="targetgroup-nightly", on_failure=[alert_on_failure], persist_result=False, log_prints=False)
def nightly(as_of: date | None = None, sources: str = str(SAMPLE_SOURCES), out: str = "reports",
            warehouse: str | None = None, rules: str | None = None, lang: str | None = None,
            rebuild: bool = False, allow_drop: list[str] | None = None, memory_limit: str | None = None,
            threads: int | None = None, switch_rules: bool = False, delivery: str | None = None) -> dict[str, object]:
    """The nightly run: find the target group on AS_OF (default today), write reports, store the run,
    then deliver it (drop folders, notices) with retries when a delivery file is given.

    Parameters mirror `targetgroup run`; rules, allow_drop, lang, threads, memory_limit and delivery
    (a path, never a secret) left out come from the environment (see ENV)."""
    from prefect.runtime import flow_run  # noqa: PLC0415
    _private_process()
    settings = _settings(as_of, sources, out, warehouse, rules, lang, False, rebuild, allow_drop, memory_limit,
                         threads, switch_rules, delivery)
    return _safe(run_stages)(settings, flow_run.id)


@flow(name="targetgroup-adhoc", on_failure=[alert_on_failure], persist_result=False, log_prints=False)
def adhoc(as_of: date, rules: str | None = None, dry_run: bool = True, sources: str = str(SAMPLE_SOURCES),
          out: str = "reports/adhoc", warehouse: str | None = "reports/warehouse.duckdb", lang: str | None = None,
          allow_drop: list[str] | None = None, memory_limit: str | None = None, threads: int | None = None,
          switch_rules: bool = False) -> dict[str, object]:
    """An analyst's run for any date and rule set; a dry run by default (changes no register).
    Another rule set than the last committed run's needs switch_rules, as on the command line."""
    from prefect.runtime import flow_run  # noqa: PLC0415
    _private_process()
    # a dry run may take any date without rebuild; a real ad hoc run never rewrites the register
    settings = _settings(as_of, sources, out, warehouse, rules, lang, dry_run, False, allow_drop, memory_limit,
                         threads, switch_rules)
    return _safe(run_stages)(settings, flow_run.id)
