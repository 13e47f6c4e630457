"""The pipeline's stages in order, as plain functions over one `Run`, and `run_pipeline` that chains them.

    prepare -> extract -> stage -> validate -> identify -> register -> gate_verdict -> deliver -> commit -> finish

`run_pipeline` lets Great Expectations validate in a background thread while identify and
register run (the quarantine is applied before identify either way); `gate_verdict` waits for it
and stops the run before anything is written. Called alone, `validate` waits for it itself.

A dry run (`RunSettings.dry_run`) writes every output but skips `commit`: the warehouse, the
register and the ledger stay as they were, and the manifest says so (status "dry_run").

Every stage takes the `Run`, does its work in the run's in-memory DuckDB connection (tables
named in each stage module) and returns a small summary with counts only, never CPR numbers,
so the Prefect flow in `flows/` can call the same functions as tasks. Nothing is written to the
warehouse until `commit`, which does it in one transaction.
"""

from __future__ import annotations

import platform
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import metadata
from pathlib import Path

import duckdb

from targetgroup import consent
from targetgroup import extract as extract_stage
from targetgroup import register as flag_register
from targetgroup import stage as stage_stage
from targetgroup.config import SAMPLE_SOURCES, SourcesConfig, load_sources
from targetgroup.deliver import actions as action_files
from targetgroup.deliver import analyst, excel, figures, html_report, reports, status
from targetgroup.deliver.files import make_private_dir, write_json, write_text
from targetgroup.errors import RunError, TargetGroupError
from targetgroup.rules import DEFAULT_RULES, load_rules
from targetgroup.rules.evaluate import evaluate, store_family_key, store_history
from targetgroup.warehouse import ALIAS, DEFAULT_WAREHOUSE, attached, open_work, run_lock, run_sql
from targetgroup.warehouse import commit as commit_warehouse

Progress = Callable[[str, str], None]
PACKAGES = ("targetgroup", "duckdb", "pandas", "pyarrow", "prefect", "great-expectations", "python-stdnum")


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

    def close(self) -> None:
        """Close the work connection and remove DuckDB's spill folder (it may hold case data);
        a quality gate still validating in the background is waited for first."""
        try:
            if "gate_pending" in self.summary:
                self.summary["gate_pending"][1].wait()
            self.con.close()
        finally:
            if self.spill_dir is not None:
                shutil.rmtree(self.spill_dir, ignore_errors=True)

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


def prepare(settings: RunSettings, progress: Progress | None = None) -> Run:
    """Load and check the configuration, open the work connection, refuse a run into the past."""
    started = time.perf_counter()
    config = load_sources(settings.sources)
    # DuckDB spills past its memory limit into this owner-only folder; Run.close removes it
    spill_dir = Path(tempfile.mkdtemp(prefix="targetgroup-spill-"))
    con = None
    try:
        con = open_work(settings.threads, settings.memory_limit, spill_dir)
        now = datetime.now()
        run_id = new_run_id(now)
        run = Run(settings=settings, config=config, con=con, run_id=run_id, started_at=now,
                  report_dir=settings.out / f"{settings.as_of:%Y-%m-%d}_{run_id}", spill_dir=spill_dir)
        if progress:
            run.progress = progress
        _check_as_of(run)
    except BaseException:
        if con is not None:
            con.close()
        shutil.rmtree(spill_dir, ignore_errors=True)
        raise
    run.timings["prepare"] = round(time.perf_counter() - started, 3)
    return run


def _check_as_of(run: Run) -> None:
    with attached(run.con, run.settings.warehouse_path, read_only=True) as exists:
        if not exists:
            return
        has_runs = run.con.execute(
            f"select count(*) from duckdb_tables() where database_name = '{ALIAS}' and table_name = 'runs'"
        ).fetchone()[0]
        last = run.con.execute(f"select max(as_of) from {ALIAS}.runs where status = 'committed'").fetchone()[0] \
            if has_runs else None
    if last and run.settings.as_of < last and not run.settings.rebuild:
        raise RunError(f"the as-of date {run.settings.as_of} is before the last committed run ({last})",
                       hint="runs move forward in time; pass --rebuild to run for an earlier date anyway")


