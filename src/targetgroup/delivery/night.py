"""One night's delivery: plan the targets at commit, then deliver them one at a time.

    plan(con, config, departments, lang) -> [Target]       at commit: from the run's caseworker_rows
    deliver_run(warehouse, run_id, config) -> Outcome      after commit, holding the warehouse lock

Order: department folders, system folders, then mail (department notices, caseworker notices,
the operations summary last). Each target is marked in the ledger right after its attempt, so a
process killed between two targets loses nothing and repeats nothing; a delivered target is
skipped. When something stays undelivered, operations are told through every channel that
still works: ALERT.txt in the run's folder, a warning in the log, and a mail if the server
answers (`alert`). Nothing here holds a CPR number: counts, codes, paths and addresses only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from targetgroup import privacy
from targetgroup.deliver.files import write_text
from targetgroup.delivery import folders, ledger, mail, texts
from targetgroup.delivery.config import DeliveryConfig, Folder
from targetgroup.delivery.ledger import Target
from targetgroup.warehouse import ALIAS, attached

log = logging.getLogger("targetgroup.delivery")
Progress = Callable[[str], None]
DEPARTMENT_FILES = ("flags_{}.xlsx", "flags_{}.csv", "notices_{}.csv")
SYSTEM_FILES = ("actions_{}.csv", "actions_{}.json", "reconcile_{}.csv")

COUNTS_SQL = """
select department, caseworker,
    count(distinct cpr) filter (where change = 'new') as new,
    count(distinct cpr) filter (where change = 'updated') as updated,
    count(distinct cpr) filter (where change = 'ended') as ended,
    count(distinct cpr) filter (where change = 'awaiting') as awaiting
