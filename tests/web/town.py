"""The web tests' municipality: the tiny one of tests/conftest.py, with BUF serving Anna too.

Hand-worked expectations on 2026-11-01 with the default rule (>= 2 departments):
    010180-0001 Anna: BUF (B2), JOB (J1), SOC (S1, consent ja)   flagged; BUF serves her
    010115-0002 Bo:   BUF only                                    not flagged; BUF serves him
    030390-0004 Dorte: JOB (J2) + SOC (S2)                         flagged; only JOB and SOC serve her
    010101-9999: in no extract
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import openpyxl

from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.web import users as users_file
from tests.conftest import BUF_CSV, write_municipality

AS_OF = date(2026, 11, 1)
ANNA, BO, DORTE, NOBODY = "0101800001", "0101150002", "0303900004", "0101019999"
PASSWORD = "correct horse battery staple"
BUF_WITH_ANNA = BUF_CSV + "010180-0001;B2;Forebyggende;Aktiv;01-01-2025;;Bjørn Buf;Familie Syd\n"
CPR_SHAPED = re.compile(r"(?<![0-9A-Za-z])\d{6}-?\d{4}(?![0-9A-Za-z])")   # not inside a run id or a longer number
USERS = {"sara": ("caseworker", ["BUF"]), "jens": ("caseworker", ["JOB"]), "lea": ("leader", []),
         "ada": ("admin", [])}


def commit_town(root: Path, as_of: date = AS_OF):
    """Write the town under `root`/input and commit one run into `root`/reports; returns the run."""
    sources = write_municipality(root / "input", **{"buf.csv": BUF_WITH_ANNA})
    return run_pipeline(RunSettings(sources=sources, as_of=as_of, out=root / "reports"))


def write_users(path: Path) -> Path:
    """The users file with sara (BUF), jens (JOB), lea (leader), ada (admin), all with PASSWORD."""
    found = users_file.load(path, missing_ok=True)
    for name, (role, departments) in USERS.items():
        found.add(name, role, departments, PASSWORD)
    found.save()
    return path


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def xlsx_rows(path: Path) -> list[tuple[str, ...]]:
    """Every team sheet's rows of a caseworker workbook, as the page shows them (text, dates ISO)."""
    book = openpyxl.load_workbook(path)
    rows = []
    for sheet in book.worksheets[1:]:
        for row in sheet.iter_rows(min_row=2, values_only=True):
            rows.append(tuple("" if v is None else v.date().isoformat() if hasattr(v, "date") else str(v)
                              for v in row))
    return rows
