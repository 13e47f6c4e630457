"""The quality gate: runs after staging and before identification (docs/quality.md).

    suites (generated from the sources file) -> Great Expectations over DuckDB views
    -> findings / quarantine -> volume guard against the last committed run -> report
    (quarantine.csv, and quality_gate.html: the results on one page that works offline, page.py)

`start_gate` applies the quarantine and starts Great Expectations in a background thread, so it
validates while identification runs; `finish_gate` waits for it and returns a `GateResult` with
every outcome; `raise_if_errors` stops the run with a
`ValidationError` (source, expectation, counts, masked example rows) when an error-level
expectation failed or the volume guard fired. Quarantined rows are removed from `cases` and
`persons` only by `start_gate` itself, so identification never sees them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from targetgroup import privacy
from targetgroup.config import SourcesConfig
from targetgroup.deliver.files import make_private_dir
from targetgroup.errors import RunError, ValidationError
from targetgroup.validate import page, quarantine, views, volume
from targetgroup.validate.suites import Check, build_suites


@dataclass
class GateResult:
    """What the gate found; `errors` stop the run, `warnings` are reported."""

    outcomes: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    quarantined: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)
    volumes: list[volume.Volume] = field(default_factory=list)
    data_docs: Path | None = None
    report: Path | None = None

    def manifest(self) -> dict:
        """The `quality` entry of the run manifest (counts and messages, masked CPRs only)."""
        return {
            "passed": not self.errors,
            "errors": self.errors,
            "warnings": self.warnings,
            "rows_rejected": self.rejected,
            "rows_quarantined": self.quarantined,
            "rows_quarantined_total": sum(sum(v.values()) for v in self.quarantined.values()),
            "rows_unmatched": self.unmatched,
            "volume": [v.__dict__ for v in self.volumes],
            "expectations": [
                {"suite": o.check.suite, "expectation": o.check.expectation, "severity": o.check.severity,
                 "success": o.success, "observed": o.observed} for o in self.outcomes],
            "data_docs": str(self.data_docs) if self.data_docs else None,
            "report": self.report.name if self.report else None,
        }


@dataclass
class PendingGate:
    """Great Expectations validating the gate tables in a background thread (see start_gate)."""

    thread: threading.Thread
    connection: duckdb.DuckDBPyConnection | None = None   # its own cursor on the run's database
    box: dict = field(default_factory=dict)   # outcomes and docs, or the exception it raised

    def wait(self) -> None:
        """Wait until Great Expectations is done, then close its connection (safe to call twice)."""
        self.thread.join()
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def start_gate(con: duckdb.DuckDBPyConnection, config: SourcesConfig, *, as_of: date, rows: dict[str, int],
               report_dir: Path, warehouse: Path | None,
               allow_drop: frozenset[str] = frozenset()) -> tuple[GateResult, PendingGate]:
    """Quarantine failing rows, apply the volume guard, and start Great Expectations in a thread.

    The quarantine is selected by the row-level checks' own predicates (the same SQL that Great
    Expectations runs, so both find the same rows), so identification can go on while Great
    Expectations validates the gate tables through its own DuckDB connection; `finish_gate`
    waits for it and turns its outcomes into errors and warnings. Nothing may be written or
    stored before `finish_gate` has returned without errors.
    """
    known = {config.persons.name, *(s.name for s in config.sources)}
    if unknown := sorted(allow_drop - known):
        raise RunError(f"--allow-drop names unknown source(s) {', '.join(unknown)}",
                       hint=f"use one of {', '.join(sorted(known))}")
    make_private_dir(report_dir)
    from targetgroup.validate.gate import run_suites  # noqa: PLC0415 - imports Great Expectations

    result = GateResult()
    suites = build_suites(config, as_of, allow_drop)
    views.create_views(con, config)
    quarantine.collect(con, [c for suite in suites for c in suite.checks if c.row_level])
    result.quarantined = quarantine.counts(con)
    result.rejected = dict(con.execute("select source, count(*) from rejects group by 1").fetchall())
    result.unmatched = dict(con.execute(
        "select source, count(*) from findings where expectation = 'cpr_in_register' group by 1").fetchall())
    gx_con = con.cursor()   # Great Expectations' thread never touches `con` itself

    def validate_in_background() -> None:
        try:
            pending.box["outcomes"], pending.box["docs"] = run_suites(gx_con, suites, report_dir / "quality")
        except BaseException as exc:  # noqa: BLE001 - handed to finish_gate, raised there
            pending.box["error"] = exc

    pending = PendingGate(threading.Thread(target=validate_in_background, name="quality-gate", daemon=True),
                          connection=gx_con)
    pending.thread.start()
    try:
        quarantine.apply(con, config)
        now = volume.current(con, rows, config.persons.name, as_of)
        last_run, last = volume.previous(con, warehouse) if warehouse else (None, {})
        result.volumes = volume.compare(now, last_run, last)
    except BaseException:
        pending.wait()
        raise
    return result, pending


def finish_gate(con: duckdb.DuckDBPyConnection, config: SourcesConfig, result: GateResult, pending: PendingGate,
                report_dir: Path, allow_drop: frozenset[str] = frozenset()) -> GateResult:
    """Wait for Great Expectations; fill the errors and warnings; write quarantine.csv."""
    pending.wait()
    try:
        if "error" in pending.box:
            raise pending.box["error"]
        result.outcomes, result.data_docs = pending.box["outcomes"], pending.box["docs"]
        for o in result.outcomes:
            if not o.success:
                text = f"source {o.check.extract}: {o.check.expectation}: {_explain(con, o, config)}"
                (result.errors if o.check.severity == "error" else result.warnings).append(text)
        result.report = quarantine.write_report(con, report_dir)
    finally:
        views.drop_views(con, config)
    stop, allowed = volume.problems(result.volumes, config.quality.volume_drop, allow_drop)
    result.errors += [f"volume guard: {p}" for p in stop]
    result.warnings += [f"volume guard (allowed by --allow-drop): {p}" for p in allowed]
    # what the run links to works offline: our own page, not GX's CDN-styled Data Docs
    result.data_docs = page.write_page(report_dir / "quality_gate.html", result)
    return result


def raise_if_errors(result: GateResult, report_dir: Path) -> None:
    """Stop the run with every error-level finding in one message."""
    if not result.errors:
        return
    lines = "\n  ".join(result.errors)
    volume_hit = any(e.startswith("volume guard") for e in result.errors)
    hint = f"details in {report_dir / 'quarantine.csv'}"
    if result.data_docs:
        hint += f" and {result.data_docs}"
    hint += "; fix or re-deliver the extract, or change quality.severity in the sources file"
    if volume_hit:
        hint += "; if the drop is real, rerun with --allow-drop SOURCE"
    raise ValidationError(f"the quality gate stopped the run ({len(result.errors)} error(s)); "
                          f"nothing was stored:\n  {lines}", hint=hint)


def _undeclared_statuses(con: duckdb.DuckDBPyConnection, check: Check, shown: int = 10) -> str:
    """Each undeclared status code with its row count and first row, and the statuses: entry to add.

    The codes are read from the gate table (the check's own predicate) and printed only through
    privacy.describe_code: cleaned of control characters, cut short, never a CPR."""
    found = con.execute(f"""
        select lower(status), count(*), arg_min(file, [file, lpad(line::varchar, 20, '0')]),
               arg_min(line, [file, lpad(line::varchar, 20, '0')])
        from gate_{check.extract}
        where parsed and ({check.predicate})
        group by 1""").fetchall()
    codes: dict[str, list] = {}
    for code, n, file, line in sorted(found, key=lambda r: (r[2], r[3])):
        entry = codes.setdefault(privacy.describe_code(code), [0, file, line])
        entry[0] += n
    rows = sum(entry[0] for entry in codes.values())
    listed = sorted(codes.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2]))
    parts = [f"{code} ({n:,} row{'s' if n != 1 else ''}, first {file}:{line})" for code, (n, file, line) in listed[:shown]]
    if len(listed) > shown:
        parts.append(f"and {len(listed) - shown} more code(s)")
    example = next((c.strip("'") for c in codes if c != privacy.CODE_NOT_SHOWN), "CODE")
    return (f"{len(codes)} undeclared status code(s) on {rows:,} row(s): {', '.join(parts)}; add each code under "
            f"statuses: of source {check.extract} in the sources file, true if it means an active case, "
            f"false if not (e.g. statuses: {{..., {example}: false}}), or lower quality.severity "
            f"{check.extract}.status_known to warning to quarantine the rows instead")


def _explain(con: duckdb.DuckDBPyConnection, outcome, config: SourcesConfig) -> str:  # noqa: ANN001
    check: Check = outcome.check
    if outcome.problem:
        return outcome.problem
    if check.expectation == "status_known":
        return _undeclared_statuses(con, check)
    if check.row_level:
        n, = con.execute("select count(*) from findings where source = ? and expectation = ?",
                         [check.extract, check.expectation]).fetchone()
        what = "quarantined" if check.quarantine and check.severity == "warning" else "found"
        return f"{n:,} row(s) {what}: " + "; ".join(quarantine.examples(con, check))
    observed = outcome.observed
    if check.expectation == "columns_present":
        missing = sorted(set(check.gx_kwargs["column_set"]) - set(observed or []))
        return f"mapped column(s) missing: {', '.join(missing)}"
    if check.expectation == "no_unknown_columns":
        extra = sorted(set(observed or []) - set(check.gx_kwargs["column_set"]))
        return f"column(s) not in the mapping: {', '.join(extra)} (accepted, not used)"
    if check.expectation == "row_count":
        return f"{observed:,} rows, at least {check.gx_kwargs['min_value']:,} expected"
    if check.expectation == "types_parse":
        bad, total = con.execute(f"select count(*) filter (where not parsed), count(*) from gate_{check.extract}"
                                 ).fetchone()
        first = con.execute("""select file, line, field, reason from rejects where source = ?
                               order by file, line limit 3""", [check.extract]).fetchall()
        share = config.quality.max_reject_share
        return (f"{bad:,} of {total:,} rows cannot be parsed ({bad / max(total, 1):.0%}, more than the "
                f"{share:.0%} allowed); first: " + "; ".join(f"{f}:{ln} {fd}: {r}" for f, ln, fd, r in first))
    if check.expectation == "department_known":
        return f"department(s) not declared: {', '.join(map(str, (observed or {}).get('values', [])))}"
    return f"observed {observed}"
