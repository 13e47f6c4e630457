"""Evaluate a rule set in the run's DuckDB connection: from `residents`/`active_cases` to `targets`.

    evaluate(con, loaded, config, as_of, warehouse) -> counts

Tables it creates (grain):
- `condition_hits`: one row per rule per condition per citizen meeting it (evidence for explain).
- `rule_matches`: one row per rule per citizen meeting all but persistence, before exclusions
  (stored in the warehouse as `rule_matches`: the history persistence reads).
- `family_links`: one row per family rule per child-parent pair.
- `consent_status`: one row per citizen with a known consent (targetgroup.consent).
- `exclusions`: one row per rule per citizen excluded, awaiting consent or manually included,
  with the reason.
- `targets`: one row per flagged citizen per rule (the contract; see pipeline.identify).
- `family_key`: one row, the warehouse's secret family key (new and random on the first run;
  `store_family_key` saves it in the commit). Macro `tg_family_id(cpr)` keys family ids with it.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from pathlib import Path

import duckdb

from targetgroup import consent
from targetgroup.config import SourcesConfig
from targetgroup.errors import RulesError
from targetgroup.rules import model as m
from targetgroup.limits import MAX_LIST_BYTES, check_size
from targetgroup.rules.compile import condition_sql, template
from targetgroup.rules.load import MANUAL_COLUMNS, LoadedRules
from targetgroup.warehouse import ALIAS, attached, run_script, run_sql, sql_text

HISTORY_TABLE = "rule_matches"
FAMILY_KEY_TABLE = "family_key"


CONDITION_HITS_SQL = """
insert into condition_hits
select $rule_id::varchar, $role::varchar, $cond_no::integer, $kind::varchar, *
from (
"""


def evaluate(con: duckdb.DuckDBPyConnection, loaded: LoadedRules, config: SourcesConfig, as_of: date,
             warehouse: Path | None = None) -> dict[str, int]:
    """Build condition_hits, rule_matches, exclusions and targets; returns counts (no CPR)."""
    params = {"as_of": as_of, "rules_name": loaded.rules.name, "rules_hash": loaded.hash}
    run_sql(con, "rules/prepare.sql")
    load_history(con, warehouse, as_of)
    load_family_key(con, warehouse)
    load_manual_lists(con, loaded)
    _rule_meta(con, loaded.rules)
    for rule in loaded.rules.rules:
        for role, i, cond in rule.all_conditions():
            if cond.kind == "persistence":
                continue
            text, values = condition_sql(cond, config)
            # the condition's SELECT is fixed template text; only its values vary, as parameters
            run_script(con, CONDITION_HITS_SQL + text + "\n)",
                       {**params, **values, "rule_id": rule.id, "role": role, "cond_no": i, "kind": cond.kind})
        if rule.subject == "person":
            n = sum(1 for c in rule.conditions if c.kind != "persistence")
            run_script(con, template("person"), {**params, "rule_id": rule.id, "n": n})
        else:
            run_script(con, template("family"), {
                **params, "rule_id": rule.id, "n_child": len(rule.family.child),
                "n_parent": len(rule.family.parent), "household_adults": rule.family.household_adults})
        for i, cond in enumerate(rule.conditions):
            if cond.kind == "persistence":
                run_script(con, template("persistence"), {**params, "rule_id": rule.id, "cond_no": i,
                                                          "runs": cond.runs, "previous": cond.runs - 1})
    consent.build_status(con, as_of)
    run_script(con, sql_text("rules/finalize.sql"), params)
    return counts(con)


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Counts for the summary: matches, flags and exclusions per reason code."""
    out = dict(zip(("rule_matches", "targets"), con.execute(
        "select (select count(*) from rule_matches), (select count(*) from targets)").fetchone()))
    for code, action, n in con.execute(
            "select reason_code, action, count(*) from exclusions group by all order by 1").fetchall():
        out[f"{action}:{code}"] = n
    return out


def _rule_meta(con: duckdb.DuckDBPyConnection, rules: m.RuleSet) -> None:
    rows = []
    for rule in rules.rules:
        persistence = [c.runs for c in rule.conditions if c.kind == "persistence"]
        rows.append((rule.id, rule.subject, rule.title_da, rule.title_en, rule.exclusions.protected,
                     rule.exclusions.consent_refused, rule.exclusions.manual, rule.notify,
                     persistence[0] if persistence else None,
                     rule.review_after.total_months if rule.review_after else None,
                     rule.consent == "required"))
    con.executemany("insert into rule_meta values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def load_history(con: duckdb.DuckDBPyConnection, warehouse: Path | None, as_of: date) -> None:
    """rule_runs (committed runs before as_of) and rule_history (their matches) from the warehouse."""
    con.execute("create or replace temp table rule_runs (run_id varchar, as_of date, started_at timestamp)")
    con.execute("create or replace temp table rule_history (run_id varchar, as_of date, rule_id varchar, cpr varchar)")
    if warehouse is None:
        return
    with attached(con, warehouse, read_only=True) as exists:
        if not exists:
            return
        tables = {r[0] for r in con.execute(
            f"select table_name from duckdb_tables() where database_name = '{ALIAS}'").fetchall()}
        if "runs" not in tables:
            return
        con.execute(f"""insert into rule_runs select run_id, as_of, started_at from {ALIAS}.runs
                        where status = 'committed' and as_of < ?""", [as_of])
        if HISTORY_TABLE in tables:
            con.execute(f"""insert into rule_history
                            select h.run_id, r.as_of, h.rule_id, h.cpr
                            from {ALIAS}.{HISTORY_TABLE} as h join rule_runs as r using (run_id)""")


def load_family_key(con: duckdb.DuckDBPyConnection, warehouse: Path | None) -> None:
    """Temp table `family_key` and macro `tg_family_id(cpr)`: 'F' + 12 hex of a keyed hash.

    The key is the warehouse's (`wh.family_key`); a warehouse without one gets a new random key,
    saved by the commit step `store_family_key`, so ids stay the same from night to night while
    nobody without the warehouse can compute a family id from a CPR number.
    """
    key = None
    if warehouse is not None:
        with attached(con, warehouse, read_only=True) as exists:
            if exists and con.execute(f"select count(*) from duckdb_tables() where database_name = '{ALIAS}' "
                                      f"and table_name = '{FAMILY_KEY_TABLE}'").fetchone()[0]:
                row = con.execute(f"select min(family_key) from {ALIAS}.{FAMILY_KEY_TABLE}").fetchone()
                key = row[0] if row else None
    created = key is None
    key = key or secrets.token_hex(32)
    if not re.fullmatch(r"[0-9a-f]{64}", key):
        raise RulesError("the warehouse's family key is damaged", file=warehouse, field=FAMILY_KEY_TABLE,
                         hint="restore the warehouse from a backup (a new key would change every family id)")
    con.execute("create or replace temp table family_key as select ?::varchar as family_key, ? as created",
                [key, created])
    # HMAC-like: sha256(key || sha256(key || message)); the key is 64 hex digits, inlined as a literal
    con.execute(f"""create or replace temp macro tg_family_id(cpr) as
        'F' || left(sha256('{key}' || sha256('{key}' || 'targetgroup-family:' || cpr)), 12)""")


def store_family_key(con: duckdb.DuckDBPyConnection) -> None:
    """Commit step: save the family key in the warehouse if it has none yet (first run)."""
    con.execute(f"create table if not exists {ALIAS}.{FAMILY_KEY_TABLE} "
                "(family_key varchar not null, created_at timestamp not null)")
    con.execute(f"""insert into {ALIAS}.{FAMILY_KEY_TABLE}
                    select family_key, now()::timestamp from family_key
                    where not exists (select 1 from {ALIAS}.{FAMILY_KEY_TABLE})""")


def store_history(run_id: str, as_of: date):
    """A commit step that appends this run's rule_matches to the warehouse history."""
    def step(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"""create table if not exists {ALIAS}.{HISTORY_TABLE} (
                            run_id varchar, as_of date, rule_id varchar, subject_id varchar, cpr varchar)""")
        con.execute(f"insert into {ALIAS}.{HISTORY_TABLE} select ?, ?, rule_id, subject_id, cpr from rule_matches",
                    [run_id, as_of])
    return step


def load_manual_lists(con: duckdb.DuckDBPyConnection, loaded: LoadedRules) -> None:
    """Read the manual exclusion/inclusion CSVs into manual_list; bad lines are RulesErrors."""
    ids = [r.id for r in loaded.rules.rules]
    for kind, which in (("exclude", "exclusions"), ("include", "inclusions")):
        path = loaded.list_path(which)
        if path is None:
            continue
        field = f"manual_{which}"
        if not path.is_file():
            raise RulesError(f"the manual {which[:-1]} list does not exist", file=path, field=field,
                             hint=f"create a CSV with the columns {', '.join(MANUAL_COLUMNS)}")
        check_size(path, MAX_LIST_BYTES, RulesError, field=field)
        rel = con.execute("select * from read_csv(?, all_varchar = true, header = true)", [str(path)])
        columns = [d[0].strip().lower() for d in rel.description]
        missing = [c for c in MANUAL_COLUMNS if c not in columns]
        if missing:
            raise RulesError(f"the list has no column {', '.join(missing)}", file=path, line=1, field=field,
                             hint=f"the header must be {','.join(MANUAL_COLUMNS)}")
        rows = rel.fetchall()
        for number, row in enumerate(rows, start=2):
            values = dict(zip(columns, row))
            allowed = ids + (["*"] if kind == "exclude" else [])
            rule = (values["rule"] or "").strip()
            if rule not in allowed:
                raise RulesError(f"unknown rule '{rule}'", file=path, line=number, field="rule",
                                 hint=f"use one of {', '.join(allowed)}")
            if not (values["reason"] or "").strip():
                raise RulesError("the reason is empty", file=path, line=number, field="reason",
                                 hint="every manual exclusion and inclusion needs a reason")
        if not rows:
            continue
        con.executemany(
            "insert into manual_list values (?, ?, ?, tg_cpr(?), ?, ?, ?)",
            [(kind, path.name, n, v[columns.index("cpr")], v[columns.index("rule")].strip(),
              v[columns.index("reason")].strip(), v[columns.index("added_by")]) for n, v in enumerate(rows, start=2)])
        bad = con.execute("select min(line) from manual_list where file = ? and kind = ? and cpr is null",
                          [path.name, kind]).fetchone()[0]
        if bad is not None:
            raise RulesError("the CPR number cannot be read", file=path, line=bad, field="cpr",
                             hint="write ten digits, with or without a dash")
