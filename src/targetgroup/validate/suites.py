"""Expectation suites generated from the sources configuration (declared once, never written twice).

For every extract (each case source and the person extract) two suites:
- `<name>.raw` on the raw table `raw_<name>`: table-level checks (columns, row count);
- `<name>.rows` on the view `gate_<name>` (one row per staged row plus one per rejected row,
  `parsed` telling which): the share of unparseable rows and the row-level checks.
And one suite `cases` on `gate_cases` (the canonical table): department within the declared set.

A row-level check is a SQL predicate over its view with a reason that names the problem, never
the cell (a status is quoted only when `tg_describe` finds it cannot be personal data: see
targetgroup.privacy); the same predicate is the Great Expectations query (`UnexpectedRowsExpectation`, selecting only file, line, case id and the
masked CPR) and the quarantine's selection, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from targetgroup.config import CaseSource, Extract, SourcesConfig, status_key
from targetgroup.warehouse import sql_literal

# expectation id -> (default severity, what it checks). Keys are what `quality.severity` may name.
EXPECTATIONS: dict[str, tuple[str, str]] = {
    "columns_present": ("error", "every mapped column is in the extract"),
    "no_unknown_columns": ("warning", "the extract has no columns beyond the mapped ones"),
    "row_count": ("error", "the extract has at least quality.min_rows rows"),
    "types_parse": ("error", "at most quality.max_reject_share of the rows cannot be parsed (rejects)"),
    "cpr_valid": ("warning", "the CPR has 10 digits and starts with a real birth date (DDMMYY)"),
    "status_known": ("error", "the status is one the source declares under statuses (else the run stops)"),
    "dates_ordered": ("warning", "start_date <= end_date"),
    "start_not_future": ("warning", "start_date is at most quality.future_years after the as-of date"),
    "case_id_unique": ("warning", "(source, case_id) is unique once exact duplicates count once"),
    "cpr_in_register": ("warning", "the case's CPR is in the person extract (else: unmatched, not used)"),
    "cpr_unique": ("error", "the person extract has one row per CPR"),
    "birth_date_matches_cpr": ("warning", "the birth date is the one the CPR encodes (reported; the register decides)"),
    "department_known": ("error", "the department is one declared under departments"),
}


@dataclass(frozen=True)
class Check:
    """One expectation of one suite, with its resolved severity."""

    suite: str
    extract: str
    expectation: str
    severity: str
    gx_type: str
    gx_kwargs: dict = field(default_factory=dict)
    predicate: str | None = None      # row-level: SQL over the suite's view, true = the row fails
    column: str | None = None         # row-level: the column the reason is about
    reason: str | None = None         # row-level: SQL text expression explaining the failure
    quarantine: bool = True           # row-level: failing rows are taken out of identification

    @property
    def row_level(self) -> bool:
        return self.predicate is not None

    @property
    def description(self) -> str:
        return EXPECTATIONS[self.expectation][1]


@dataclass(frozen=True)
class Suite:
    """A named group of checks on one table or view."""

    name: str
    table: str
    checks: list[Check]


def severity(config: SourcesConfig, extract: str, expectation: str, allow_drop: frozenset[str]) -> str:
    """`<extract>.<expectation>` in quality.severity, else `<expectation>`, else the default."""
    if expectation == "row_count" and extract in allow_drop:
        return "warning"   # the operator said an empty or shrunk extract is expected tonight
    overrides = config.quality.severity
    return overrides.get(f"{extract}.{expectation}") or overrides.get(expectation) or EXPECTATIONS[expectation][0]


def build_suites(config: SourcesConfig, as_of: date, allow_drop: frozenset[str] = frozenset()) -> list[Suite]:
    """Every suite of the gate for this configuration and as-of date."""
    quality = config.quality
    horizon = date(as_of.year + quality.future_years, as_of.month, 28 if (as_of.month, as_of.day) == (2, 29)
                   else as_of.day)

    def check(suite: str, extract: str, expectation: str, gx_type: str, **kw) -> Check:
        return Check(suite, extract, expectation, severity(config, extract, expectation, allow_drop), gx_type, **kw)

    def raw_suite(ext: Extract) -> Suite:
        name, mapped = ext.name, sorted(set(ext.columns.values()))
        s = f"{name}.raw"
        return Suite(s, f"raw_{name}", [
            check(s, name, "columns_present", "ExpectTableColumnsToMatchSet",
                  gx_kwargs={"column_set": mapped, "exact_match": False}),
            check(s, name, "no_unknown_columns", "ExpectTableColumnsToMatchSet",
                  gx_kwargs={"column_set": [*mapped, "_file", "_line"], "exact_match": True}),
            check(s, name, "row_count", "ExpectTableRowCountToBeBetween", gx_kwargs={"min_value": quality.min_rows}),
        ])

    def rows_check(s: str, name: str, expectation: str, predicate: str, column: str, reason: str,
                   quarantine: bool = True) -> Check:
        return check(s, name, expectation, "UnexpectedRowsExpectation", predicate=predicate, column=column,
                     reason=reason, quarantine=quarantine)

    def types_parse(s: str, name: str) -> Check:
        share = quality.max_reject_share
        query = ("select count(*) filter (where not parsed) as rejected_rows, count(*) as rows from {batch} "
                 f"having count(*) filter (where not parsed) > {share} * count(*)")
        return check(s, name, "types_parse", "UnexpectedRowsExpectation", gx_kwargs={"unexpected_rows_query": query})

    # not 10 digits, or no real birth date: computed once per row in the gate table (views.py)
    cpr_bad = "cpr_invalid"
    cpr_reason = "'CPR does not start with a real birth date (DDMMYY)'"
    suites: list[Suite] = []
    for src in config.sources:
        name, s = src.name, f"{src.name}.rows"
        suites.append(raw_suite(src))
        suites.append(Suite(s, f"gate_{name}", [
            types_parse(s, name),
            rows_check(s, name, "cpr_valid", cpr_bad, "cpr", cpr_reason),
            rows_check(s, name, "status_known", f"lower(status) not in ({_statuses(src)})", "status",
                       "'status ' || tg_describe(status) || ' is not declared for this source in the sources file'"),
            rows_check(s, name, "dates_ordered", "end_date < start_date", "end_date",
                       "'end date is before start date'"),
            rows_check(s, name, "start_not_future", f"start_date > date '{horizon}'", "start_date",
                       f"'start date is after {horizon} "
                       f"({quality.future_years} years after the as-of date)'"),
            rows_check(s, name, "case_id_unique", "case_id_rows > 1", "case_id",
                       "'the case id is on ' || case_id_rows || ' rows with different content'"),
            rows_check(s, name, "cpr_in_register", "not in_register", "cpr",
                       "'CPR is not in the person extract: counted as unmatched, not used'", quarantine=False),
        ]))
    persons, s = config.persons.name, f"{config.persons.name}.rows"
    suites.append(raw_suite(config.persons))
    suites.append(Suite(s, f"gate_{persons}", [
        types_parse(s, persons),
        rows_check(s, persons, "cpr_valid", cpr_bad, "cpr", cpr_reason),
        rows_check(s, persons, "cpr_unique", "cpr_rows > 1", "cpr",
                   "'the CPR is on ' || cpr_rows || ' rows with different content'"),
        rows_check(s, persons, "birth_date_matches_cpr", "birth_date <> cpr_birth_date", "birth_date",
                   "'birth date is not the one the CPR encodes'", quarantine=False),
    ]))
    suites.append(Suite("cases", "gate_cases", [
        check("cases", "cases", "department_known", "ExpectColumnValuesToBeInSet",
              gx_kwargs={"column": "department", "value_set": sorted(config.departments)}),
    ]))
    return suites


def _statuses(src: CaseSource) -> str:
    # a literal in a Great Expectations query (no parameters there); gate.py doubles its braces
    return ", ".join(sql_literal(status_key(code)) for code in src.statuses)
