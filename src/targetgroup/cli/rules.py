"""`targetgroup rules check`, `targetgroup rules list` and `targetgroup explain`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from targetgroup.cli import RULES_HELP, app, err, fail, parse_date, rule_file, stdout
from targetgroup.config import SAMPLE_SOURCES

rules_app = typer.Typer(help="Work with rule files (the target-group definitions).", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("check")
def check(
    file: Annotated[str, typer.Argument(help="The rule set to check: a rule file's path or a set's name (`targetgroup rules list`).")],
    sources: Annotated[Path, typer.Option("--sources", help="Sources configuration the departments and case types are checked against.")] = SAMPLE_SOURCES,
) -> None:
    """Check a rule file; print every problem with file, line, field and a hint; exit 1 if any."""
    from targetgroup.config import load_sources  # noqa: PLC0415
    from targetgroup.rules.load import check_rules, load_rules  # noqa: PLC0415

    path = rule_file(file)
    try:
        config = load_sources(sources, check_files=False)
        problems = check_rules(path, config)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    if problems:
        for problem in problems:
            err.print(f"[bold red]Error:[/] {problem}", markup=True, soft_wrap=True, highlight=False)
        err.print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {path}")
        raise typer.Exit(1)
    loaded = load_rules(path, config)
    stdout.print(f"{path}: rule set '{loaded.rules.name}' is valid: {len(loaded.rules.rules)} rule(s), "
                 f"hash {loaded.hash[:12]}")


@rules_app.command("list")
def list_sets() -> None:
    """List the rule sets `--rules NAME` finds: those in ./rules/ (local), then the shipped ones."""
    from targetgroup.rules.sets import list_rule_sets  # noqa: PLC0415

    # one line per set, its description indented below: readable at 80 columns, easy to grep
    for entry in list_rule_sets():
        origin = f"{entry.origin}, hidden by the local set" if entry.shadowed else entry.origin
        stdout.print(f"{entry.name:<22} {origin:<8} {entry.file}", soft_wrap=True, markup=False)
        if entry.title:
            stdout.print(f"    {entry.title}", soft_wrap=True, markup=False)
    stdout.print("Use one with --rules NAME; a path to a rule file works too.", markup=False)


@app.command()
def explain(
    cpr: Annotated[str, typer.Option("--cpr", help="The citizen's CPR number (shown on the terminal only).")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date D (YYYY-MM-DD); default today.")] = None,
    rules: Annotated[Optional[str], typer.Option("--rules", help=RULES_HELP)] = None,
    sources: Annotated[Path, typer.Option("--sources", help="Sources configuration (YAML).")] = SAMPLE_SOURCES,
    warehouse: Annotated[Optional[Path], typer.Option("--warehouse", help="Warehouse with run history (for persistence); default reports/warehouse.duckdb.")] = None,
) -> None:
    """Show, for one citizen, each rule, whether it flags them, the evidence, caseworker removals and the
    citizen's flag in the register. Prints to the terminal only."""
    from targetgroup import pipeline  # noqa: PLC0415
    from targetgroup import register as flag_register  # noqa: PLC0415
    from targetgroup.cpr import parse_typed  # noqa: PLC0415
    from targetgroup.rules import load_rules  # noqa: PLC0415
    from targetgroup.rules.explain import explain_citizen  # noqa: PLC0415
    from targetgroup.reader import for_reading  # noqa: PLC0415
    from targetgroup.warehouse import DEFAULT_WAREHOUSE  # noqa: PLC0415

    run = None
    rule_path = rule_file(rules)
    try:
        value = parse_typed(cpr)
        # the reader copy when there is one: explain never holds the warehouse open during a commit
        settings = pipeline.RunSettings(sources=sources, rules=rule_path, as_of=parse_date(as_of),
                                        warehouse=for_reading(warehouse or DEFAULT_WAREHOUSE), rebuild=True)
        with err.status("reading extracts and evaluating rules ..."):
            run = pipeline.prepare(settings)
            pipeline.extract(run)
            pipeline.stage(run)
            pipeline.identify(run)
            # what the register would make of it: removals, flags (reads the warehouse, writes nothing)
            flag_register.compute(run.con, run.config, as_of=settings.as_of, run_id=run.run_id,
                                  warehouse=settings.warehouse_path, rebuild=True, suppressions=None,
                                  started_at=run.started_at)
            loaded = load_rules(settings.rules, run.config)
            result = explain_citizen(run.con, value, loaded, settings.as_of)
            consents = consent_lines(run.con, value)
    except Exception as exc:  # noqa: BLE001
        if run is not None:
            run.discard()
        fail(exc)
    run.discard()   # removes the run's staging folder, DuckDB's spill included
    render(result, loaded.rules.name)
    for line in consents:
        stdout.print(line)


