"""Compile rule conditions to DuckDB SQL from the templates in sql/rules/.

Each condition becomes one SELECT with the columns (cpr, departments, case_keys, reason_codes,
evidence): one row per resident citizen who meets the condition on `$as_of`. The templates are
fixed text: every value from the rule file or the sources file (departments, case types,
codes, numbers) is a bound `$parameter`, so no rule can change the SQL that runs.

    condition_sql(cond, config) -> (sql text, parameters)
"""

from __future__ import annotations

from targetgroup.config import SourcesConfig
from targetgroup.rules import model as m
from targetgroup.warehouse import sql_text


def template(name: str) -> str:
    """The text of sql/rules/<name>.sql (values are bound as parameters, never written into it)."""
    return sql_text(f"rules/{name}.sql")


def case_filter(case_types: dict[str, list[str]]) -> dict[str, list]:
    """Parameters of the templates' case filter: cases of a listed department count only if of
    a listed type; cases of other departments always count."""
    listed = {dept: types for dept, types in sorted(case_types.items()) if types}
    return {"filter_departments": list(listed),
            "filter_pairs": [{"department": d, "case_type": t} for d, types in listed.items() for t in types]}


def condition_code(cond: object, config: SourcesConfig) -> str:
    """The reason code a condition adds to a flag (documented in docs/rules.md)."""
    if isinstance(cond, m.DepartmentsCondition):
        if cond.all_of is not None:
            return "DEPTS_ALL_" + "_".join(sorted(cond.all_of))
        every = cond.of is None or sorted(cond.of) == sorted(config.departments)
        return f"DEPTS_GE_{cond.at_least}" + ("" if every else "_OF_" + "_".join(sorted(cond.of)))
    if isinstance(cond, m.CaseTypeCondition):
        return f"CASETYPE_{cond.department}"
    if isinstance(cond, m.DurationCondition):
        bound, period = cond.bound
        op = {"gt": "GT", "ge": "GE", "within": "NEW"}[bound]
        return f"SPELL_{cond.department}_{op}_{period.code}"
    if isinstance(cond, m.AgeCondition):
        if cond.max is None:
            return f"AGE_GE_{cond.min}"
        if cond.min is None:
            return f"AGE_LE_{cond.max}"
        return f"AGE_{cond.min}_{cond.max}"
    if isinstance(cond, m.PersistenceCondition):
        return f"PERSISTENT_{cond.runs}_RUNS"
    if isinstance(cond, m.AreaCondition):
        return "AREA"
    raise TypeError(type(cond).__name__)  # age_transition codes are built per age in SQL


def condition_sql(cond: object, config: SourcesConfig) -> tuple[str, dict[str, object]]:
    """The SELECT for one (non-persistence) condition and the parameters it binds."""
    if isinstance(cond, m.DepartmentsCondition):
        departments = cond.all_of if cond.all_of is not None else (cond.of or list(config.departments))
        at_least = len(cond.all_of) if cond.all_of is not None else cond.at_least
        return template("departments"), {"departments": list(departments), "at_least": int(at_least),
                                         "code": condition_code(cond, config), **case_filter(cond.case_types)}
    if isinstance(cond, m.CaseTypeCondition):
        return template("case_type"), {"department": cond.department, "case_types": list(cond.case_types),
                                       "code": condition_code(cond, config)}
    if isinstance(cond, m.DurationCondition):
        bound, period = cond.bound
        return template("duration"), {"department": cond.department, "months": int(period.total_months),
                                      "days": int(period.days), "bound": bound,
                                      "code": condition_code(cond, config),
                                      **case_filter({cond.department: cond.case_types})}
    if isinstance(cond, m.AgeCondition):
        return template("age"), {"min": int(cond.min if cond.min is not None else 0),
                                 "max": int(cond.max if cond.max is not None else 200),
                                 "code": condition_code(cond, config)}
    if isinstance(cond, m.AreaCondition):
        return template("area"), {"areas": sorted({a.strip().lower() for a in cond.in_}),
                                  "code": condition_code(cond, config)}
    if isinstance(cond, m.AgeTransitionCondition):
        ages = [{"months": int(a.total_months), "days": int(a.days), "code": a.code} for a in cond.ages]
        return template("age_transition"), {"ages": ages, "within_days": int(cond.within_days)}
    raise TypeError(f"no SQL for condition kind {type(cond).__name__}")
