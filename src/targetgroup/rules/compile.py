"""Compile rule conditions to DuckDB SQL from the templates in sql/rules/.

Each condition becomes one SELECT with the columns (cpr, departments, case_keys, reason_codes,
evidence): one row per resident citizen who meets the condition on `$as_of`. Values from the
rule file enter the SQL only as quoted literals or validated integers.
"""

from __future__ import annotations

from targetgroup.config import SourcesConfig
from targetgroup.rules import model as m
from targetgroup.warehouse import sql_literal as lit  # noqa: F401 - the rules modules' name for it
from targetgroup.warehouse import sql_text


def lits(values: list[str]) -> str:
    """A comma-separated list of SQL string literals."""
    return ", ".join(lit(v) for v in values)


def template(name: str, **values: object) -> str:
    """The text of sql/rules/<name>.sql with `values` filled in."""
    return sql_text(f"rules/{name}.sql").format(**values)


def _case_filter(case_types: dict[str, list[str]]) -> str:
    """Cases of a listed department count only if of a listed type; others always count."""
    parts = [f"(department <> {lit(dept)} or case_type in ({lits(types)}))"
             for dept, types in sorted(case_types.items()) if types]
    return " and ".join(parts) or "true"


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
        op = "GT" if cond.more_than is not None else "GE"
        return f"SPELL_{cond.department}_{op}_{(cond.more_than or cond.at_least).code}"
    if isinstance(cond, m.AgeCondition):
        if cond.max is None:
            return f"AGE_GE_{cond.min}"
        if cond.min is None:
            return f"AGE_LE_{cond.max}"
        return f"AGE_{cond.min}_{cond.max}"
    if isinstance(cond, m.PersistenceCondition):
        return f"PERSISTENT_{cond.runs}_RUNS"
    raise TypeError(type(cond).__name__)  # age_transition codes are built per age in SQL


def condition_sql(cond: object, config: SourcesConfig) -> str:
    """The SELECT for one (non-persistence) condition."""
    if isinstance(cond, m.DepartmentsCondition):
        departments = cond.all_of if cond.all_of is not None else (cond.of or list(config.departments))
        at_least = len(cond.all_of) if cond.all_of is not None else cond.at_least
        return template("departments", departments=lits(departments), at_least=int(at_least),
                        case_filter=_case_filter(cond.case_types), code=lit(condition_code(cond, config)))
    if isinstance(cond, m.CaseTypeCondition):
        return template("case_type", department=lit(cond.department), case_types=lits(cond.case_types),
                        code=lit(condition_code(cond, config)))
    if isinstance(cond, m.DurationCondition):
        period = cond.more_than or cond.at_least
        return template("duration", department=lit(cond.department),
                        case_filter=_case_filter({cond.department: cond.case_types}),
                        months=int(period.total_months), days=int(period.days),
                        bound="<" if cond.more_than is not None else "<=",
                        code=lit(condition_code(cond, config)))
    if isinstance(cond, m.AgeCondition):
        return template("age", min=int(cond.min if cond.min is not None else 0),
                        max=int(cond.max if cond.max is not None else 200), code=lit(condition_code(cond, config)))
    if isinstance(cond, m.AgeTransitionCondition):
        ages = ", ".join(f"({int(a.total_months)}, {int(a.days)}, {lit(a.code)})" for a in cond.ages)
        return template("age_transition", ages=ages, within_days=int(cond.within_days))
    raise TypeError(f"no SQL for condition kind {type(cond).__name__}")
