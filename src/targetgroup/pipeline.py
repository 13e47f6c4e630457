"""The pipeline's stages in order, as plain functions over one `Run`, and `run_pipeline` that chains them.

    prepare -> extract -> stage -> validate -> identify -> register -> gate_verdict -> deliver -> commit -> finish

`run_pipeline` lets Great Expectations validate in a background thread while identify and
register run (the quarantine is applied before identify either way); `gate_verdict` waits for it
and stops the run before anything is written. Called alone, `validate` waits for it itself.

A dry run (`RunSettings.dry_run`) writes every output but skips `commit`: the warehouse, the
register and the ledger stay as they were, and the manifest says so (status "dry_run").

Run folders (targetgroup.runfolder): a run writes into `<out>/.staging/<as-of>_<run-id>/`, and
`finish` moves the outputs with one rename to `<out>/<as-of>_<run-id>/` only when the ledger
holds the run (to `dry-run/`, `validated/` or `failed/` otherwise). The ledger decides: a run
stopped after its commit was sent is committed, whatever stopped it. Every temporary file
lives in the staging folder's `tmp/`. `run_pipeline` takes SIGINT and SIGTERM
(targetgroup.interrupts): before the commit it rolls back, once the commit is sent it waits.

Every stage takes the `Run`, does its work in the run's in-memory DuckDB connection (tables
named in each stage module) and returns a small summary with counts only, never CPR numbers,
so the Prefect flow in `flows/` can call the same functions as tasks. Nothing is written to the
warehouse until `commit`, which does it in one transaction.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from targetgroup import consent, coordinators, meetings
from targetgroup import extract as extract_stage
from targetgroup import interrupts, privacy, reader, runfolder, snapshots
from targetgroup import manifest as run_manifest
from targetgroup import register as flag_register
from targetgroup import stage as stage_stage
from targetgroup.config import SAMPLE_SOURCES, SourcesConfig, load_sources
# the deliver modules that use pandas (actions, analyst, excel, figures, html_report, reports) are
# imported where they are used: pandas is imported in the background while the run reads (extract)
from targetgroup.deliver import disclosure, list_store, outcomes, status
from targetgroup.deliver.files import make_private_dir, write_text
from targetgroup.delivery import ledger as delivery_ledger
from targetgroup.delivery import night as delivery_night
from targetgroup.delivery.config import load_delivery
from targetgroup.errors import RunError, RunInterrupted, TargetGroupError, internal
from targetgroup.rules import DEFAULT_RULES, load_rules, resolve_rule_set
from targetgroup.rules.evaluate import evaluate, store_family_key, store_history
from targetgroup.warehouse import ALIAS, DEFAULT_WAREHOUSE, attached, ledger_has, open_work, run_lock, run_sql
from targetgroup.warehouse import commit as commit_warehouse

Progress = Callable[[str, str], None]
log = logging.getLogger("targetgroup")


@dataclass
class RunSettings:
    """Everything a run can be told; the CLI and the Prefect flow fill it from their parameters."""

    sources: Path = SAMPLE_SOURCES
    rules: Path = DEFAULT_RULES
    as_of: date = field(default_factory=date.today)
    out: Path = Path("reports")
    warehouse: Path | None = None
    rebuild: bool = False
    threads: int | None = None
    memory_limit: str | None = None
    wait_seconds: float = 0.0
    suppressions: Path | None = None
    lang: str = "da"
    dry_run: bool = False
    store_extracts: bool = True
    allow_drop: tuple[str, ...] = ()
    switch_rules: bool = False
    delivery: Path | None = None       # the delivery file (targetgroup.delivery); None: nothing is delivered
    # False for a past night of a backfill (`backfill --outputs last`): the run is computed and
    # committed as usual (register, history, outcomes, action files), but writes no caseworker
    # lists, notices, leadership report or analyst files: nobody acts on a past night's lists
    deliverables: bool = True
    # the analysts' key file for this run; None: the environment's (deliver.analyst.pseudonym_key)
    pseudonym_key_file: Path | None = None

    @property
    def warehouse_path(self) -> Path:
        """The warehouse file: `--warehouse`, or `<out>/warehouse.duckdb`."""
        return self.warehouse or self.out / DEFAULT_WAREHOUSE.name


@dataclass
class Run:
    """One run in progress: settings, work connection, and what each stage reported."""

    settings: RunSettings
    config: SourcesConfig
    con: duckdb.DuckDBPyConnection
    run_id: str
    started_at: datetime
    report_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    summary: dict[str, object] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    manifest: dict[str, object] = field(default_factory=dict)
    commit_steps: list[Callable[[duckdb.DuckDBPyConnection], None]] = field(default_factory=list)
    progress: Progress = lambda stage, detail: None
    spill_dir: Path | None = None
    folder: runfolder.RunFolder | None = None
    guard: interrupts.Guard = field(default_factory=interrupts.Guard)
    commit_sent: bool = False
    status: str | None = None          # how the run ended (set by finish): committed, dry_run, failed, ...
    interrupted: str | None = None     # 'SIGINT'/'SIGTERM' when a signal came once the commit was sent
    closed: bool = False
    system_tempdir: str | None = None
    delivery: object | None = None     # the loaded delivery file (DeliveryConfig)
    delivered: object | None = None    # what delivery after the commit did (delivery.Outcome)

    def close(self) -> None:
        """Close the work connection and remove the run's temporary files (DuckDB's spill may hold
        case data); a quality gate still validating in the background is waited for first. Safe
        to call twice."""
        if self.closed:
            return
        self.closed = True
        try:
            if "gate_pending" in self.summary:
                self.summary["gate_pending"][1].wait()
            self.con.close()
        finally:
            if self.folder is not None:
                if tempfile.tempdir == str(self.folder.tmp):   # unless another run has taken it over since
                    previous = self.system_tempdir
                    tempfile.tempdir = previous if previous is None or Path(previous).is_dir() else None
                self.folder.remove_tmp()
            elif self.spill_dir is not None:
                shutil.rmtree(self.spill_dir, ignore_errors=True)

    def discard(self) -> None:
        """Close the run and remove its staging folder: for `explain`, which keeps no outputs."""
        self.close()
        if self.folder is not None:
            self.folder.release()

    def timed(self, name: str, fn: Callable[[], object]) -> object:
        """Call `fn`, record its wall time under `name`, report progress."""
        self.progress(name, "started")
        start = time.perf_counter()
        result = fn()
        self.timings[name] = round(time.perf_counter() - start, 3)
        return result


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id such as 20261122T041500-3f9a."""
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