def consent_lines(con, cpr: str) -> list[str]:
    """Consent on D (and which record or extract decided it), then every recorded consent."""
    status = con.execute("""select consent, departments, origin, consent_id, until from consent_status
                            where cpr = ?""", [cpr]).fetchone()
    if status is None:
        lines = ["\n[bold]Consent[/] on D: unknown (no record in force, no consent value in an active case)"]
    else:
        covers = ", ".join(status[1]) or "all departments"
        source = f"record {status[3]}" if status[2] == "recorded" else "the extracts' consent column"
        lines = [f"\n[bold]Consent[/] on D: {status[0]} ({covers}; from {source}"
                 + (f"; until {status[4]}" if status[4] else "") + ")"]
    for r in con.execute("""select consent_id, consent, departments, recorded_by, recorded_on, until, origin
                            from consent_records where cpr = ? order by recorded_on, consent_id""", [cpr]).fetchall():
        lines.append(f"  {r[0]}: {r[1]} ({', '.join(r[2]) or 'all departments'}) recorded by {r[3]} on {r[4]}"
                     + (f", until {r[5]}" if r[5] else "") + f" [{r[6]}]")
    return lines


def render(result, rules_name: str) -> None:
    """Print an Explanation to stdout."""
    p = result.person
    stdout.print(f"[bold]Citizen {result.cpr[:6]}-{result.cpr[6:]}[/] on {result.as_of} (rule set {rules_name})")
    if p is None:
        stdout.print("Not in the person extract: no case of this CPR is used for identification.")
    else:
        state = "alive and resident" if p["resident"] else (
            "dead" if p["death_date"] and p["death_date"] <= result.as_of else "moved away")
        stdout.print(f"{p['name'] or ''}, born {p['birth_date']}, age {p['age'] if p['age'] is not None else '-'}"
                     f"{' (minor)' if p['minor'] else ''}, {state}"
                     f"{', name and address protection' if p['protected'] else ''}, household {p['household_id'] or '-'}")
    cases = Table(title="Cases")
    for col in ("department", "source:case", "type", "status", "start", "end", "active on D", "consent"):
        cases.add_column(col)
    for c in result.cases:
        cases.add_row(c["department"], f"{c['source']}:{c['case_id']}", c["case_type"] or "", c["status"],
                      str(c["start_date"]), str(c["end_date"] or ""), "yes" if c["active_on_d"] else "no",
                      c["consent"] or "")
    stdout.print(cases)
    family = Table(title="Family (CPR masked)")
    for col in ("role", "cpr", "name", "age", "resident", "active departments"):
        family.add_column(col)
    for r in result.relatives:
        family.add_row(r["role"], r["masked_cpr"], r["name"] or "", str(r["age"] if r["age"] is not None else "-"),
                       "yes" if r["resident"] else "no", ", ".join(r["active_departments"] or []))
    stdout.print(family)
    for rule in result.rules:
        mark = "[green]FLAGGED[/]" if rule.flagged else "[dim]not flagged[/]"
        stdout.print(f"\n[bold]{rule.rule_id}[/] ({rule.subject}) {rule.title_en}: {mark}")
        if rule.flagged:
            stdout.print(f"  reason codes: {' '.join(rule.reason_codes)}"
                         + (f"  family id: {rule.family_id}" if rule.family_id else ""))
        for cond in rule.conditions:
            tick = "[green]✓[/]" if cond.met else "[red]✗[/]"
            role = "" if cond.role == "subject" else f"{cond.role} "
            stdout.print(f"  {tick} {role}{cond.kind}: {cond.evidence}")
        for line in rule.family_links:
            stdout.print(f"  {line}")
        for line in rule.exclusions:
            stdout.print(f"  {line}")
        for line in rule.decisions:
            stdout.print(f"  {line}")
        for line in rule.register:
            stdout.print(f"  register: {line}")
