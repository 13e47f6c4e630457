"""Action lists per case system, reconciliation findings and caseworker notices (docs/actions.md).

Files in the run's report folder, all owner-only and sorted, with no time stamp inside (the
JSON names the run id and as-of), so the same register change gives the same bytes:
- `actions_<SYSTEM>.csv` / `.json`: one row per create/update/end action for the marking.
- `reconcile_<SYSTEM>.csv`: findings for systems whose current markings were imported.
- `notices_<DEPT>.csv`: one row per notice per caseworker per citizen.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

import pandas as pd

from targetgroup.config import SourcesConfig
from targetgroup.deliver import texts
from targetgroup.deliver.files import copy_csv, write_text
from targetgroup.warehouse import run_sql, sql_identifier

ACTION_COLUMNS = ["as_of", "system", "action", "cpr", "marking_code", "start_date", "end_date", "reason",
                  "rule_ids", "flag_ids", "action_id", "rules_name", "rules_hash"]
RECONCILE_COLUMNS = ["system", "finding", "cpr", "marking_code", "start_date", "end_date", "file", "line"]
# (column of notice_rows, heading key in deliver.texts, kind): headings in the run's language
NOTICE_COLUMNS = [("team", "col_team", "text"), ("caseworker", "col_caseworker", "text"),
                  ("notice", "col_notice", "text"), ("cpr_text", "col_cpr", "text"), ("name", "col_name", "text"),
                  ("rule_title", "col_rule", "text"), ("flag_id", "col_flag", "text"),
                  ("detail", "col_detail", "text"), ("others", "col_others", "text"),
                  ("relatives", "col_relatives", "text"), ("consent", "col_consent", "text"),
                  ("transition_due", "col_transition_due", "date"), ("review_due", "col_review_due", "date"),
                  ("rules_name", "col_rules_name", "text"), ("rules_hash", "col_rules_hash", "text")]


# action_id: the same change to the same marking always gets the same id, whichever run (or
# rebuilt run) issues it, so a robot can tell an action it has applied (docs/actions.md). A
# create issued again because the system lacks the marking is a new action: its as-of counts.
ACTIONS_SQL = """
    with actions as (
        select ?::varchar as as_of, system, action, cpr, marking_code,
            strftime(start_date, '%Y-%m-%d') as start_date,
            coalesce(strftime(end_date, '%Y-%m-%d'), '') as end_date, reason,
            array_to_string(rule_ids, ' ') as rule_ids, array_to_string(flag_ids, ' ') as flag_ids,
            ?::varchar as rules_name, ?::varchar as rules_hash
        from reg_actions
        where system = ?
    ),
    final as (
        select *, 'A' || left(sha256(concat_ws('|', system, action, cpr, marking_code, start_date, end_date, reason,
                                                if(reason like 'missing in the system%', as_of, ''))), 16) as action_id
        from actions
    )
    select * from final
    order by system, cpr, action
"""


def write_actions(con: duckdb.DuckDBPyConnection, config: SourcesConfig, out_dir: Path, *,
                  run_id: str, as_of: date, rules: tuple[str | None, str | None] = (None, None)) -> list[Path]:
    """Write `actions_<SYSTEM>.csv` and `.json` for every system with a marking code (also when empty).

    DuckDB writes both (one JSON object per action per line): no action passes through pandas.
    """
    written = []
    codes = {s.system: s.marking_code for s in reversed(config.sources) if s.marking_code}
    for system in config.systems:
        if system not in codes:
            continue
        params = [as_of.isoformat(), rules[0], rules[1], system]
        query = f"select {', '.join(ACTION_COLUMNS)} from ({ACTIONS_SQL})"
        written.append(copy_csv(con, out_dir / f"actions_{system}.csv", query, params))
        fields = [c for c in ACTION_COLUMNS if c not in ("as_of", "system", "rules_name", "rules_hash")]
        rows = con.execute(
            f"select coalesce(string_agg(to_json(struct_pack({', '.join(fields)}))::varchar, ',\n    '), '') "
            f"from ({ACTIONS_SQL})", params).fetchone()[0]
        head = json.dumps({"run_id": run_id, "as_of": as_of.isoformat(), "system": system,
                           "marking_code": codes[system], "rules_name": rules[0], "rules_hash": rules[1]},
                          indent=2, ensure_ascii=False)[:-2]
        body = f'{head},\n  "actions": [\n    {rows}\n  ]\n}}\n' if rows else f'{head},\n  "actions": []\n}}\n'
        written.append(write_text(out_dir / f"actions_{system}.json", body))
    return written


def write_reconcile(con: duckdb.DuckDBPyConnection, config: SourcesConfig, out_dir: Path) -> list[Path]:
    """Write `reconcile_<SYSTEM>.csv` for every system whose marking list was imported."""
    query = f"""
        select {', '.join(RECONCILE_COLUMNS)} from (
            select system, finding, cpr, marking_code, strftime(start_date, '%Y-%m-%d') as start_date,
                strftime(end_date, '%Y-%m-%d') as end_date, file, line
            from reg_reconcile where system = ?)
        order by system, finding, cpr"""
    return [copy_csv(con, out_dir / f"reconcile_{system}.csv", query, [system])
            for system in dict.fromkeys(m.system for m in config.markings)]


def write_notices(con: duckdb.DuckDBPyConnection, departments: list[str], out_dir: Path, lang: str = "da",
                  rules: tuple[str | None, str | None] = (None, None)) -> list[Path]:
    """Write `notices_<DEPT>.csv` for every department (also when empty), in the run's language.

    Needs `caseworker_rows` and its word tables (deliver.excel.prepare_rows).
    """
    details = [r[0] for r in con.execute(
        "select distinct detail from reg_notices where notice = 'updated' and detail is not null").fetchall()]
    frame = pd.DataFrame({"code": pd.Series(details, dtype="string"),
                          "text": pd.Series([texts.change_text(d, lang) for d in details], dtype="string")})
    con.register("_change_frame", frame)
    con.execute("create or replace temp table change_words_text as select * from _change_frame")
    con.unregister("_change_frame")
    run_sql(con, "notice_rows.sql", {"rules_name": rules[0], "rules_hash": rules[1]})
    select = []
    for field, key, kind in NOTICE_COLUMNS:
        value = f"strftime({field}, '%d-%m-%Y')" if kind == "date" else field
        select.append(f"{value} as {sql_identifier(texts.t(key, lang))}")
    query = (f"select {', '.join(select)} from notice_rows where department = ? "
             "order by team, caseworker, notice, cpr_text, rule_title, flag_id, detail")
    return [copy_csv(con, out_dir / f"notices_{dept}.csv", query, [dept]) for dept in departments]