def prepare(settings: RunSettings, progress: Progress | None = None, *, sweep: bool = False) -> Run:
    """Load and check the configuration, open the run's staging folder and work connection,
    refuse a run into the past.

    With `sweep` (a run holding the warehouse lock), first deal with what killed runs left
    (runfolder.sweep, reader.remove_leftovers) and log it. Every temporary file of the run goes
    into its staging folder's tmp/: DuckDB spills there, and `tempfile` points there until
    `Run.close` (transcoded extracts, anything a library writes).

    `settings.rules` may name a rule set (targetgroup.rules.sets.resolve_rule_set): a missing one
    is refused here, before any extract is read and without a run folder. A run that will create
    the warehouse says so (and where) through `progress`.

    Also makes the process private (umask 077, log records scrubbed: targetgroup.privacy) for
    library use; the CLI and the flows have done so already at their start.
    """
    privacy.private_umask()
    privacy.install_log_scrubber()
    started = time.perf_counter()
    config = load_sources(settings.sources)
    # a rule set name is resolved, and a missing one refused, before any extract is read or folder made
    settings = dataclasses.replace(settings, rules=resolve_rule_set(settings.rules))
    delivery_config = load_delivery(settings.delivery, config) if settings.delivery else None
    leftovers = sweep_leftovers(settings, progress) if sweep else []
    if sweep and progress and not settings.dry_run and not settings.warehouse_path.exists():
        progress("prepare", f"no warehouse yet: this run creates a new one at {settings.warehouse_path}")
    now = datetime.now()
    run_id = new_run_id(now)
    folder = runfolder.open_staging(settings.out, f"{settings.as_of:%Y-%m-%d}_{run_id}", run_id=run_id,
                                    warehouse=settings.warehouse_path)
    system_tempdir, tempfile.tempdir = tempfile.tempdir, str(folder.tmp)
    con = None
    try:
        con = open_work(settings.threads, settings.memory_limit, folder.tmp)
        run = Run(settings=settings, config=config, con=con, run_id=run_id, started_at=now,
                  report_dir=folder.report, spill_dir=folder.tmp, folder=folder, system_tempdir=system_tempdir,
                  delivery=delivery_config)
        if progress:
            run.progress = progress
        if leftovers:
            run.manifest["leftovers_cleaned"] = leftovers
        _check_as_of(run)
    except BaseException:
        if con is not None:
            con.close()
        tempfile.tempdir = system_tempdir
        folder.release()
        raise
    run.timings["prepare"] = round(time.perf_counter() - started, 3)
    return run


