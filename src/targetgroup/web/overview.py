"""What the web overview shows, read from the warehouse's reader copy (opened read-only per request).

    Overview(warehouse)
      .last_run()                               -> dict | None  (the last committed run)
      .department_list(dept, team, caseworker)  -> DepartmentList  (the rows of flags_<DEPT>.xlsx)
      .list_file(dept)                          -> Path | None  (flags_<DEPT>.xlsx of the last run)
      .citizen(departments, cpr)                -> CitizenPage | None  (None: not served, or unknown)
      .leadership()                             -> list[dict]  (leadership_counts.csv as published)

Need-to-know is the lists' own: a caseworker's department may see a citizen when it has an
active case for them in the last committed run (wh.last_active_cases) or when the citizen is on
its list (wh.list_rows: the rows of sql/caseworker_rows.sql, which already decided which
department serves whom, including a case behind an ended flag, and which other departments may
be shown under the disclosure policy). A citizen outside that, and a number that is nowhere,
both give None: the page cannot tell them apart.

Only the reader copy is opened (never the warehouse, never for writing), so a nightly commit is
never blocked; the copy is replaced by a rename, so the next request sees the new night.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from targetgroup.deliver.excel import COLUMNS as LIST_COLUMNS
from targetgroup.deliver.texts import t
from targetgroup.reader import reader_path

CITIZEN_SECTIONS = {
    # section: (columns shown, SQL over the reader copy; ? = cpr, then the department list)
    "cases": (("department", "case", "type", "status", "start", "end"), """
        select department, case_id, case_type, status, start_date, end_date from cases
        where cpr = ? and list_contains(?, department) order by department, start_date, case_id"""),
    "flag history": (("flag", "version", "rule", "from", "to", "status", "change", "end reason"), """
        select flag_id, version, rule_id, valid_from, valid_to, status, change, end_reason from flags
        where list_contains(members, ?) and flag_id in (select flag_id from list_rows
                                                         where cpr = ? and list_contains(?, department))
        order by valid_from, flag_id, version"""),
    "markings": (("system", "code", "start", "from", "to", "status", "reason", "end reason"), """
        select system, marking_code, start_date, valid_from, valid_to, status, reason, end_reason from markings
        where cpr = ? and system in (select system from last_active_cases where list_contains(?, department))
        order by system, valid_from"""),
    "removals": (("id", "rule", "by", "reason", "until", "created", "state"), """
        select suppression_id, rule_id, removed_by, reason, until, created_at,
               coalesce(ended_reason, if(lifted_at is null, 'holds', 'lifted'))
        from suppressions
        where cpr = ? and (list_contains(?, removed_in_department)
                           or rule_id in (select rule_id from list_rows where cpr = ? and list_contains(?, department)))
        order by suppression_id"""),
    "consent records": (("id", "consent", "departments", "by", "given on", "until", "origin"), """
        select consent_id, consent, departments, recorded_by, recorded_on, until, origin from consents
        where cpr = ? order by recorded_on, consent_id"""),
}
# the parameters each section's SQL takes, in order ("cpr" or "departments")
SECTION_PARAMS = {"cases": ("cpr", "departments"), "flag history": ("cpr", "cpr", "departments"),
                  "markings": ("cpr", "departments"),
                  "removals": ("cpr", "departments", "cpr", "departments"), "consent records": ("cpr",)}
SECTION_TABLES = {"cases": ("cases",), "flag history": ("flags", "list_rows"),
                  "markings": ("markings", "last_active_cases"),
                  "removals": ("suppressions", "list_rows"), "consent records": ("consents",)}


@dataclass
class DepartmentList:
    """One department's list as the Excel list has it: headings, rows (texts), filter choices."""

    department: str
    headings: list[str]
    rows: list[list[str]]
    teams: list[str]
    caseworkers: list[str]
    run: dict | None


@dataclass
class CitizenPage:
    """What one department may see about one citizen: person, its list rows (flags, reasons,
    contacts as the disclosure policy allows, family members, consent, due dates) and records."""

    name: str | None
    age: int | None
    flags: list[dict]
    sections: dict[str, tuple[tuple[str, ...], list[tuple]]] = field(default_factory=dict)