def extract(run: Run) -> dict[str, int]:
    """Read every extract into raw tables; returns rows read per extract."""
    from targetgroup.validate.gate import preload  # noqa: PLC0415

    preload()   # Great Expectations' 3-6 s import overlaps with reading and staging (DuckDB work)
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
    gate.raise_if_errors(result, run.report_dir)
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
        rule_counts.update(evaluate(run.con, loaded, run.config, run.settings.as_of, run.settings.warehouse_path))
    run.timed("identify", work)
    counts = dict(zip(("active_cases", "targets", "citizens_flagged"), run.con.execute(
        "select (select count(*) from active_cases), count(*), count(distinct cpr) from targets").fetchone()))
    run.summary["identify"] = counts
    run.manifest["rules"] = {"name": loaded.rules.name, "file": str(loaded.file), "hash": loaded.hash,
                             "rules": [r.id for r in loaded.rules.rules], "counts": rule_counts}
    run.commit_steps.append(store_history(run.run_id, run.settings.as_of))
    run.commit_steps.append(consent.store_step)
    run.commit_steps.append(store_family_key)
    run.progress("identify", f"{counts['citizens_flagged']:,} citizens in the target group")
    return counts


def register(run: Run) -> dict[str, int]:
    """Compare the targets with the flag register: tables flag_status, reg_actions, reg_notices.

    Reads the register from the warehouse, writes nothing there: its writes become commit steps.
    """
    settings = run.settings
    result = run.timed("register", lambda: flag_register.compute(
        run.con, run.config, as_of=settings.as_of, run_id=run.run_id, warehouse=settings.warehouse_path,
        rebuild=settings.rebuild, suppressions=settings.suppressions, started_at=run.started_at))
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
        changes = status.change_counts(con)
        run.summary.setdefault("flags", changes)
        run.progress("deliver: caseworker lists", "started")
        excel.prepare_rows(con, settings.as_of, settings.lang, {**status.old_rule_titles(con), **titles},
                           run.config.disclosure, departments, rules)
        run.outputs.extend(excel.write_workbooks(con, departments, run.report_dir, settings.lang,
                                                 settings.as_of, rules).values())
        run.outputs.extend(reports.write_flag_lists(con, departments, run.report_dir, settings.lang).values())
        run.manifest["list_rows_per_department"] = reports.list_rows(con, departments)
        run.progress("deliver: leadership report", "started")
        fig = figures.collect(con, run.run_id, settings.as_of, run.summary["flags"])
        run.outputs.append(figures.write_counts_csv(fig, run.report_dir / "leadership_counts.csv", rules_hash))
        names = {code: (d.name if settings.lang == "da" else d.name_en) for code, d in run.config.departments.items()}
        report = html_report.write_report(fig, run.report_dir / "leadership_report.html", settings.lang, names,
                                          titles, rules=(run.summary.get("rules_name"), rules_hash))
        run.outputs.append(report)
        run.summary["report_html"] = report
        run.progress("deliver: analyst files", "started")
        key = analyst.pseudonym_key()
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
        reports.stamp_rules(run.report_dir / "quarantine.csv", rules)
        if "register" in run.summary:
            run.outputs.extend(action_files.write_actions(con, run.config, run.report_dir,
                                                          run_id=run.run_id, as_of=settings.as_of, rules=rules))
            run.outputs.extend(action_files.write_reconcile(con, run.config, run.report_dir))
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