def sweep_leftovers(settings: RunSettings, progress: Progress | None = None) -> list[str]:
    """Publish or remove the staging folders killed runs of this warehouse left, and half-written
    reader copies; log each (run ids and folder names only). Call it holding the warehouse lock."""
    warehouse = settings.warehouse_path
    done = runfolder.sweep(settings.out, warehouse, lambda run_id: ledger_has(warehouse, run_id))
    if any(line.startswith("published") for line in done):
        reader.publish(warehouse)   # that run was killed before its reader copy, too
    stale = snapshots.clean(warehouse)   # files of runs killed before their commit, or after it
    if stale:
        done.append(f"removed {len(stale)} unreferenced snapshot file(s) of the warehouse")
    parts = reader.remove_leftovers(warehouse)
    if parts:
        done.append(f"removed {parts} half-written reader cop{'y' if parts == 1 else 'ies'} of the warehouse")
    for line in done:
        log.warning("leftover of a stopped run: %s", line)
        if progress:
            progress("prepare", f"leftover: {line}")
    return done


def _check_as_of(run: Run) -> None:
    with attached(run.con, run.settings.warehouse_path, read_only=True) as exists:
        if not exists:
            return
        has_runs = run.con.execute(
            f"select count(*) from duckdb_tables() where database_name = '{ALIAS}' and table_name = 'runs'"
        ).fetchone()[0]
        last = run.con.execute(f"select max(as_of) from {ALIAS}.runs where status = 'committed'").fetchone()[0] \
            if has_runs else None
    # a dry run may look at any date: it rewinds only its in-memory copy of the register
    if last and run.settings.as_of < last and not (run.settings.rebuild or run.settings.dry_run):
        raise RunError(f"the as-of date {run.settings.as_of} is before the last committed run ({last})",
                       hint="runs move forward in time; pass --dry-run to see that date without changing "
                            "anything, or --rebuild to rewrite the register from that date")


def extract(run: Run) -> dict[str, int]:
    """Read every extract into raw tables; returns rows read per extract."""
    from targetgroup.validate.gate import preload  # noqa: PLC0415

    # Great Expectations' 3-6 s import, and pandas for the outputs, overlap with reading and
    # staging (DuckDB work, which runs without Python's lock)
    preload()
    result = run.timed("extract", lambda: extract_stage.read_all(run.con, run.config))
    run.summary["files"] = result.files
    run.summary["raw_tables"] = result.tables
    rows = {name: result.rows(name) for name in result.tables}
    run.progress("extract", f"{sum(rows.values()):,} rows from {len(result.files)} files")
    return rows


def stage(run: Run) -> dict[str, int]:
    """Build the canonical persons, cases and rejects tables; returns counts."""
    result = run.timed("stage", lambda: stage_stage.stage_all(run.con, run.config, run.summary["raw_tables"]))
    run.summary["stage"] = result
    rejected = sum(result.rows_rejected.values())
    run.progress("stage", f"{result.cases:,} cases, {result.persons:,} persons, {rejected:,} rows rejected")
    return {"cases": result.cases, "persons": result.persons, "rejected": rejected}


def validate(run: Run, background: bool = False) -> dict[str, int]:
    """The quality gate: expectations, quarantine, volume guard. Raises ValidationError on errors.

    With `background`, Great Expectations goes on validating in a thread while the next stages
    run, and `gate_verdict` (which the caller must call before anything is written) waits for it
    and raises; the quarantine is applied before this returns either way.
    """
    from targetgroup import validate as gate  # noqa: PLC0415 - Great Expectations is imported inside

    rows: dict[str, int] = {}
    for f in run.summary["files"]:
        rows[f.source] = rows.get(f.source, 0) + f.rows
    result, pending = run.timed("validate", lambda: gate.start_gate(
        run.con, run.config, as_of=run.settings.as_of, rows=rows, report_dir=run.report_dir,
        warehouse=run.settings.warehouse_path, allow_drop=frozenset(run.settings.allow_drop)))
    run.summary["gate_pending"] = (result, pending)
    if background:
        run.progress("validate", "quarantine applied; Great Expectations validating in the background")
        return {"quarantined": result.manifest()["rows_quarantined_total"]}
    return gate_verdict(run)