class Overview:
    """Read-only queries over the reader copy of `warehouse`."""

    def __init__(self, warehouse: Path, lang: str = "da"):
        self.copy = reader_path(warehouse)
        self.lang = lang

    def _open(self) -> duckdb.DuckDBPyConnection | None:
        if not self.copy.exists():
            return None
        return duckdb.connect(str(self.copy), read_only=True)

    @staticmethod
    def _has(con: duckdb.DuckDBPyConnection, *tables: str) -> bool:
        # persons and cases are views over the snapshot files (targetgroup.snapshots)
        found = {r[0] for r in con.execute("select table_name from duckdb_tables() "
                                           "union all select view_name from duckdb_views()").fetchall()}
        return set(tables) <= found

    def last_run(self) -> dict | None:
        """The last committed run: run_id, as_of, report_dir; None before the first."""
        con = self._open()
        if con is None:
            return None
        try:
            return self._last_run(con)
        finally:
            con.close()

    def _last_run(self, con: duckdb.DuckDBPyConnection) -> dict | None:
        if not self._has(con, "runs"):
            return None
        row = con.execute("""select run_id, as_of, report_dir from runs where status = 'committed'
                             order by finished_at desc, run_id desc limit 1""").fetchone()
        return dict(zip(("run_id", "as_of", "report_dir"), row)) if row else None

    def department_list(self, department: str, team: str | None = None,
                        caseworker: str | None = None) -> DepartmentList:
        """The rows of the department's list (flags_<DEPT>.xlsx), in the list's order and columns,
        optionally only one team's or one caseworker's (a caseworker cell may name several)."""
        headings = [t(key, self.lang) for _, key, _ in LIST_COLUMNS]
        con = self._open()
        if con is None:
            return DepartmentList(department, headings, [], [], [], None)
        try:
            run = self._last_run(con)
            if not self._has(con, "list_rows"):
                return DepartmentList(department, headings, [], [], [], run)
            fields = ", ".join(f"{name}::varchar" for name, _, _ in LIST_COLUMNS)
            rows = con.execute(
                f"""select {fields} from list_rows
                    where department = ? and (?::varchar is null or team is not distinct from ?)
                      and (?::varchar is null or list_contains(string_split(caseworker, '; '), ?))
                    order by team nulls last,
                        case change_group when 'new' then 0 when 'continuing' then 1 when 'awaiting' then 2 else 3 end,
                        caseworker, cpr, rule_id, flag_id""",
                [department, team, team, caseworker, caseworker]).fetchall()
            teams = [r[0] for r in con.execute("""select distinct team from list_rows where department = ?
                                                  and team is not null order by 1""", [department]).fetchall()]
            workers = [r[0] for r in con.execute(
                """select distinct unnest(string_split(caseworker, '; ')) from list_rows where department = ?
                   order by 1""", [department]).fetchall() if r[0]]
        finally:
            con.close()
        return DepartmentList(department, headings, [["" if v is None else v for v in r] for r in rows],
                              teams, workers, run)

    def list_file(self, department: str) -> Path | None:
        """flags_<DEPT>.xlsx of the last committed run, if it is still there."""
        run = self.last_run()
        if run is None or not run["report_dir"]:
            return None
        path = Path(run["report_dir"]) / f"flags_{department}.xlsx"
        return path if path.is_file() else None

    def citizen(self, departments: list[str], cpr: str) -> CitizenPage | None:
        """The citizen's page for a caseworker of `departments`, or None when none of them serves
        the citizen (need-to-know) or the number is not in the warehouse at all."""
        con = self._open()
        if con is None:
            return None
        try:
            return self._citizen(con, departments, cpr)
        finally:
            con.close()

    def _citizen(self, con: duckdb.DuckDBPyConnection, departments: list[str], cpr: str) -> CitizenPage | None:
        # the same queries run whether or not the citizen may be seen, so the answer's timing
        # says no more than its text
        served_now = con.execute(
            """select count(*) from last_active_cases where cpr = ? and list_contains(?, department)
               and run_id = (select max_by(run_id, as_of) from last_active_cases)""",
            [cpr, departments]).fetchone()[0] if self._has(con, "last_active_cases") else 0
        flags = []
        if self._has(con, "list_rows"):
            cursor = con.execute(
                """select department, team, change, change_text, rule_title, reason, caseworker, others,
                          relatives, consent, flag_valid_from, ended_on, end_reason_text, transition_due,
                          review_due, family_id, flag_id, name, age
                   from list_rows where cpr = ? and list_contains(?, department)
                   order by department, rule_id, flag_id""", [cpr, departments])
            names = [d[0] for d in cursor.description]
            flags = [dict(zip(names, r)) for r in cursor.fetchall()]
        if not served_now and not flags:
            return None
        name, age = (flags[0]["name"], flags[0]["age"]) if flags else self._person(con, cpr)
        page = CitizenPage(name, age, flags)
        values = {"cpr": cpr, "departments": departments}
        for section, (heads, sql) in CITIZEN_SECTIONS.items():
            if self._has(con, *SECTION_TABLES[section]):
                params = [values[p] for p in SECTION_PARAMS[section]]
                page.sections[section] = (heads, con.execute(sql, params).fetchall())
        if "cases" not in page.sections and self._has(con, "last_active_cases"):
            # the run kept no extracts (--no-store-extracts): tonight's active cases instead
            page.sections["cases"] = (("department", "case", "caseworker", "team"), con.execute(
                """select department, case_id, caseworker, team from last_active_cases
                   where cpr = ? and list_contains(?, department) order by department, case_id""",
                [cpr, departments]).fetchall())
        return page

    def _person(self, con: duckdb.DuckDBPyConnection, cpr: str) -> tuple[str | None, int | None]:
        if not self._has(con, "persons", "runs"):
            return None, None
        row = con.execute("""select name, birth_date, (select max(as_of) from runs where status = 'committed')
                             from persons where cpr = ?""", [cpr]).fetchone()
        if row is None:
            return None, None
        name, born, as_of = row
        age = None if born is None or as_of is None else \
            as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
        return name, age

    def leadership(self) -> list[dict]:
        """The last committed run's leadership_counts.csv as published (counts only, protected)."""
        run = self.last_run()
        if run is None or not run["report_dir"]:
            return []
        path = Path(run["report_dir"]) / "leadership_counts.csv"
        if not path.is_file():
            return []
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
