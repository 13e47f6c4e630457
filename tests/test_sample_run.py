"""The whole run on the shipped sample (SAMPLE_SOURCES), checked against counts computed independently with pandas.

The expected figures are derived here straight from the raw files, with pandas and the rules of
DOMAIN.md, not by calling the project's SQL.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from targetgroup.config import SAMPLE_SOURCES
from targetgroup.deliver.audit import audit, read_report
from targetgroup.pipeline import RunSettings, run_pipeline

SAMPLE = SAMPLE_SOURCES.parent
AS_OF = pd.Timestamp(date(2026, 11, 1))

pytestmark = pytest.mark.slow


def _cpr(series: pd.Series) -> pd.Series:
    digits = series.fillna("").astype(str).str.replace(r"[\s-]", "", regex=True).str.replace(r"\.0+$", "", regex=True)
    return digits.where(~digits.str.fullmatch(r"\d{9}"), "0" + digits)


def _date(series: pd.Series, fmt: str | None = None) -> pd.Series:
    if fmt is None:
        return pd.to_datetime(series, errors="coerce")
    return pd.to_datetime(series.astype("string").str.strip().str.split(" ").str[0], format=fmt, errors="coerce")


def _cases() -> pd.DataFrame:
    buf = pd.read_csv(SAMPLE / "buf_dubu.csv", sep=";", encoding="latin-1", dtype=str)
    job = pd.read_excel(SAMPLE / "job_momentum.xlsx", sheet_name="Forløb", engine="calamine")
    soc = pd.read_csv(SAMPLE / "soc_nexus.csv", dtype=str)
    sund = pd.read_parquet(SAMPLE / "sund_sbsys.parquet")
    ung = pd.read_csv(SAMPLE / "ung_vejledning.csv", sep=";", encoding="utf-8-sig", dtype=str)
    frames = [
        pd.DataFrame({"dept": "BUF", "cpr": _cpr(buf["CPR-nr"]), "active": buf["Status"].str.strip().str.lower() == "aktiv",
                      "start": _date(buf["Startdato"], "%d-%m-%Y"), "end": _date(buf["Slutdato"], "%d-%m-%Y")}),
        pd.DataFrame({"dept": "JOB", "cpr": _cpr(job["Personnummer"].astype("Int64").astype(str)),
                      "active": job["Status"].astype(str).str.strip().str.upper() == "AKT",
                      "start": _date(job["Startdato"]), "end": _date(job["Slutdato"])}),
        pd.DataFrame({"dept": "SOC", "cpr": _cpr(soc["cpr"]), "active": soc["tilstand"].str.strip().str.lower() == "bevilget",
                      "start": _date(soc["bevilget_fra"], "%Y-%m-%d"), "end": _date(soc["bevilget_til"], "%Y-%m-%d")}),
        pd.DataFrame({"dept": "SUND", "cpr": _cpr(sund["person_id"]), "active": sund["sagsstatus"].astype(str).str.strip() == "1",
                      "start": _date(sund["oprettet"]), "end": _date(sund["lukket"])}),
        pd.DataFrame({"dept": "UNG", "cpr": _cpr(ung["CPR"]), "active": ung["Status"].str.strip().str.lower() == "i gang",
                      "start": _date(ung["Start"], "%d.%m.%Y"), "end": _date(ung["Slut"], "%d.%m.%Y")}),
    ]
    return pd.concat(frames, ignore_index=True)


def expected_flags() -> pd.DataFrame:
    """One row per citizen in the target group on AS_OF with their departments, computed with pandas."""
    persons = pd.read_csv(SAMPLE / "cpr_register.csv", dtype=str)
    persons["cpr"] = _cpr(persons["cpr"])
    died = _date(persons["doedsdato"], "%Y-%m-%d")
    moved = _date(persons["fraflytningsdato"], "%Y-%m-%d")
    resident = persons.loc[(died.isna() | (died > AS_OF)) & (moved.isna() | (moved > AS_OF)), "cpr"]
    cases = _cases()
    active = cases[cases["active"] & (cases["start"] <= AS_OF) & (cases["end"].isna() | (cases["end"] >= AS_OF))
                   & cases["cpr"].isin(resident)]
    depts = active.groupby("cpr")["dept"].agg(lambda s: sorted(set(s)))
    return depts[depts.map(len) >= 2].rename("departments").reset_index()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return run_pipeline(RunSettings(sources=SAMPLE / "sources.yaml", as_of=AS_OF.date(), out=out / "reports"))


def test_flagged_citizens_match_independent_count(sample_run):
    expected = expected_flags()
    assert 0.01 <= len(expected) / 20_000 <= 0.03  # the sample is built for a realistic overlap
    assert sample_run.summary["identify"]["citizens_flagged"] == len(expected)


def test_department_lists_match_independent_count(sample_run):
    expected = expected_flags().explode("departments")["departments"].value_counts().to_dict()
    for dept, n in sample_run.summary["flags_per_department"].items():
        assert n == expected.get(dept, 0), dept
        listed = pd.read_csv(sample_run.report_dir / f"flags_{dept}.csv", encoding="utf-8-sig", dtype=str)
        current = listed[~listed["Status"].isin(["Afsluttet", "Afventer samtykke"])]
        assert current["CPR-nr."].nunique() == n
        assert listed["CPR-nr."].str.fullmatch(r"\d{6}-\d{4}").all()


def test_leadership_counts_match_and_are_rounded(sample_run):
    expected = expected_flags()
    counts = pd.read_csv(sample_run.report_dir / "leadership_counts.csv", encoding="utf-8-sig", dtype=str)

    def near(shown: str, n: int) -> bool:  # rounded to a neighbouring multiple of 5, or hidden
        return shown == "•" or (int(shown) % 5 == 0 and abs(int(shown) - n) < 5)

    assert near(counts.loc[counts["breakdown"] == "total", "count"].item(), len(expected))
    combos = expected["departments"].map("+".join).value_counts()
    got = counts[counts["breakdown"] == "department_combination"].set_index("group")["count"]
    for combo, n in combos.items():
        assert near(got[combo], n), combo
    assert not any(re.fullmatch(r"[1-4]", v) for v in counts["count"])


def test_sample_run_passes_the_disclosure_audit(sample_run):
    result = audit([read_report(sample_run.report_dir)])
    assert result.passed and len(result.cells) > 40, [(c.label, c.lo, c.hi) for c in result.pinned]