def gate_verdict(run: Run) -> dict[str, int]:
    """Wait for the quality gate started by `validate`, record it, stop the run on errors (once)."""
    from targetgroup import validate as gate  # noqa: PLC0415

    if "gate_pending" not in run.summary:
        return run.summary.get("gate_verdict", {})
    result, pending = run.summary.pop("gate_pending")
    started = time.perf_counter()
    try:
        gate.finish_gate(run.con, run.config, result, pending, run.report_dir, frozenset(run.settings.allow_drop))
    finally:
        # the gate's table checks were the last readers of the raw extracts' stand-ins
        for table in run.summary.get("raw_tables", {}).values():
            extract_stage.drop_raw(run.con, table)
        run.timings["validate"] = round(run.timings.get("validate", 0) + time.perf_counter() - started, 3)
    run.summary["quality"] = result
    run.manifest["quality"] = result.manifest()
    if result.report:
        run.outputs.append(result.report)
    quarantined = result.manifest()["rows_quarantined_total"]
    run.commit_steps.append(gate.volume.store_step(run.run_id, run.settings.as_of, result.volumes))
    run.commit_steps.append(gate.quarantine.store_step(run.run_id))
    if run.folder is None:
        gate.raise_if_errors(result, run.report_dir)
    else:   # name the files where the stopped run's folder will be (finish moves it to failed/)
        failed = run.folder.final("failed")
        gate.raise_if_errors(dataclasses.replace(result, data_docs=runfolder.moved(result.data_docs, run.report_dir, failed)),
                             failed)
    run.progress("validate", f"{len(result.warnings)} warning(s), {quarantined:,} rows quarantined")
    run.summary["gate_verdict"] = {"errors": len(result.errors), "warnings": len(result.warnings),
                                   "quarantined": quarantined}
    return run.summary["gate_verdict"]


def identify(run: Run) -> dict[str, int]:
    """Find who is in the target group on the as-of date with the rule set `settings.rules`.

    Tables: residents, active_cases, then (targetgroup.rules.evaluate) condition_hits,
    rule_matches, family_links, exclusions and targets, the contract with the register and the
    deliverables: one row per flagged citizen per rule, columns rule_id, subject_type,
    subject_id, cpr, family_id, departments, case_keys, reason_codes, notify_departments (plus
    rule_title_da, rule_title_en, rules_name, rules_hash, review_due).
    """
    loaded = load_rules(run.settings.rules, run.config)
    run.summary["rules_name"] = loaded.rules.name
    run.summary["rules_hash"] = loaded.hash
    rule_counts: dict[str, int] = {}

    def work() -> None:
        params = {"as_of": run.settings.as_of}
        run_sql(run.con, "active.sql", params)
        folder = run.config.base / run.config.consents if run.config.consents else None
        run.summary["consents_imported"] = consent.import_files(run.con, run.config, folder,
                                                                run.settings.warehouse_path)
        folder = run.config.base / run.config.coordinators if run.config.coordinators else None
        run.summary["coordinators_imported"] = coordinators.import_files(run.con, run.config, folder,
                                                                         run.settings.warehouse_path)
        folder = run.config.base / run.config.meetings if run.config.meetings else None
        run.summary["meetings_imported"] = meetings.import_files(run.con, run.config, folder,
                                                                 run.settings.warehouse_path)
        rule_counts.update(evaluate(run.con, loaded, run.config, run.settings.as_of, run.settings.warehouse_path))
    run.timed("identify", work)
    counts = dict(zip(("active_cases", "targets", "citizens_flagged"), run.con.execute(
        "select (select count(*) from active_cases), count(*), count(distinct cpr) from targets").fetchone()))
    run.summary["identify"] = counts
    run.manifest["rules"] = {"name": loaded.rules.name, "file": str(loaded.file), "hash": loaded.hash,
                             "rules": [r.id for r in loaded.rules.rules], "counts": rule_counts}
    run.commit_steps.append(store_history(run.run_id, run.settings.as_of))
    run.commit_steps.append(consent.store_step)
    run.commit_steps.append(coordinators.store_step)
    run.commit_steps.append(meetings.store_step)
    run.commit_steps.append(meetings.store_due_step(run.run_id, run.settings.as_of))
    run.commit_steps.append(store_family_key)
    run.progress("identify", f"{counts['citizens_flagged']:,} citizens in the target group")
    return counts


