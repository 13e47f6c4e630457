"""Caseworker Excel lists: one workbook per department, a sheet per team, da/en, real dates, mode 600."""

from datetime import date, datetime

import openpyxl
import pytest

from targetgroup.deliver import excel
from targetgroup.pipeline import RunSettings, run_pipeline
from tests.conftest import AS_OF


def _run(tiny, tmp_path, lang="da"):
    return run_pipeline(RunSettings(sources=tiny, as_of=date.fromisoformat(AS_OF), out=tmp_path / "out", lang=lang))


def test_workbook_per_department_with_sheets_headers_and_dates(tiny, tmp_path):
    run = _run(tiny, tmp_path)
    path = run.report_dir / "flags_SOC.xlsx"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Oversigt", "Voksen"]
    sheet = book["Voksen"]
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref.startswith(f"A1:{chr(ord('A') + len(excel.COLUMNS) - 1)}")
    heads = [c.value for c in sheet[1]]
    assert heads[:3] == ["Status", "CPR-nr.", "Navn"]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"010180-0001", "030390-0004"}
    anna = rows["010180-0001"]
    assert anna[0] == "Ny" and anna[2] == "Anna Fiktiv"
    assert anna[7] == "JOB: Jens Job (Team A)"  # the other department, caseworker and team
    col = {h: i for i, h in enumerate(heads)}
    assert anna[col["Samtykke"]] == "givet" and rows["030390-0004"][col["Samtykke"]] == "afvist"
    since = anna[col["Markeret siden"]]
    assert isinstance(since, datetime) and since.date() == date.fromisoformat(AS_OF)
    assert "aktiv sag i JOB" in anna[6]
    # BUF serves nobody in the target group: an empty workbook with only the overview
    assert openpyxl.load_workbook(run.report_dir / "flags_BUF.xlsx").sheetnames == ["Oversigt"]


def test_english_headings(tiny, tmp_path):
    run = _run(tiny, tmp_path, lang="en")
    book = openpyxl.load_workbook(run.report_dir / "flags_JOB.xlsx")
    assert book.sheetnames == ["Overview", "Team A"]
    heads = [c.value for c in book["Team A"][1]]
    assert heads[:3] == ["Status", "CPR no.", "Name"] and "Why it ended" in heads
    assert book["Team A"]["A2"].value == "New"


def test_ended_flag_listed_for_the_departments_that_served_it(tiny, tmp_path):
    from tests.conftest import JOB_CSV, write_municipality
    _run(tiny, tmp_path)
    # next night Anna's JOB case is closed: her flag ends, JOB and SOC both get the ended row
    closed = JOB_CSV.replace("0101800001,J1,Aktivitetsparat kontanthjælp,AKT,2020-01-01,,",
                             "0101800001,J1,Aktivitetsparat kontanthjælp,AFS,2020-01-01,2026-11-01,")
    sources = write_municipality(tiny.parent, **{"job.csv": closed})
    run = run_pipeline(RunSettings(sources=sources, as_of=date(2026, 11, 2), out=tmp_path / "out",
                                   allow_drop=("job",)))  # one of four active JOB cases closes: a 25 % drop
    assert run.summary["flags"]["ended"] == 1
    for dept, team in (("JOB", "Team A"), ("SOC", "Voksen")):
        rows = list(openpyxl.load_workbook(run.report_dir / f"flags_{dept}.xlsx")[team].iter_rows(values_only=True))
        why = rows[0].index("Årsag til afslutning")
        ended = [r for r in rows if r[1] == "010180-0001"]
        assert ended and ended[0][0] == "Afsluttet" and ended[0][why] == "sagen i JOB, SOC er lukket"


@pytest.mark.parametrize("teams,expected", [
    (["A/B", "x" * 40, "x" * 35], ["A-B", "x" * 31, "x" * 27 + " (2)"]),
    ([None, "Oversigt"], ["Uden team", "Oversigt (2)"]),
])
def test_sheet_names_are_valid_and_unique(teams, expected):
    assert list(excel.sheet_names(teams, "da").values()) == expected
