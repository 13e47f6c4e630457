"""A small municipality that changes from night to night, and helpers to run and inspect it.

Citizens (fake CPRs, serial 0001..): all with the default rule (active cases in >= 2 departments)
    A 0101800001  JOB + SOC; night 3 the JOB case is closed
    B 0606900007  JOB + SOC every night (continuing)
    C 0202800003  JOB + SOC; removed by a caseworker before night 4; night 5 a BUF case opens
    D 0303900004  JOB + SOC; removed in JOB's removal file (until night 6) before night 4
    F 0505900006  JOB + SOC; moves away on night 5
    G 0707900008  JOB + SOC; night 3 a BUF case opens (updated flag)
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest
from tests.conftest import write_municipality
from targetgroup.pipeline import Run, RunSettings, run_pipeline

NIGHTS = {n: date(2026, 11, n + 1) for n in range(1, 8)}
RULE = "two_departments"
A, B, C, D, F, G = "0101800001", "0606900007", "0202800003", "0303900004", "0505900006", "0707900008"


def persons(night: int) -> str:
    moved = "2026-11-06" if night >= 5 else ""
    return f"""\
cpr,name,birth,household,mother,father,died,moved
0101800001,Anna Fiktiv,1980-01-01,H1,,,,
0202800003,Carl Fiktiv,1980-02-02,H2,,,,
0303900004,Dorte Fiktiv,1990-03-03,H3,,,,
0505900006,Frida Fiktiv,1990-05-05,H5,,,,{moved}
0606900007,Gert Fiktiv,1990-06-06,H6,,,,
0707900008,Hanne Fiktiv,1990-07-07,H7,,,,
"""


def buf(night: int) -> str:
    rows = ["CPR-nr;Sagsnr;Sagstype;Status;Start;Slut;Rådgiver;Team"]
    if night >= 3:
        rows.append("070790-0008;B7;Forebyggende;Aktiv;01-10-2026;;Søs Ærø;Familie Nord")
    if night >= 5:
        rows.append("020280-0003;B3;Forebyggende;Aktiv;05-11-2026;;Søs Ærø;Familie Nord")
    return "\n".join(rows) + "\n"


def job(night: int) -> str:
    a_status = "AFS" if night >= 3 else "AKT"
    return f"""\
cpr,id,type,status,start,end,worker,team
0101800001,J1,Aktivitetsparat kontanthjælp,{a_status},2020-01-01,,Jens Job,Team A
0202800003,J3,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
0303900004,J4,Jobparat kontanthjælp,AKT,2020-01-01,,Jonna Job,Team B
0505900006,J5,Jobparat kontanthjælp,AKT,2020-01-01,,Jonna Job,Team B
0606900007,J6,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
0707900008,J7,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
"""


SOC_CSV = """\
cpr,id,type,status,start,end,worker,team,consent
0101800001,S1,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,ja
0202800003,S3,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,ja
0303900004,S4,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,
0505900006,S5,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,
0606900007,S6,Bostøtte,Bevilget,2021-01-01,,Sune Soc,Voksen,
0707900008,S7,Bostøtte,Bevilget,2021-01-01,,Sune Soc,Voksen,
"""


def write_night(folder: Path, night: int, **extra: str) -> Path:
    """Write the municipality as it looks on `night` into `folder` (replacing what was there)."""
    return write_municipality(folder, **{"persons.csv": persons(night), "buf.csv": buf(night),
                                         "job.csv": job(night), "soc.csv": SOC_CSV, **extra})


class Town:
    """One municipality folder, one warehouse, and the runs made on it."""

    def __init__(self, root: Path):
        self.root = root
        self.input = root / "input"
        self.out = root / "reports"
        self.warehouse = self.out / "warehouse.duckdb"
        self.runs: dict[int, Run] = {}

    def run(self, night: int, *, as_of: date | None = None, rebuild: bool = False,
            suppressions: Path | None = None, rules: Path | None = None, dry_run: bool = False,
            switch_rules: bool = False, **extra: str) -> Run:
        sources = write_night(self.input, night, **extra)
        settings = RunSettings(sources=sources, as_of=as_of or NIGHTS[night], out=self.out,
                               rebuild=rebuild, suppressions=suppressions, threads=1,
                               dry_run=dry_run, switch_rules=switch_rules,
                               allow_drop=("buf",))  # BUF delivers no rows before night 3: expected
        if rules is not None:
            settings.rules = rules
        run = run_pipeline(settings)
        self.runs[night] = run
        return run

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def dump(self) -> dict[str, list[tuple]]:
        """Every table of the warehouse, every row, in a fixed order."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            tables = [r[0] for r in con.execute(
                "select table_name from duckdb_tables() where database_name = current_database() order by 1"
            ).fetchall()]
            return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr) for t in tables}
        finally:
            con.close()

    def sha256(self) -> str:
        return hashlib.sha256(self.warehouse.read_bytes()).hexdigest()


def actions(run: Run, system: str) -> list[tuple[str, str, str, str, str]]:
    """(action, cpr, start, end, reason) rows of the run's action list for `system`."""
    import csv

    with open(run.report_dir / f"actions_{system}.csv", encoding="utf-8-sig") as fh:
        return [(r["action"], r["cpr"], r["start_date"], r["end_date"], r["reason"]) for r in csv.DictReader(fh)]


def rows(path: Path) -> list[dict]:
    import csv

    with open(path, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))



@pytest.fixture
def town(tmp_path: Path) -> Town:
    """A fresh municipality folder and warehouse (import it into a test module to use it)."""
    return Town(tmp_path)