def register(run: Run) -> dict[str, int]:
    """Compare the targets with the flag register: tables flag_status, reg_actions, reg_notices.

    Reads the register from the warehouse, writes nothing there: its writes become commit steps.
    """
    settings = run.settings
    rules = (run.summary["rules_name"], run.summary["rules_hash"]) if "rules_hash" in run.summary else None
    result = run.timed("register", lambda: flag_register.compute(
        run.con, run.config, as_of=settings.as_of, run_id=run.run_id, warehouse=settings.warehouse_path,
        rebuild=settings.rebuild or settings.dry_run, suppressions=settings.suppressions, started_at=run.started_at,
        rules=rules))
    if not settings.switch_rules:
        flag_register.refuse_rule_switch(run.con, result, rules)   # stops before anything is written
    run.summary["flags"] = result.flags
    run.summary["register"] = result
    run.manifest["register"] = {
        "flags": result.flags, "citizens": result.citizens, "actions": result.actions,
        "reconcile": result.reconcile, "suppressions_imported": result.suppressions_imported,
        "suppressions_applied": result.suppressions_applied, "marking_lists": result.markings_read,
        "rewound_from": result.rewind_from.isoformat() if result.rewind_from else None,
        "systems_without_marking_code": result.systems_without_code,
    }
    run.commit_steps.extend(flag_register.commit_steps(result, as_of=settings.as_of, run_id=run.run_id))
    f = result.flags
    run.progress("register", f"{f['new']:,} new, {f['updated']:,} updated, {f['continuing']:,} continuing, "
                             f"{f['ended']:,} ended flags")
    return f


def deliver(run: Run) -> dict[str, int]:
    """Write the run's deliverables into its report folder (see deliver/); returns flags per department.

    Caseworker lists (flags_<DEPT>.xlsx and .csv), the leadership report (leadership_report.html),
    leadership_counts.csv and, with a pseudonym key, the analysts' Parquet files (analyst/).
    Uses the register's `flag_status` when the run has one, else derives it (deliver.status).
    """
    from targetgroup.deliver import analyst, excel, figures, html_report, reports  # noqa: PLC0415 - pandas
    from targetgroup.deliver import actions as action_files  # noqa: PLC0415

    settings, con = run.settings, run.con
    departments = list(run.config.departments)
    titles = run.summary.get("rule_titles") or _rule_titles(con)
    rules_hash = run.summary.get("rules_hash")
    rules = (run.summary.get("rules_name"), rules_hash)

    gate_verdict(run)   # a no-op when the run has waited for the quality gate already

    def work() -> None:
        make_private_dir(run.report_dir)
        status.load_history(con, settings.warehouse_path)
        status.build_courses(con, settings.as_of)
        outcomes.load(con, settings.warehouse_path)
        outcomes.compute(con, settings.as_of, run.run_id, run.config)
        run.commit_steps.append(outcomes.store)
        changes = status.change_counts(con)
        run.summary.setdefault("flags", changes)
        run.progress("deliver: caseworker lists", "started")
        excel.prepare_rows(con, settings.as_of, settings.lang, {**status.old_rule_titles(con), **titles},
                           run.config.disclosure, departments, rules)
        run.commit_steps.append(list_store.step(run.run_id))   # the lists' rows for the web overview
        if not settings.deliverables:
            run.manifest["deliverables"] = HISTORY_ONLY
            _write_actions(run, rules)
            return
        run.outputs.extend(excel.write_workbooks(con, departments, run.report_dir, settings.lang,
                                                 settings.as_of, rules).values())
        run.outputs.extend(reports.write_flag_lists(con, departments, run.report_dir, settings.lang).values())
        run.manifest["list_rows_per_department"] = reports.list_rows(con, departments)
        run.progress("deliver: leadership report", "started")
        fig = figures.collect(con, run.run_id, settings.as_of, run.summary["flags"],
                              disclosure.rounding_key(settings.warehouse_path), out=settings.out,
                              capacity=(run.config.caseload.capacity_per_caseworker,
                                        run.config.caseload.capacity_per_team))
        run.manifest["disclosure"] = figures.disclosure_summary(fig)
        if not fig.safe:
            run.summary["warnings"] = [*run.summary.get("warnings", []), figures.AUDIT_WARNING]
        run.outputs.append(figures.write_counts_csv(fig, run.report_dir / "leadership_counts.csv", rules_hash))
        names = {code: (d.name if settings.lang == "da" else d.name_en) for code, d in run.config.departments.items()}
        report = html_report.write_report(fig, run.report_dir / "leadership_report.html", settings.lang, names,
                                          titles, rules=(run.summary.get("rules_name"), rules_hash))
        run.outputs.append(report)
        run.summary["report_html"] = report
        run.progress("deliver: analyst files", "started")
        key = analyst.pseudonym_key({analyst.ENV_KEY_FILE: str(settings.pseudonym_key_file)}
                                    if settings.pseudonym_key_file else None)
        if key is None:
            run.manifest["analyst_outputs"] = {"written": False, "warning": analyst.NO_KEY_WARNING}
            run.summary["warnings"] = [*run.summary.get("warnings", []), analyst.NO_KEY_WARNING]
        else:
            analyst.install_pseudonym(con, key)
            files = analyst.write_parquet(con, run.report_dir / "analyst", run.run_id, settings.as_of,
                                          figures.counts_frame(fig))
            run.outputs.extend(files)
            run.manifest["analyst_outputs"] = {"written": True, "files": [f"analyst/{f.name}" for f in files]}
            run.commit_steps.append(analyst.store_pseudonyms)
        run.outputs.append(reports.write_exclusions(con, run.report_dir, settings.lang, rules))
        _write_actions(run, rules)
        if "register" in run.summary:
            run.outputs.extend(action_files.write_notices(con, departments, run.report_dir, settings.lang, rules))
    run.timed("deliver", work)
    run.summary["flag_changes_per_department"] = status.change_counts_per_department(con, departments)
    per_dept = dict(con.execute("select department, count(distinct cpr) from caseworker_rows "
                                "where change not in ('ended', 'awaiting') group by 1").fetchall())
    # citizens with a current flag in each department's caseworker list
    run.summary["flags_per_department"] = {d: int(per_dept.get(d, 0)) for d in departments}
    flags = run.summary["flags"]
    run.progress("deliver", f"{flags['new']:,} new, {flags['continuing']:,} continuing, {flags['ended']:,} ended "
                            f"flags; {len(run.outputs)} files")
    return run.summary["flags_per_department"]


