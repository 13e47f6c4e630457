"""Shared fixtures: a tiny hand-written municipality written into a temporary folder.

CPR numbers here are synthetic and visibly fake: the serial part counts 0001, 0002, ...
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

# Rich fixes its console width when the CLI module is imported: wide enough for whole tables,
# whatever terminal (or none, under pytest-xdist) runs the tests.
os.environ["COLUMNS"] = "250"

AS_OF = "2026-11-01"

SOURCES_YAML = """
departments:
  BUF: {name: "Børn og Familie", name_en: "Children and family"}
  JOB: {name: "Jobcenter", name_en: "Jobcentre"}
  SOC: {name: "Social", name_en: "Adult social"}
persons:
  path: persons.csv
  format: csv
  columns: {cpr: cpr, name: name, birth_date: birth, household_id: household,
            mother_cpr: mother, father_cpr: father, death_date: died, moved_away_date: moved}
sources:
  - name: buf
    department: BUF
    system: DUBU
    path: buf.csv
    format: csv
    encoding: latin-1
    delimiter: ";"
    date_format: "%d-%m-%Y"
    columns: {cpr: CPR-nr, case_id: Sagsnr, case_type: Sagstype, status: Status,
              start_date: Start, end_date: Slut, caseworker: Rådgiver, team: Team}
    statuses: {Aktiv: true, Passiv: false, Afsluttet: false}
    case_types: [Forebyggende, Anbringelse]
    marking_code: SBF-HOI
  - name: job
    department: JOB
    system: Momentum
    path: job.csv
    format: csv
    columns: {cpr: cpr, case_id: id, case_type: type, status: status, start_date: start,
              end_date: end, caseworker: worker, team: team}
    statuses: {AKT: true, PAS: false, AFS: false}
    case_types: [Aktivitetsparat kontanthjælp, Jobparat kontanthjælp]
    marking_code: PGM
  - name: soc
    department: SOC
    system: Nexus
    path: soc.csv
    format: csv
    columns: {cpr: cpr, case_id: id, case_type: type, status: status, start_date: start,
              end_date: end, caseworker: worker, team: team, consent: consent}
    statuses: {Bevilget: true, Afsluttet: false}
    case_types: [Bostøtte]
    consent_values: {ja: given, nej: refused}
    marking_code: NEX
"""

# the same, with the Momentum system's marking list declared (reconcile tests)
MARKINGS_YAML = SOURCES_YAML + """
markings:
  - name: momentum_markings
    system: Momentum
    path: momentum_markings.csv
    format: csv
    columns: {cpr: cpr, marking_code: code, start_date: start, end_date: end}
"""

# 0101800001 mother of 0101150002; 0202800003 father of 0101150002 (not the same household)
PERSONS_CSV = """\
cpr,name,birth,household,mother,father,died,moved
0101800001,Anna Fiktiv,1980-01-01,H1,,,,
0101150002,Bo Fiktiv,2015-01-01,H1,0101800001,0202800003,,
0202800003,Carl Fiktiv,1980-02-02,H2,,,,
0303900004,Dorte Fiktiv,1990-03-03,H3,,,,
0404900005,Erik Fiktiv,1990-04-04,H4,,,2026-11-01,
0505900006,Frida Fiktiv,1990-05-05,H5,,,,2026-10-01
0606900007,Gert Fiktiv,1990-06-06,H6,,,,
"""

BUF_CSV = """\
CPR-nr;Sagsnr;Sagstype;Status;Start;Slut;Rådgiver;Team
010115-0002;B1;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Nord
"""

JOB_CSV = """\
cpr,id,type,status,start,end,worker,team
0101800001,J1,Aktivitetsparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
0303900004,J2,Jobparat kontanthjælp,AKT,2026-11-01,,Jens Job,Team A
0404900005,J3,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
0505900006,J4,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
0606900007,J5,Jobparat kontanthjælp,AKT,2020-01-01,2026-10-31,Jens Job,Team A
"""

SOC_CSV = """\
cpr,id,type,status,start,end,worker,team,consent
0101800001,S1,Bostøtte,Bevilget,2021-01-01,2026-11-01,Sara Soc,Voksen,ja
0303900004,S2,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,nej
0404900005,S3,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,
0505900006,S4,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,
0606900007,S5,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,
"""

# Expected on 2026-11-01 with the default rule (>= 2 departments):
#   0101800001: JOB + SOC (SOC ends on D: still active)          -> flagged
#   0101150002: BUF only                                          -> not flagged
#   0303900004: JOB (starts on D) + SOC                           -> flagged
#   0404900005: dies on D                                         -> not flagged
#   0505900006: moved away before D                               -> not flagged
#   0606900007: JOB ended D-1                                     -> not flagged
EXPECTED_DEFAULT = {"0101800001": ["JOB", "SOC"], "0303900004": ["JOB", "SOC"]}


def write_municipality(folder: Path, **overrides: str) -> Path:
    """Write the tiny municipality into `folder`; `overrides` replace file texts by name."""
    files = {"sources.yaml": SOURCES_YAML, "persons.csv": PERSONS_CSV, "buf.csv": BUF_CSV,
             "job.csv": JOB_CSV, "soc.csv": SOC_CSV, **overrides}
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        encoding = "latin-1" if name == "buf.csv" else "utf-8"
        (folder / name).write_text(textwrap.dedent(text), encoding=encoding)
    return folder / "sources.yaml"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Path of the tiny municipality's sources.yaml in a fresh temporary folder."""
    return write_municipality(tmp_path / "input")
