"""Four families over four nights (2026-11-01..04), for checking the caseworker lists against
the citizens' own cases. CPR numbers and names are visibly fake (serials 0001.., "Fiktiv").

    family 1  mother M1 (JOB), father F1 (SOC), child C1 (BUF until 02-11), child N1 (BUF from
              02-11): a child leaves and another joins; the family flag carries on
    family 2  mother M2 (JOB until 02-11), child C2 (BUF): the family flag ends on night 3;
              M2 was never served by BUF and C2 never by JOB
    family 3  father P3 (JOB), K3 (BUF, turns 18 on 03-11), K4 (BUF): K3 leaves on night 3
    family 4  mother P4 (JOB, moves away on 03-11), father Q4 (JOB), child K5 (BUF)
    lone      L1 (JOB and SUND, no children): in no family flag; SUND's involvement is
              shown to other departments only with consent
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl

from tests.conftest import SOURCES_YAML, write_municipality

NIGHTS = {n: date(2026, 11, n) for n in range(1, 5)}

M1, F1, C1, N1 = "1010800001", "1111800002", "1010150003", "0101260004"
M2, C2 = "2002800005", "2002150006"
P3, K3, K4 = "0303800007", "0311080008", "0303150009"
P4, Q4, K5 = "0404800010", "0505800011", "0404150012"
L1 = "0606800013"

PEOPLE = {
    # cpr: (name, birth, household, mother, father, moved)
    M1: ("Mona Fiktiv", "1980-10-10", "H1", "", "", ""),
    F1: ("Frode Fiktiv", "1980-11-11", "H1", "", "", ""),
    C1: ("Carl Fiktiv", "2015-10-10", "H1", M1, F1, ""),
    N1: ("Nana Fiktiv", "2026-01-01", "H1", M1, F1, ""),
    M2: ("Maja Fiktiv", "1980-02-20", "H2", "", "", ""),
    C2: ("Cilla Fiktiv", "2015-02-20", "H2", M2, "", ""),
    P3: ("Palle Fiktiv", "1980-03-03", "H3", "", "", ""),
    K3: ("Kurt Fiktiv", "2008-11-03", "H3", "", P3, ""),
    K4: ("Kis Fiktiv", "2015-03-03", "H3", "", P3, ""),
    P4: ("Pia Fiktiv", "1980-04-04", "H4", "", "", "2026-11-03"),
    Q4: ("Quint Fiktiv", "1980-05-05", "H4", "", "", ""),
    K5: ("Kaj Fiktiv", "2015-04-04", "H4", P4, Q4, ""),
    L1: ("Lone Fiktiv", "1980-06-06", "H6", "", "", ""),
}

# (department, cpr, case id, start, end or None, caseworker, team)
CASES = [
    ("BUF", C1, "B1", "2024-01-01", "2026-11-02", "Søs Ærø", "Familie Nord"),
    ("BUF", N1, "B2", "2026-11-02", None, "Søs Ærø", "Familie Nord"),
    ("BUF", C2, "B3", "2024-01-01", None, "Bent Børn", "Familie Syd"),
    ("BUF", K3, "B4", "2024-01-01", None, "Bent Børn", "Familie Syd"),
    ("BUF", K4, "B5", "2024-01-01", None, "Bent Børn", "Familie Syd"),
    ("BUF", K5, "B6", "2024-01-01", None, "Søs Ærø", "Familie Nord"),
    ("JOB", M1, "J1", "2020-01-01", None, "Jens Job", "Team A"),
    ("JOB", M2, "J2", "2020-01-01", "2026-11-02", "Jens Job", "Team A"),
    ("JOB", P3, "J3", "2020-01-01", None, "Jonna Job", "Team B"),
    ("JOB", P4, "J4", "2020-01-01", None, "Jonna Job", "Team B"),
    ("JOB", Q4, "J5", "2020-01-01", None, "Jonna Job", "Team B"),
    ("JOB", L1, "J6", "2020-01-01", None, "Jens Job", "Team A"),
    ("SOC", F1, "S1", "2021-01-01", None, "Sara Soc", "Voksen"),
    ("SUND", L1, "H1", "2021-01-01", None, "Hans Sund", "Team Sund"),
]

SUND_SOURCE = """
  - name: sund
    department: SUND
    system: SBSYS
    path: sund.csv
    format: csv
    columns: {cpr: cpr, case_id: id, case_type: type, status: status, start_date: start,
              end_date: end, caseworker: worker, team: team}
    statuses: {Aktiv: true, Afsluttet: false}
    case_types: [Psykiatri]
    marking_code: SUND-HOI
disclosure:
  default: shown
  departments:
    SUND: with_consent
