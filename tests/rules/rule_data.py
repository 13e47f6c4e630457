"""Helpers for rule tests (import the `evaluate_rules` fixture from here): evaluate a rule file on
tiny inline persons and cases.

CPR numbers are synthetic and visibly fake (serials 0001, 0002, ...).
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from targetgroup.config import load_sources
from targetgroup.rules import load_rules
from targetgroup.rules.evaluate import evaluate
from targetgroup.warehouse import open_work, run_sql
from conftest import write_municipality

PERSON_COLUMNS = ("cpr", "name", "birth_date", "household_id", "mother_cpr", "father_cpr",
                  "death_date", "moved_away_date", "protected")


def person(cpr: str, birth: str, household: str | None = None, mother: str | None = None,
           father: str | None = None, protected: bool = False, died: str | None = None,
           area: str | None = None) -> tuple:
    """A persons row as staging would produce it."""
    return (cpr, "Fiktiv", birth, household, mother, father, died, None, protected, area)


def case(cpr: str, department: str, start: str, end: str | None = None, *, case_type: str | None = None,
         active: bool = True, case_id: str | None = None, consent: str | None = None) -> dict:
    """A cases row as staging would produce it."""
    return {"cpr": cpr, "department": department, "start": start, "end": end, "case_type": case_type,
            "active": active, "case_id": case_id, "consent": consent}


class Evaluator:
    """Loads a rule text and evaluates it on inline rows; returns the connection for queries."""

    def __init__(self, tmp_path: Path, **files: str):
        self.tmp_path = tmp_path
        self.sources = load_sources(write_municipality(tmp_path / "input", **files), check_files=False)

    def __call__(self, rules_yaml: str, persons: list[tuple], cases: list[dict], as_of: str,
                 warehouse: Path | None = None, files: dict[str, str] | None = None):
        folder = self.tmp_path / "rules"
        folder.mkdir(exist_ok=True)
        for name, text in (files or {}).items():
            (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
        path = folder / "rules.yaml"
        path.write_text(textwrap.dedent(rules_yaml), encoding="utf-8")
        loaded = load_rules(path, self.sources)
        con = open_work()
        con.execute("create table persons (cpr varchar, name varchar, birth_date date, household_id varchar, "
                    "mother_cpr varchar, father_cpr varchar, death_date date, moved_away_date date, protected boolean, "
                    "area varchar)")
        if persons:
            con.executemany("insert into persons values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", persons)
        con.execute("create table cases (source varchar, department varchar, system varchar, file varchar, "
                    "line bigint, cpr varchar, case_id varchar, case_type varchar, status varchar, active boolean, "
                    "start_date date, end_date date, caseworker varchar, team varchar, consent varchar, "
                    "copies bigint, cpr_repaired boolean, in_register boolean)")
        registered = {p[0] for p in persons}
        for i, c in enumerate(cases, start=1):
            con.execute("insert into cases values (?, ?, 'sys', 'f.csv', ?, ?, ?, ?, ?, ?, ?, ?, 'cw', 'team', ?, 1, false, ?)",
                        [c["department"].lower(), c["department"], i, c["cpr"], c["case_id"] or f"C{i}",
                         c["case_type"], "A" if c["active"] else "X", c["active"], c["start"], c["end"],
                         c["consent"], c["cpr"] in registered])
        d = date.fromisoformat(as_of)
        run_sql(con, "active.sql", {"as_of": d})
        evaluate(con, loaded, self.sources, d, warehouse)
        self.loaded = loaded
        return con


@pytest.fixture
def evaluate_rules(tmp_path: Path) -> Evaluator:
    """evaluate_rules(rules_yaml, persons, cases, as_of) -> connection with targets etc."""
    return Evaluator(tmp_path)


def flagged(con, rule_id: str | None = None) -> set[str]:
    """CPR numbers in targets (for one rule)."""
    sql = "select cpr from targets" + (" where rule_id = ?" if rule_id else "")
    return {r[0] for r in con.execute(sql, [rule_id] if rule_id else []).fetchall()}


def person_rule(*conditions: str, extra: str = "") -> str:
    """A one-rule person rule file; each condition is a YAML flow mapping like '{kind: age, min: 16}'."""
    body = "\n".join(f"      - {c}" for c in conditions)
    return f"name: t\nrules:\n  - id: r\n    title_da: T\n    title_en: T\n    conditions:\n{body}\n{extra}"