def _rule_titles(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Rule titles per language from the targets' rule_title_da/_en columns (the rules engine's)."""
    columns = {r[0] for r in con.execute("describe targets").fetchall()}
    if not {"rule_title_da", "rule_title_en"} <= columns:
        return {}
    rows = con.execute("select distinct rule_id, rule_title_da, rule_title_en from targets").fetchall()
    return {rule: {"da": da, "en": en} for rule, da, en in rows}


def commit(run: Run) -> None:
    """Store this run's tables and its ledger row in the warehouse, in one transaction; then
    (re)create the analyst views. A dry run stores nothing and says so in the manifest."""
    if run.settings.dry_run:
        run.manifest["dry_run"] = "outputs written; warehouse, register and ledger not changed"
        run.progress("commit", "skipped: dry run, the warehouse was not changed")
        return
    counts = run.summary["identify"]
    flags: dict[str, int] = run.summary.get("flags", {})

    def store_snapshot(con: duckdb.DuckDBPyConnection) -> None:
        # The canonical extracts of the last committed run, for analysts and explain. No later run
        # needs them, and at national scale writing them is most of the commit (benchmarks/NOTES.md),
        # so an operator may switch them off (--no-store-extracts); the register keeps what it needs.
        for table in ("persons", "cases"):
            if run.settings.store_extracts:
                con.execute(f"create or replace table {ALIAS}.{table} as select * from {table}")
            else:
                con.execute(f"drop table if exists {ALIAS}.{table}")
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
             run.summary.get("rules_hash"), str(run.settings.sources), str(run.report_dir),
             counts["targets"], counts["citizens_flagged"], flags.get("new"), flags.get("continuing"),
             flags.get("ended"), run.summary.get("flags_per_department", {})],
        )

    steps = [store_snapshot, *run.commit_steps, store_ledger]
    run.timed("commit", lambda: commit_warehouse(run.con, run.settings.warehouse_path, steps))
    run.manifest["analyst_views"] = analyst.create_views(run.settings.warehouse_path)
    run.progress("commit", f"warehouse {run.settings.warehouse_path}")


def finish(run: Run, status: str = "committed", error: TargetGroupError | None = None) -> Path:
    """Write the run manifest (JSON) into the report folder; returns its path."""
    make_private_dir(run.report_dir)
    staged: stage_stage.StageResult | None = run.summary.get("stage")
    inputs = []
    for f in run.summary.get("files", []):
        entry = {"source": f.source, "path": f.path, "sha256": f.sha256, "bytes": f.bytes, "rows_read": f.rows}
        if staged:
            entry.update(
                rows_rejected=staged.rows_rejected.get(f.source, 0),
                reject_reasons=staged.reject_reasons.get(f.source, {}),
                exact_duplicates=staged.duplicates.get(f.source, 0),
                cprs_repaired=staged.cprs_repaired.get(f.source, 0),
                rows_with_cpr_not_in_register=staged.unmatched_rows.get(f.source, 0),
            )
        inputs.append(entry)
    manifest = {
        "run_id": run.run_id,
        "status": status,
        "as_of": run.settings.as_of.isoformat(),
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now().isoformat(timespec="seconds"),
        "sources_file": str(run.settings.sources),
        "warehouse": str(run.settings.warehouse_path),
        "inputs": inputs,
        "counts": {
            "persons": staged.persons if staged else None,
            "cases": staged.cases if staged else None,
            **run.summary.get("identify", {}),
            "flags": run.summary.get("flags", {}),
            "flags_per_department": run.summary.get("flags_per_department", {}),
            "flag_changes_per_department": run.summary.get("flag_changes_per_department", {}),
            "list_rows_per_department": run.manifest.pop("list_rows_per_department", {}),
        },
        **run.manifest,
        "outputs": [p.name for p in run.outputs],
        "duration_seconds": run.timings,
        "versions": {"python": platform.python_version(), **_versions()},
    }
    if error is not None:
        manifest["error"] = str(error)
    path = write_json(run.report_dir / "manifest.json", manifest)
    if status == "failed":
        write_text(run.report_dir / "FAILED.txt",
                   f"Run {run.run_id} failed; nothing was stored in the warehouse.\n{error or ''}\n")
    return path


def _versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


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
    """Run every stage in order under the warehouse lock; on failure nothing is stored."""
    with run_lock(settings.warehouse_path, settings.wait_seconds):
        run = prepare(settings, progress)
        try:
            extract(run)
            stage(run)
            validate(run, background=True)   # Great Expectations validates while the rules run
            identify(run)
            register(run)
            gate_verdict(run)                # nothing is written before the gate has passed
            deliver(run)
            commit(run)
        except Exception as exc:
            error = settle_gate(run, exc)   # the quality gate's own error, when it found one
            if error is exc:
                finish(run, status="failed", error=exc if isinstance(exc, TargetGroupError) else
                       RunError(f"internal error in the pipeline ({type(exc).__name__})"))
                raise
            finish(run, status="failed", error=error)
            raise error from exc
        finally:
            run.close()
        finish(run, status="dry_run" if settings.dry_run else "committed")
        return run
