"""The sample with history: monthly snapshots from one seed, and the events they must show.

Every expectation is read straight from the written extracts with DuckDB (never from the
pipeline's tables): births, moves in and away, turning 18, household changes, cases that
close, citizens who come back, and status codes that the snapshot's sources.yaml declares.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from targetgroup.errors import ConfigError
from targetgroup.sample.history import generate_history, parse_months, snapshot_dates

END = date(2026, 11, 1)


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("history")
    generate_history(out, months=12, citizens=1_500, seed=5, end=END)
    return out


def _read(folder: Path, source: str) -> list[dict]:
    con = duckdb.connect()
    try:
        rel = con.execute("select * from read_parquet(?)", [str(folder / f"{source}.parquet")])
        names = [d[0] for d in rel.description]
        return [dict(zip(names, row)) for row in rel.fetchall()]
    finally:
        con.close()


def test_months_are_parsed_and_limited():
    assert parse_months("18m") == 18 and parse_months("24") == 24
    for bad in ("11m", "25m", "m", "eighteen", ""):
        with pytest.raises(ConfigError):
            parse_months(bad)


def test_snapshot_dates_are_monthly_and_end_on_the_reference_date():
    assert snapshot_dates(date(2026, 11, 1), 3) == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]


def test_one_folder_per_month_each_with_its_sources(history):
    folders = sorted(p.name for p in history.iterdir())
    assert folders == [d.isoformat() for d in snapshot_dates(END, 12)]
    for name in folders:
        spec = yaml.safe_load((history / name / "sources.yaml").read_text(encoding="utf-8"))
        for entry in [spec["persons"], *spec["sources"]]:
            assert (history / name / entry["path"]).is_file()


def test_same_seed_gives_identical_snapshots(tmp_path):
    generate_history(tmp_path / "a", months=12, citizens=600, seed=9, end=END)
    generate_history(tmp_path / "b", months=12, citizens=600, seed=9, end=END)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len([f for f in files if f.parent.name not in ("fjernelser", "moeder")]) == 12 * 7
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_every_status_code_is_declared_and_no_case_starts_after_its_snapshot(history):
    for folder in sorted(history.iterdir()):
        spec = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8"))
        day = date.fromisoformat(folder.name)
        for source in spec["sources"]:
            rows = _read(folder, source["name"])
            status, start = source["columns"]["status"], source["columns"]["start_date"]
            assert {str(r[status]) for r in rows} <= {str(code) for code in source["statuses"]}, source["name"]
            assert all(r[start] <= day for r in rows), (folder.name, source["name"])


def test_people_are_born_move_in_move_away_and_turn_18(history):
    first, last = (sorted(history.iterdir())[i] for i in (0, -1))
    day0, day1 = date.fromisoformat(first.name), date.fromisoformat(last.name)
    before = {r["cpr"]: r for r in _read(first, "cpr_register")}
    after = {r["cpr"]: r for r in _read(last, "cpr_register")}
    newcomers = [after[c] for c in set(after) - set(before)]
    born = [r for r in newcomers if r["foedselsdato"] > day0]
    moved_in = [r for r in newcomers if r["foedselsdato"] <= day0]
    assert born and moved_in
    assert all(r["foedselsdato"] <= day1 for r in after.values())
    left = [c for c in before if before[c]["fraflytningsdato"] is None and after[c]["fraflytningsdato"] is not None]
    assert left and all(day0 < after[c]["fraflytningsdato"] <= day1 for c in left)

    def adult(birth: date, day: date) -> bool:
        return (day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))) >= 18

    turned = [c for c in before if not adult(before[c]["foedselsdato"], day0) and adult(before[c]["foedselsdato"], day1)]
    assert turned
    changed = [c for c in before if before[c]["husstand_id"] != after[c]["husstand_id"]]
    assert changed


def test_cases_close_and_citizens_come_back(history):
    folders = sorted(history.iterdir())
    first, last = folders[0], folders[-1]
    soc0 = {r["indsats_id"]: r for r in _read(first, "soc_nexus")}
    soc1 = {r["indsats_id"]: r for r in _read(last, "soc_nexus")}
    closed = [i for i in soc0 if soc0[i]["tilstand"] == "Bevilget" and soc1[i]["tilstand"] == "Afsluttet"]
    assert closed
    assert all(date.fromisoformat(first.name) <= soc1[i]["bevilget_til"] < date.fromisoformat(last.name)
               for i in closed)
    # came back: a closed case, then a newer case of the same citizen, active in the last snapshot
    closed_people = {soc1[i]["cpr"]: soc1[i]["bevilget_til"] for i in closed}
    back = [r for r in soc1.values() if r["tilstand"] == "Bevilget" and r["cpr"] in closed_people
            and r["bevilget_fra"] > closed_people[r["cpr"]] and r["indsats_id"] not in soc0]
    assert back


# ---- the area column and the caseworkers' removals (issue 19) ----

def _active_departments(folder: Path) -> dict[str, set[str]]:
    """Per citizen, the departments with an active case on the snapshot's date, from its extracts."""
    spec = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8"))
    day = date.fromisoformat(folder.name)
    found: dict[str, set[str]] = {}
    for source in spec["sources"]:
        col = source["columns"]
        active = {str(code) for code, on in source["statuses"].items() if on}
        for r in _read(folder, source["name"]):
            end = r[col["end_date"]] if "end_date" in col else None
            if str(r[col["status"]]) in active and r[col["start_date"]] <= day and (end is None or end >= day):
                cpr = str(r[col["cpr"]]).replace("-", "").replace(" ", "").removesuffix(".0").zfill(10)
                found.setdefault(cpr, set()).add(source["department"])
    return found


