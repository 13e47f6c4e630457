"""The evidence for one citizen: each rule, matched or not, and why. Terminal only.

    explain_citizen(con, cpr, loaded, as_of) -> Explanation

Reads the tables a run's identify stage left in `con` (persons, cases, residents,
active_cases, condition_hits, family_links, exclusions, targets) and, when the register stage
ran too, its tables (flag_status, reg_suppression_state, reg.flags, reg.suppressions): then
"flagged" is what the register would do on D (a caseworker's removal that holds means not
flagged), and the removals and the citizen's flag in the register are listed. Nothing here is
logged or written to a file: the CLI prints the result for the person who asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from targetgroup.rules.load import LoadedRules


@dataclass
class ConditionResult:
    """One condition of one rule for the citizen."""

    role: str
    kind: str
    met: bool
    evidence: str


@dataclass
class RuleResult:
    """One rule for the citizen: flagged or not, the reason codes, each condition, exclusions."""

    rule_id: str
    title_en: str
    subject: str
    flagged: bool
    reason_codes: list[str]
    family_id: str | None
    conditions: list[ConditionResult] = field(default_factory=list)
    family_links: list[str] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)   # caseworker removals that concern the citizen
    register: list[str] = field(default_factory=list)    # the citizen's flag in the register


@dataclass
class Explanation:
    """Everything `targetgroup explain` prints."""

    cpr: str
    as_of: date
    person: dict | None
    cases: list[dict]
    relatives: list[dict]
    rules: list[RuleResult]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def explain_citizen(con: duckdb.DuckDBPyConnection, cpr: str, loaded: LoadedRules, as_of: date) -> Explanation:
    """Collect the evidence for `cpr` from the identify stage's tables."""
    person = _rows(con, """
        select p.name, p.birth_date, p.household_id, p.death_date, p.moved_away_date, p.protected,
               r.age, r.minor, r.cpr is not null as resident
        from persons as p left join residents as r using (cpr) where p.cpr = ?""", [cpr])
    cases = _rows(con, """
        select c.department, c.source, c.case_id, c.case_type, c.status, c.start_date, c.end_date,
               c.consent, a.cpr is not null as active_on_d
        from cases as c
        left join active_cases as a on a.source = c.source and a.case_id = c.case_id and a.cpr = c.cpr
        where c.cpr = ? order by c.department, c.start_date""", [cpr])
    relatives = _rows(con, """
        with me as (select * from persons where cpr = ?),
        related as (
            select p.cpr, 'mother' as role from persons as p, me where p.cpr = me.mother_cpr
            union all select p.cpr, 'father' from persons as p, me where p.cpr = me.father_cpr
            union all select p.cpr, 'child' from persons as p, me where me.cpr in (p.mother_cpr, p.father_cpr)
            union all select p.cpr, 'sibling' from persons as p, me
                where p.cpr <> me.cpr and (p.mother_cpr = me.mother_cpr or p.father_cpr = me.father_cpr)
            union all select p.cpr, 'household' from persons as p, me
                where p.household_id = me.household_id and p.cpr <> me.cpr
                  and p.cpr is distinct from me.mother_cpr and p.cpr is distinct from me.father_cpr
                  and me.cpr is distinct from p.mother_cpr and me.cpr is distinct from p.father_cpr
                  and not coalesce(p.mother_cpr = me.mother_cpr or p.father_cpr = me.father_cpr, false)
        )
        select tg_mask(r.cpr) as masked_cpr, r.role, p.name, res.age, res.cpr is not null as resident,
               (select list(distinct a.department order by a.department) from active_cases as a
                 where a.cpr = r.cpr) as active_departments
        from related as r join persons as p using (cpr) left join residents as res using (cpr)
        order by r.role, p.birth_date""", [cpr])
    rules = [_rule(con, cpr, rule, loaded) for rule in loaded.rules.rules]
    return Explanation(cpr, as_of, person[0] if person else None, cases, relatives, rules)