from caseworker_rows
group by grouping sets ((department), (department, caseworker))
"""


@dataclass
class Outcome:
    """What one pass delivered: counts per state after it, the errors (scrubbed), deleted nights."""

    run_id: str
    delivered: int = 0
    total: int = 0
    errors: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def pending(self) -> int:
        """Targets not delivered after this pass."""
        return self.total - self.delivered


def plan(con: duckdb.DuckDBPyConnection, config: DeliveryConfig, names: dict[str, str], lang: str) -> list[Target]:
    """The run's targets, from its `caseworker_rows` (counts per department and caseworker):
    every folder and system folder; a notice per department with changes to each of its
    addresses, one per caseworker with changes who has an address; the operations summary."""
    found: list[Target] = [Target("folder", d) for d in config.folders]
    found += [Target("system", s) for s in config.systems]
    if config.mail is None:
        return found
    counts: dict[tuple[str, str | None], dict[str, int]] = {}
    for dept, worker, *values in con.execute(COUNTS_SQL).fetchall():
        counts[(dept, worker)] = dict(zip(texts.COUNTS, map(int, values)))
    for dept, addresses in config.mail.departments.items():
        numbers = counts.get((dept, None), dict.fromkeys(texts.COUNTS, 0))
        if texts.has_changes(numbers):
            detail = {"department": dept, "name": names.get(dept, dept), "counts": numbers, "lang": lang}
            found += [Target("mail", dept, address, detail) for address in addresses]
    for (dept, worker), numbers in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        address = config.caseworker_addresses.get(worker) if worker is not None else None
        if address and texts.has_changes(numbers):
            detail = {"department": dept, "name": names.get(dept, dept), "counts": numbers, "lang": lang,
                      "caseworker": True}
            found.append(Target("mail", f"caseworker:{dept}:{worker}", address, detail))
    if config.mail.operations_summary:
        found += [Target("mail", "operations", a, {"lang": lang}) for a in config.mail.operations]
    return found


def sources_file(warehouse: Path, run_id: str) -> Path:
    """The sources file the committed run `run_id` read (the ledger's `sources_file`)."""
    con = duckdb.connect(":memory:")
    try:
        with attached(con, warehouse, read_only=True) as exists:
            row = con.execute(f"select sources_file from {ALIAS}.runs where run_id = ?", [run_id]).fetchone() \
                if exists else None
    finally:
        con.close()
    if row is None:
        from targetgroup.errors import RunError  # noqa: PLC0415

        raise RunError(f"the ledger holds no run {run_id}", hint="see targetgroup runs for the run ids")
    return Path(row[0])


def _run_row(warehouse: Path, run_id: str) -> tuple[date, Path]:
    con = duckdb.connect(":memory:")
    try:
        with attached(con, warehouse, read_only=True):
            row = con.execute(f"select as_of, report_dir from {ALIAS}.runs where run_id = ? and status = 'committed'",
                              [run_id]).fetchone()
    finally:
        con.close()
    if row is None:
        from targetgroup.errors import RunError  # noqa: PLC0415

        raise RunError(f"the ledger holds no committed run {run_id}", hint="see targetgroup runs for the run ids")
    return row[0], Path(row[1])


def night_name(as_of: date, run_id: str) -> str:
    """The dated subfolder a night is delivered into: <as-of>_<run-id>, like the run's own folder."""
    return f"{as_of:%Y-%m-%d}_{run_id}"


def _files(report_dir: Path, patterns: tuple[str, ...], code: str) -> list[Path]:
    paths = [report_dir / p.format(code) for p in patterns]
    return [p for p in paths if p.is_file()]


def deliver_run(warehouse: Path, run_id: str, config: DeliveryConfig, progress: Progress | None = None) -> Outcome:
    """Deliver what the ledger holds as not yet delivered for `run_id`; call it holding the
    warehouse's run lock. Returns the outcome; never raises for a target that failed."""
    say = progress or (lambda line: None)
    as_of, report_dir = _run_row(warehouse, run_id)
    night = night_name(as_of, run_id)
    result = Outcome(run_id)
    todo = ledger.targets(warehouse, run_id)
    result.total = len(todo)
    result.delivered = sum(t.state == "delivered" for t in todo)

    def record(target: Target, state: str, error: str | None = None) -> None:
        ledger.mark(warehouse, run_id, target, state, error)
        if state == "delivered":
            result.delivered += 1
            say(f"delivered: {target.label}")
        else:
            result.errors.append(f"{target.label}: {error}")
            say(f"{state}: {target.label}: {error}")
            log.info("delivery %s of run %s: %s: %s", state, run_id, target.label, error)   # ALERT sums up

    for target in [t for t in todo if t.state != "delivered" and t.kind != "mail"]:
        kind = "folders" if target.kind == "folder" else "systems"
        if target.target not in getattr(config, kind):
            record(target, "failed", f"the delivery file no longer names {target.kind} {target.target}")
            continue
        folder = config.folder(kind, target.target)
        files = _files(report_dir, DEPARTMENT_FILES if target.kind == "folder" else SYSTEM_FILES, target.target)
        if not files:
            record(target, "failed", f"the run folder {report_dir} holds no files for {target.target}")
            continue
        try:
            folders.deliver_night(files, folder, night, config.mode)
        except OSError as exc:
            record(target, "pending", f"cannot write into {folder.path} ({type(exc).__name__}: {exc.strerror})")
            continue
        record(target, "delivered")
        deleted = folders.remove_old_nights(folder, as_of, config.keep_nights)
        for name in deleted:
            log.warning("retention: deleted the night %s from %s (older than %d nights)", name, folder.path,
                        config.keep_nights)
            say(f"retention: deleted {Path(folder.path) / name}")
        result.deleted += [str(Path(folder.path) / name) for name in deleted]

    _send_mail([t for t in todo if t.state != "delivered" and t.kind == "mail"], config, run_id, as_of,
               night, report_dir, result, record)
    if result.pending:
        alert(config, run_id, as_of, report_dir, result)
    return result


def deliver_committed(warehouse: Path, run_id: str, config: DeliveryConfig,
                      progress: Progress | None = None) -> Outcome:
    """`deliver_run`, then the reader copy republished (the ledger changed); for the end of a run
    or `targetgroup deliver`, holding the run lock. Never raises: the run is stored whatever
    happens here, and what was not delivered stays pending in the ledger (and is alerted)."""
    from targetgroup import reader  # noqa: PLC0415

    try:
        result = deliver_run(warehouse, run_id, config, progress)
    except Exception as exc:  # noqa: BLE001 - the run is committed; report, keep pending
        result = Outcome(run_id, total=max(1, len(ledger.targets(warehouse, run_id))))
        result.delivered = sum(t.state == "delivered" for t in ledger.targets(warehouse, run_id))
        result.errors.append(f"delivery stopped ({type(exc).__name__})")
        log.error("delivery of run %s stopped (%s); what is not delivered stays pending", run_id, type(exc).__name__)
    try:
        reader.publish(warehouse)
    except Exception as exc:  # noqa: BLE001
        log.warning("the reader copy could not be republished after delivery (%s)", type(exc).__name__)
    return result


def where(config: DeliveryConfig, dept: str, night: str, report_dir: Path) -> str:
    """Where a notice says tonight's list lies: the department's folder as caseworkers reach it
    (`shown_as`, with its own separator) or as this machine has it; without a department folder,
    the run's own folder."""
    if dept not in config.folders:
        return str(report_dir)
    folder = config.folder("folders", dept)
    if folder.shown_as:
        sep = "\\" if "\\" in folder.shown_as else "/"
        return folder.shown_as.rstrip("\\/") + sep + night
    return str(Path(folder.path) / night)


def _send_mail(todo: list[Target], config: DeliveryConfig, run_id: str, as_of: date, night: str,
               report_dir: Path, result: Outcome, record: Callable[..., None]) -> None:
    if not todo:
        return
    if config.mail is None:
        for target in todo:
            record(target, "failed", "the delivery file has no mail section any more")
        return
    settings = config.mail
    messages: dict[str, list[Target]] = {}
    for target in todo:
        messages.setdefault(target.target, []).append(target)
    try:
        with mail.connect(settings, config.base) as smtp:
            for key, targets in messages.items():
                detail = targets[0].detail
                lang = detail.get("lang", "da")
                if key == "operations":
                    state = ledger.state_text(result.delivered, result.total - len(targets), 0) or "-"
                    notice = texts.operations_notice(lang, "ok", as_of, run_id, state=state)
                else:
                    dept = detail["department"]
                    notice = texts.list_notice(lang, as_of, dept, detail["name"], detail["counts"],
                                               where(config, dept, night, report_dir),
                                               caseworker=detail.get("caseworker", False))
                recipients = [t.recipient for t in targets]
                msg = mail.message(notice, settings.sender, recipients,
                                   mail.message_id(run_id, key, settings.sender), lang)
                outcome = mail.send(smtp, msg, recipients)
                for target in targets:
                    state, error = outcome[target.recipient]
                    record(target, state, error)
    except mail.SmtpProblem as exc:   # no connection: nothing was sent
        for target in todo:
            record(target, exc.state, exc.text)


def alert(config: DeliveryConfig, run_id: str, as_of: date, report_dir: Path, result: Outcome) -> None:
    """Tell operations that deliveries of a committed run are pending: ALERT.txt in the run's
    folder, a log warning, and a mail to operations if the server takes it (best effort)."""
    cause = result.errors[-1] if result.errors else "unknown"
    text = privacy.scrub(f"ALERT: run {run_id} ({as_of}) is stored, but {result.pending} of {result.total} "
                         f"deliveries are not done.\nLast error: {cause}\n"
                         f"Retry with: targetgroup deliver --run {run_id}\n")
    log.error(text.strip())
    try:
        write_text(report_dir / "ALERT.txt", text)
    except OSError as exc:
        log.error("could not write ALERT.txt into %s (%s)", report_dir, type(exc).__name__)
    if config.mail and config.mail.operations:
        notice = texts.operations_notice("da", "pending", as_of, run_id, n=result.pending,
                                         what=f"{result.pending}/{result.total}", cause=cause)
        send_operations(config, notice, f"pending:{result.delivered}", run_id)


def send_operations(config: DeliveryConfig, notice: texts.Notice, key: str, run_id: str = "") -> bool:
    """Send `notice` to operations outside the ledger (an alert); False when it could not."""
    settings = config.mail
    if settings is None or not settings.operations:
        return False
    try:
        with mail.connect(settings, config.base) as smtp:
            msg = mail.message(notice, settings.sender, list(settings.operations),
                               mail.message_id(run_id or key, key, settings.sender), "da")
            outcome = mail.send(smtp, msg, list(settings.operations))
        return any(state == "delivered" for state, _ in outcome.values())
    except mail.SmtpProblem as exc:
        log.error("operations could not be mailed: %s", exc.text)
        return False