HISTORY_ONLY = ("history only (backfill --outputs last): committed to the register, no lists, notices, "
                "leadership report or analyst files")


def _write_actions(run: Run, rules: tuple) -> None:
    """The marking systems' action and reconcile files (written on every night: a robot applies
    each night's changes in order)."""
    from targetgroup.deliver import actions as action_files  # noqa: PLC0415 - pandas
    from targetgroup.deliver import reports  # noqa: PLC0415

    reports.stamp_rules(run.report_dir / "quarantine.csv", rules)
    if "register" in run.summary:
        run.outputs.extend(action_files.write_actions(run.con, run.config, run.report_dir, run_id=run.run_id,
                                                      as_of=run.settings.as_of, rules=rules))
        run.outputs.extend(action_files.write_reconcile(run.con, run.config, run.report_dir))


def _rule_titles(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Rule titles per language from the targets' rule_title_da/_en columns (the rules engine's)."""
    columns = {r[0] for r in con.execute("describe targets").fetchall()}
    if not {"rule_title_da", "rule_title_en"} <= columns:
        return {}
    rows = con.execute("select distinct rule_id, rule_title_da, rule_title_en from targets").fetchall()
    return {rule: {"da": da, "en": en} for rule, da, en in rows}


def commit(run: Run) -> None:
    """Store this run's tables and its ledger row in the warehouse, in one transaction; then
    (re)create the analyst views and publish the reader copy (targetgroup.reader). A dry run
    stores nothing and says so in the manifest.

    Once the commit is sent the run takes no more interrupts (`Run.guard.hold`); a signal or an
    interrupt that came then sets `run.interrupted`, and the ledger decides the outcome."""
    if run.settings.dry_run:
        run.manifest["dry_run"] = "outputs written; warehouse, register and ledger not changed"
        run.progress("commit", "skipped: dry run, the warehouse was not changed")
        return
    counts = run.summary["identify"]
    flags: dict[str, int] = run.summary.get("flags", {})

    warehouse = run.settings.warehouse_path
    # The canonical extracts of the last committed run, for analysts and the web overview: Parquet
    # files beside the warehouse, written before the commit only when their content changed, and
    # views in the warehouse that the commit points at them (targetgroup.snapshots). No later run
    # needs them; an operator may switch them off (--no-store-extracts).
    snapshot_step = snapshots.drop_step
    if run.settings.store_extracts:
        written = run.timed("snapshots", lambda: snapshots.prepare(run.con, warehouse))
        snapshot_step = snapshots.store_step(written, run.run_id)
        run.manifest["snapshots"] = {s.table: {"file": s.path.name, "rows": s.rows, "written": s.written}
                                     for s in written}

    def store_snapshot(con: duckdb.DuckDBPyConnection) -> None:
        snapshot_step(con)
        con.execute(f"create table if not exists {ALIAS}.targets as "
                    "select ''::varchar as run_id, ''::date as as_of, * from targets limit 0")
        con.execute(f"insert into {ALIAS}.targets select ?, ?, * from targets", [run.run_id, run.settings.as_of])
        con.execute(f"create table if not exists {ALIAS}.rejects as "
                    "select ''::varchar as run_id, * from rejects limit 0")
        con.execute(f"insert into {ALIAS}.rejects select ?, * from rejects", [run.run_id])

    def store_ledger(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            f"""insert into {ALIAS}.runs (run_id, as_of, started_at, finished_at, status, rules_name, rules_hash,
                    sources_file, report_dir, targets, citizens_flagged, flags_new, flags_continuing,
                    flags_ended, counts)
                values (?, ?, ?, now()::timestamp, 'committed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [run.run_id, run.settings.as_of, run.started_at, run.summary.get("rules_name"),
             run.summary.get("rules_hash"), str(run.settings.sources),
             str(run.folder.final("committed") if run.folder else run.report_dir),
             counts["targets"], counts["citizens_flagged"], flags.get("new"), flags.get("continuing"),
             flags.get("ended"), run.summary.get("flags_per_department", {})],
        )

    def sending() -> None:
        run.guard.hold()
        run.commit_sent = True

    steps = [store_snapshot, *run.commit_steps, store_ledger]
    if run.delivery is not None:   # the delivery ledger's pending rows: a committed run has its ledger
        names = {code: (d.name if run.settings.lang == "da" else d.name_en) for code, d in run.config.departments.items()}
        targets = delivery_night.plan(run.con, run.delivery, names, run.settings.lang)
        steps.append(delivery_ledger.pending_step(run.run_id, targets))
        run.manifest["delivery"] = {"file": str(run.settings.delivery), "targets": len(targets)}
    # should the process die past the commit, the next start publishes the staging folder as it is
    write_manifest(run, "committed")
    interrupt = run.timed("commit", lambda: commit_warehouse(run.con, warehouse, steps, run_id=run.run_id,
                                                             sending=sending))
    if interrupt is not None or run.guard.received:
        run.interrupted = run.guard.name or type(interrupt).__name__
    # the run is stored: what follows may fail without undoing it (a warning, not a failure)
    from targetgroup.deliver import analyst  # noqa: PLC0415 - pandas

    run.manifest["analyst_views"] = _after_commit(run, "the analyst views", lambda: analyst.create_views(warehouse))
    copy = _after_commit(run, "the reader copy", lambda: run.timed("reader_copy", lambda: reader.publish(warehouse)))
    run.manifest["reader_copy"] = str(copy) if copy else None
    if run.settings.store_extracts or snapshots.folder(warehouse).is_dir():
        # the snapshot files the warehouse no longer references (the reader copy published above
        # references the same ones); the one each replaced stays for readers of the old copy
        _after_commit(run, "the snapshot clean-up", lambda: snapshots.clean(warehouse))
    run.progress("commit", f"warehouse {warehouse}")


