"""The family rule's minor check at scenario level: the whole pipeline with Odense's rule set.

A mother with a jobcentre case and two children with a BUF case each: one turns 18 on D (an adult
on D, DOMAIN.md "Minor"), the other the day after (a minor). Only the minor and the mother make
the family; the expected members are written by hand.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.rules import DEFAULT_RULES
from tests.conftest import write_municipality

D = date(2026, 11, 2)
MOTHER, ADULT_CHILD, MINOR_CHILD, OTHER = "0101800001", "0211080002", "0311080003", "0606900007"

PERSONS = f"""\
cpr,name,birth,household,mother,father,died,moved
{MOTHER},Anna Fiktiv,1980-01-01,H1,,,,
{ADULT_CHILD},Ung Fiktiv,2008-11-02,H1,{MOTHER},,,
{MINOR_CHILD},Yngre Fiktiv,2008-11-03,H1,{MOTHER},,,
{OTHER},Gert Fiktiv,1990-06-06,H6,,,,
"""
BUF = """\
CPR-nr;Sagsnr;Sagstype;Status;Start;Slut;Rådgiver;Team
021108-0002;B1;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Nord
031108-0003;B2;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Nord
"""
JOB = f"""\
cpr,id,type,status,start,end,worker,team
{MOTHER},J1,Aktivitetsparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
"""
SOC = f"""\
cpr,id,type,status,start,end,worker,team,consent
{OTHER},S1,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,
"""


def test_only_a_minor_child_makes_a_family_with_the_parent(tmp_path: Path):
    sources = write_municipality(tmp_path / "in", **{"persons.csv": PERSONS, "buf.csv": BUF, "job.csv": JOB,
                                                     "soc.csv": SOC})
    run = run_pipeline(RunSettings(sources=sources, rules=DEFAULT_RULES.parent / "odense.yaml", as_of=D,
                                   out=tmp_path / "out", threads=1))
    flagged = set()
    for dept in ("BUF", "JOB"):
        with open(run.report_dir / f"flags_{dept}.csv", encoding="utf-8-sig") as fh:
            flagged |= {(r["Regel"], r["CPR-nr."].replace("-", "")) for r in csv.DictReader(fh)}
    family = "Familie med sager i både BUF og BSF"   # buf_bsf_family's title_da in rules/odense.yaml
    assert flagged == {(family, MINOR_CHILD), (family, MOTHER)}
    assert run.summary["identify"]["citizens_flagged"] == 2