"""


def sources_yaml() -> str:
    text = SOURCES_YAML.replace(
        '  SOC: {name: "Social", name_en: "Adult social"}\n',
        '  SOC: {name: "Social", name_en: "Adult social"}\n'
        '  SUND: {name: "Sundhed og Psykiatri", name_en: "Health and psychiatry"}\n'
        '  UNG: {name: "Ungevejledning", name_en: "Youth guidance"}\n')
    return text + SUND_SOURCE


def _d(cpr: str) -> str:
    return f"{cpr[:6]}-{cpr[6:]}"


def _dmy(iso: str | None) -> str:
    return "" if not iso else f"{iso[8:10]}-{iso[5:7]}-{iso[:4]}"


def files() -> dict[str, str]:
    """The municipality's extracts (the same every night: the as-of date moves the story on)."""
    persons = ["cpr,name,birth,household,mother,father,died,moved"]
    persons += [f"{c},{n},{b},{h},{m},{f},,{mv}" for c, (n, b, h, m, f, mv) in PEOPLE.items()]
    buf = ["CPR-nr;Sagsnr;Sagstype;Status;Start;Slut;Rådgiver;Team"]
    job = ["cpr,id,type,status,start,end,worker,team"]
    soc = ["cpr,id,type,status,start,end,worker,team,consent"]
    sund = ["cpr,id,type,status,start,end,worker,team"]
    for dept, cpr, case, start, end, worker, team in CASES:
        if dept == "BUF":
            buf.append(f"{_d(cpr)};{case};Forebyggende;Aktiv;{_dmy(start)};{_dmy(end)};{worker};{team}")
        elif dept == "JOB":
            job.append(f"{cpr},{case},Jobparat kontanthjælp,AKT,{start},{end or ''},{worker},{team}")
        elif dept == "SOC":
            soc.append(f"{cpr},{case},Bostøtte,Bevilget,{start},{end or ''},{worker},{team},ja")
        else:
            sund.append(f"{cpr},{case},Psykiatri,Aktiv,{start},{end or ''},{worker},{team}")
    return {"sources.yaml": sources_yaml(), "persons.csv": "\n".join(persons) + "\n",
            "buf.csv": "\n".join(buf) + "\n", "job.csv": "\n".join(job) + "\n",
            "soc.csv": "\n".join(soc) + "\n", "sund.csv": "\n".join(sund) + "\n"}


def write(folder: Path) -> Path:
    return write_municipality(folder, **files())


# ---- what the hand-written extracts say, computed here, independently of the pipeline ----

def resident(cpr: str, d: date) -> bool:
    moved = PEOPLE[cpr][5]
    return not moved or date.fromisoformat(moved) > d


def active(cpr: str, dept: str, d: date) -> list[tuple]:
    """The citizen's cases in `dept` active on `d` (the DOMAIN.md definition)."""
    return [c for c in CASES if c[0] == dept and c[1] == cpr and resident(cpr, d)
            and date.fromisoformat(c[3]) <= d and (c[4] is None or date.fromisoformat(c[4]) >= d)]


def age(cpr: str, d: date) -> int:
    b = date.fromisoformat(PEOPLE[cpr][1])
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def family_members(d: date, parent_departments: tuple[str, ...]) -> set[str]:
    """Citizens a family rule flags on `d`: a minor with an active BUF case and a parent (mother
    or father) with an active case in one of `parent_departments`, and those parents."""
    out = set()
    for child, (_, _, _, mother, father, _) in PEOPLE.items():
        if age(child, d) >= 18 or not active(child, "BUF", d):
            continue
        parents = [p for p in (mother, father)
                   if p and any(active(p, dep, d) for dep in parent_departments)]
        if parents:
            out |= {child, *parents}
    return out


def served_before(cpr: str, dept: str, d: date) -> bool:
    """The citizen had a case in `dept` active on one of the nights before `d`."""
    return any(active(cpr, dept, n) for n in NIGHTS.values() if n < d)


# ---- reading what the pipeline wrote ----

def read_xlsx(path: Path) -> list[dict]:
    """Every row of every team sheet (not the overview), as {heading: value}, plus the sheet."""
    book = openpyxl.load_workbook(path, read_only=True)
    out = []
    for sheet in book.worksheets[1:]:
        rows = list(sheet.iter_rows(values_only=True))
        for row in rows[1:]:
            out.append({"_sheet": sheet.title, **dict(zip(rows[0], row))})
    book.close()
    return out


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def cells_of_overview(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    values = [str(v) for row in book.worksheets[0].iter_rows(values_only=True) for v in row if v is not None]
    book.close()
    return values