def _after_commit(run: Run, what: str, fn: Callable[[], object]) -> object:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the run is committed; say what is missing
        warning = f"{what} could not be made after the commit ({type(exc).__name__}); the run is stored"
        run.summary["warnings"] = [*run.summary.get("warnings", []), warning]
        run.manifest.setdefault("warnings_after_commit", []).append(warning)
        return None


def finish(run: Run, status: str = "committed", error: TargetGroupError | None = None) -> Path:
    """End the run: close it, write its manifest and put its folder where `status` says
    (runfolder.PLACES); returns the manifest's path. Sets `run.status` and `run.report_dir`.

    The ledger is the one truth: a run reported "failed" whose commit was sent and which the
    ledger holds is committed (it was stopped after its commit), and is placed as such.
    A failed run's folder gets FAILED.txt and keeps only runfolder.FAILED_KEEPS.
    """
    run.guard.hold()   # the clean-up is not itself interrupted
    run.close()
    if status == "failed" and run.commit_sent and ledger_has(run.settings.warehouse_path, run.run_id):
        status = "committed"
        run.interrupted = run.interrupted or run.guard.name or type(error).__name__
        run.manifest["stopped_after_commit"] = f"stopped ({run.interrupted}) after the commit was sent; the run is stored"
        error = None
    elif status == "failed":
        run.interrupted = None
        if run.guard.received:
            run.manifest["stopped_by"] = run.guard.name
    path = write_manifest(run, status, error)
    if status == "failed":
        stored = "nothing was stored in the warehouse"
        write_text(run.report_dir / "FAILED.txt", privacy.scrub(f"Run {run.run_id} failed; {stored}.\n{error or ''}\n"))
    if run.folder is not None:
        staged = run.report_dir
        run.report_dir = run.folder.place(status)
        path = run.report_dir / path.name
        if "report_html" in run.summary:
            run.summary["report_html"] = Path(runfolder.moved(run.summary["report_html"], staged, run.report_dir))
    run.status = status
    return path