def test_the_person_extract_has_a_synthetic_area_code_per_household(history):
    for folder in sorted(history.iterdir())[::5]:
        spec = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8"))
        assert spec["persons"]["columns"]["area"] == "omraadekode"
        rows = _read(folder, "cpr_register")
        codes = {r["omraadekode"] for r in rows}
        assert codes == {f"FIKTIV-{n:02d}" for n in range(1, 13)}, folder.name
        per_household: dict[str, set[str]] = {}
        for r in rows:
            per_household.setdefault(r["husstand_id"], set()).add(r["omraadekode"])
        assert all(len(areas) == 1 for areas in per_household.values())


def test_caseworkers_remove_a_few_flags_through_the_department_files(history):
    folders = sorted(history.iterdir())
    kept: dict[str, str] = {}
    for folder in folders:
        spec = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8"))
        assert spec["suppressions"] == "fjernelser" and (folder / "fjernelser").is_dir()
        rows = {}
        for path in sorted((folder / "fjernelser").glob("*.csv")):
            lines = path.read_text(encoding="utf-8").splitlines()
            assert lines[0] == "cpr,rule,removed_by,reason"
            rows.update({line.split(",")[0]: (path.stem, line) for line in lines[1:]})
        # a department keeps adding to its file: what an earlier snapshot listed stays, unchanged
        assert all(rows.get(cpr) == line for cpr, line in kept.items()), folder.name
        new = set(rows) - set(kept)
        if new:
            active = _active_departments(folder)
            for cpr in new:   # removed while served by two departments, in the file of one of them
                assert len(active.get(cpr, set())) >= 2 and rows[cpr][0] in active[cpr], (folder.name, cpr[:6])
        kept.update(rows)
    ever = set().union(*(set(c for c, d in _active_departments(f).items() if len(d) >= 2) for f in folders[::3]))
    assert 1 <= len(kept) <= 0.1 * len(ever)
    assert all(line.split(",")[1] == "two_departments" for _, line in kept.values())


def test_caseworkers_record_most_review_meetings_around_their_date(history):
    folders = sorted(history.iterdir())
    kept: set[str] = set()
    for folder in folders:
        spec = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8"))
        assert spec["meetings"] == "moeder" and (folder / "moeder").is_dir()
        lines = set()
        for path in sorted((folder / "moeder").glob("*.csv")):
            text = path.read_text(encoding="utf-8").splitlines()
            assert text[0] == "cpr,rule,kind,held_on,recorded_by"
            lines |= set(text[1:])
        assert kept <= lines, folder.name     # records are only added
        for line in lines - kept:             # held on or before the snapshot that first lists it
            cpr, rule, kind, held_on, by = line.split(",")
            assert (rule, kind, by) == ("two_departments", "review", "Fiktiv Rådgiver")
            assert date.fromisoformat(held_on) <= date.fromisoformat(folder.name)
        kept = lines
    assert len(kept) >= 10