def _has_register(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("select count(*) from duckdb_tables() where table_name = 'flag_status'").fetchone()[0] > 0


def _rule(con: duckdb.DuckDBPyConnection, cpr: str, rule, loaded: LoadedRules) -> RuleResult:
    flag = _rows(con, "select reason_codes, family_id from targets where rule_id = ? and cpr = ?", [rule.id, cpr])
    flagged = bool(flag)
    if _has_register(con):
        flagged = con.execute("select count(*) from flag_status where rule_id = ? and cpr = ? and change <> 'ended'",
                              [rule.id, cpr]).fetchone()[0] > 0
    result = RuleResult(rule.id, rule.title_en, rule.subject, flagged,
                        flag[0]["reason_codes"] if flag else [], flag[0]["family_id"] if flag else None)
    if _has_register(con):
        result.decisions = _removals(con, cpr, rule.id)
        result.register = _register_flag(con, cpr, rule.id)
    hits = {(h["role"], h["cond_no"]): h["evidence"] for h in _rows(
        con, "select role, cond_no, evidence from condition_hits where rule_id = ? and cpr = ?", [rule.id, cpr])}
    for role, i, cond in rule.all_conditions():
        met = (role, i) in hits
        result.conditions.append(ConditionResult(role, _describe(cond), met, hits.get((role, i)) or "not met"))
    for link in _rows(con, """
            select l.family_id, l.via, case when l.child = ? then 'child' else 'parent' end as my_role,
                   tg_mask(case when l.child = ? then l.parent else l.child end) as other
            from family_links as l where l.rule_id = ? and ? in (l.child, l.parent)""", [cpr, cpr, rule.id, cpr]):
        other_role = "parent" if link["my_role"] == "child" else "child"
        result.family_links.append(f"family {link['family_id']}: {link['my_role']}, linked to {other_role} "
                                   f"{link['other']} via {link['via'].lower()}")
    for ex in _rows(con, """select action, reason_code, reason, added_by from exclusions
                            where cpr = ? and rule_id in (?, '*')""", [cpr, rule.id]):
        by = f" (added by {ex['added_by']})" if ex["added_by"] else ""
        result.exclusions.append(f"{ex['action']} {ex['reason_code']}: {ex['reason']}{by}")
    return result


def _removals(con: duckdb.DuckDBPyConnection, cpr: str, rule_id: str) -> list[str]:
    """Live removals of the citizen (or of the subject the citizen belongs to today) in the rule."""
    lines = []
    for r in _rows(con, """
            select distinct s.suppression_id, st.state, s.removed_by, s.removed_in_department, s.reason, s.until,
                list_sort(st.new_departments) as new_departments
            from reg_suppression_state as st
            join reg.suppressions as s using (suppression_id)
            where st.rule_id = ?
              and (s.cpr = ? or st.today_subject_id in (select subject_id from targets where rule_id = ? and cpr = ?))
            order by s.suppression_id""", [rule_id, cpr, rule_id, cpr]):
        state = {"applies": "holds", "expired": "has expired: the rule may flag again",
                 "overridden": f"no longer holds: {', '.join(r['new_departments'])} involved since"}[r["state"]]
        by = r["removed_by"] + (f" ({r['removed_in_department']})" if r["removed_in_department"] else "")
        until = f"until {r['until']}" if r["until"] else "no end date"
        lines.append(f"removal {r['suppression_id']} {state}: by {by}, {r['reason']}, {until}")
    return lines


def _register_flag(con: duckdb.DuckDBPyConnection, cpr: str, rule_id: str) -> list[str]:
    """The citizen's flag as a run on D would leave it, else the register's last row for it."""
    now = _rows(con, """select flag_id, change, flag_valid_from, end_reason from flag_status
                        where rule_id = ? and cpr = ? order by change = 'ended', flag_id""", [rule_id, cpr])
    if now:
        f = now[0]
        if f["change"] == "ended":
            return [f"flag {f['flag_id']} would end on D: {f['end_reason']}"]
        if f["change"] == "new":
            return [f"flag {f['flag_id']} would open on D (new)"]
        return [f"flag {f['flag_id']} open since {f['flag_valid_from']}"]
    last = _rows(con, """select flag_id, status, valid_to, end_reason from reg.flags
                         where rule_id = ? and list_contains(members, ?) and status <> 'superseded'
                         order by valid_from desc, flag_id desc limit 1""", [rule_id, cpr])
    if last and last[0]["status"] == "ended":
        return [f"flag {last[0]['flag_id']} ended on {last[0]['valid_to']}: {last[0]['end_reason']}"]
    return []


def _describe(cond) -> str:
    kind = cond.kind
    if kind == "departments":
        return f"departments: all of {', '.join(cond.all_of)}" if cond.all_of else \
            f"departments: at least {cond.at_least} of {', '.join(cond.of) if cond.of else 'all'}"
    if kind in ("case_type", "duration"):
        extra = ""
        if kind == "duration":
            bound, period = cond.bound
            words = {"gt": "more than", "ge": "at least", "within": "started within"}[bound]
            extra = f", {words} {period.code.lower()}"
        return f"{kind}: {cond.department} {', '.join(cond.case_types)}{extra}".rstrip()
    if kind == "age":
        return f"age: {cond.min if cond.min is not None else 0}-{cond.max if cond.max is not None else ''}"
    if kind == "area":
        return f"area: in {', '.join(cond.in_)}"
    if kind == "age_transition":
        return f"age_transition: {', '.join(a.code.lower() for a in cond.ages)} within {cond.within_days} days"
    return f"persistence: {cond.runs} consecutive as-of dates"