def write_manifest(run: Run, status: str, error: TargetGroupError | None = None) -> Path:
    """Write the run manifest (targetgroup.manifest) into the report folder; returns its path."""
    return run_manifest.write(run, status, run.folder.final(status) if run.folder else run.report_dir, error)


def settle_gate(run: Run, exc: BaseException) -> BaseException:
    """After a stage failed while the quality gate was still validating: the gate's own error when
    it found one (a bad extract explains the failure better), else `exc`."""
    if "gate_pending" not in run.summary:
        return exc
    try:
        gate_verdict(run)
    except TargetGroupError as gate_exc:
        return gate_exc
    except Exception:  # noqa: BLE001 - the stage's own error is the one to report
        pass
    return exc


def run_pipeline(settings: RunSettings, progress: Progress | None = None) -> Run:
    """Run every stage in order under the warehouse lock; on failure nothing is stored.

    SIGINT and SIGTERM stop the run: before the commit it rolls back and raises RunInterrupted;
    once the commit is sent it finishes, and returns with `run.interrupted` set. Whatever
    happens, the folder's place and its manifest say what the ledger says (see `finish`).
    """
    with interrupts.guard() as guard:
        try:
            with run_lock(settings.warehouse_path, settings.wait_seconds):
                run = prepare(settings, progress, sweep=True)
                run.guard = guard
                run = _run_stages(run)
                if run.status == "committed" and run.delivery is not None:   # after the commit, never in a dry run
                    run.delivered = delivery_night.deliver_committed(   # progress: what arrived; the rest is summed up
                        settings.warehouse_path, run.run_id, run.delivery,
                        lambda line: line.startswith(("delivered", "retention")) and run.progress("delivery", line))
                return run
        except interrupts.Interrupted:   # before the run had a folder (waiting for the lock, preparing)
            raise RunInterrupted(f"the run was stopped by {guard.name} before it started; nothing was stored",
                                 hint="run it again when ready") from None


def _run_stages(run: Run) -> Run:
    try:
        extract(run)
        stage(run)
        validate(run, background=True)   # Great Expectations validates while the rules run
        identify(run)
        register(run)
        gate_verdict(run)                # nothing is written before the gate has passed
        deliver(run)
        commit(run)
    except BaseException as exc:
        run.guard.hold()
        if run.commit_sent:   # what stopped it, should the ledger show the commit went through
            run.interrupted = run.guard.name or type(exc).__name__
        if run.guard.received:
            error: BaseException = RunInterrupted(
                f"the run was stopped by {run.guard.name} before its commit; nothing was stored in the warehouse",
                hint=f"its folder: {run.folder.final('failed') if run.folder else run.report_dir}; "
                     "run it again when ready")
        else:
            error = settle_gate(run, exc)   # the quality gate's own error, when it found one
        if isinstance(error, Exception) and not isinstance(error, TargetGroupError):
            # a foreign exception's text may quote a cell: only its type leaves the pipeline
            # (the original stays as __cause__ for --debug, whose output is scrubbed)
            error = internal(error, "the pipeline")
        finish(run, status="failed",
               error=error if isinstance(error, TargetGroupError) else internal(error, "the pipeline"))
        if run.status == "committed":
            return run   # the ledger holds it: it was stopped after its commit was sent
        if error is exc:
            raise
        raise error from exc
    finish(run, status="dry_run" if run.settings.dry_run else "committed")
    if run.status == "committed" and run.guard.received:
        run.interrupted = run.guard.name   # came after the commit, while the folder was put in place
    return run
