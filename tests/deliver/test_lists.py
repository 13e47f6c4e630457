"""Caseworker lists that are right, complete and need-to-know (issue 12), on four families over
four nights with the shipped family rule sets (odense, halsnaes). Every expectation comes from
the hand-written extracts in lists_town.py, never from the pipeline's own tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from targetgroup.deliver import texts
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.rules import DEFAULT_RULES
from tests.deliver import lists_town as town
from tests.deliver.lists_town import C1, F1, K3, K4, K5, L1, M1, M2, C2, N1, P3, P4, Q4, NIGHTS

pytestmark = pytest.mark.slow  # eight whole-pipeline runs

DEPTS = ("BUF", "JOB", "SOC", "SUND", "UNG")
PARENT_DEPTS = {"odense": ("JOB", "SOC"), "halsnaes": ("JOB",)}
FAMILY_RULE = {"odense": "buf_bsf_family", "halsnaes": "family"}


def h(key: str) -> str:
    return texts.t(key, "da")


@pytest.fixture(scope="module", params=["odense", "halsnaes"])
def nights(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    sources = town.write(root / "in")
    out = root / "out"
    runs = {n: run_pipeline(RunSettings(sources=sources, rules=DEFAULT_RULES.parent / f"{request.param}.yaml",
                                        as_of=d, out=out, threads=1, allow_drop=("sund",)))
            for n, d in NIGHTS.items()}
    return {"rules": request.param, "runs": runs, "out": out}


def lists(run, dept: str) -> tuple[list[dict], list[dict]]:
    return (town.read_xlsx(run.report_dir / f"flags_{dept}.xlsx"),
            town.read_csv(run.report_dir / f"flags_{dept}.csv"))


def cpr_of(row: dict) -> str:
    return row[h("col_cpr")].replace("-", "")


def test_every_row_is_a_citizen_the_department_serves(nights):
    checked = 0
    for n, run in nights["runs"].items():
        d = NIGHTS[n]
        for dept in DEPTS:
            for row in lists(run, dept)[0]:
                cpr, status = cpr_of(row), row[h("col_change")]
                if status == h("ended"):
                    assert town.served_before(cpr, dept, d), (n, dept, row)
                else:
                    cases = town.active(cpr, dept, d)
                    assert cases, (n, dept, row)
                    assert row[h("col_caseworker")] == "; ".join(sorted({c[5] for c in cases}))
                    assert row["_sheet"] == cases[0][6]
                checked += 1
            for row in town.read_csv(run.report_dir / f"notices_{dept}.csv"):
                cpr = row[h("col_cpr")].replace("-", "")
                assert town.active(cpr, dept, d) or town.served_before(cpr, dept, d), (n, dept, row)
    assert checked > 30


def test_every_flagged_family_member_is_in_each_list_that_serves_them(nights):
    rule_title = None
    for n, run in nights["runs"].items():
        d = NIGHTS[n]
        members = town.family_members(d, PARENT_DEPTS[nights["rules"]])
        expected = {(dept, c) for c in members for dept in DEPTS if town.active(c, dept, d)}
        listed = set()
        for dept in DEPTS:
            for row in lists(run, dept)[0]:
                if row[h("col_family")] and row[h("col_change")] != h("ended"):
                    listed.add((dept, cpr_of(row)))
                    rule_title = rule_title or row[h("col_rule")]
        assert listed == expected, n
    assert rule_title and rule_title != FAMILY_RULE[nights["rules"]]


def test_a_family_flag_that_ends_lists_each_member_only_where_they_were_served(nights):
    night3 = nights["runs"][3]
    buf = {cpr_of(r): r for r in lists(night3, "BUF")[0]}
    job = {cpr_of(r): r for r in lists(night3, "JOB")[0]}
    assert buf[C2][h("col_change")] == h("ended") and M2 not in buf
    assert job[M2][h("col_change")] == h("ended") and C2 not in job
    assert job[M2][h("col_caseworker")] == "Jens Job"


def test_csv_and_excel_hold_the_same_rows_and_the_manifest_counts_them(nights):
    for run in nights["runs"].values():
        manifest = json.loads((run.report_dir / "manifest.json").read_text())
        for dept in DEPTS:
            xlsx, csv_rows = lists(run, dept)
            assert [{**{k: v for k, v in r.items() if k != "_sheet"}} for r in xlsx] == [
                {k: _typed(k, v) for k, v in r.items()
                 if k not in (h("col_team"), h("col_rules_name"), h("col_rules_hash"))} for r in csv_rows]
            assert [r["_sheet"] for r in xlsx] == [r[h("col_team")] or h("no_team") for r in csv_rows]
            assert manifest["counts"]["list_rows_per_department"][dept] == len(csv_rows)


def _typed(key: str, value: str):
    if value == "":
        return None
    if key == h("col_age"):
        return int(value)
    if re.fullmatch(r"\d{2}-\d{2}-\d{4}", value) and key != h("col_cpr"):
        from datetime import datetime
        return datetime.strptime(value, "%d-%m-%Y")
    return value


def test_a_member_who_leaves_a_family_flag_gets_their_own_end_reason(nights):
    night3 = nights["runs"][3]
    buf = {cpr_of(r): r for r in lists(night3, "BUF")[0]}
    job = {cpr_of(r): r for r in lists(night3, "JOB")[0]}
    assert buf[K3][h("col_end_reason")] == "fyldt 18 år"
    assert job[P4][h("col_end_reason")] == "fraflyttet kommunen"
    assert buf[C1][h("col_end_reason")] == "sagen i BUF er lukket"
    notices = {(r[h("col_cpr")], r[h("col_notice")]): r for r in
               town.read_csv(night3.report_dir / "notices_BUF.csv")}
    assert notices[(f"{K3[:6]}-{K3[6:]}", texts.t("flag_ended", "da"))][h("col_detail")] == "fyldt 18 år"
    con = duckdb.connect(str(nights["out"] / "warehouse.duckdb"), read_only=True)
    try:
        ends = set(con.execute("select cpr, ended_on, end_reason from flag_member_ends").fetchall())
    finally:
        con.close()
    assert {(K3, NIGHTS[3], "turned 18"), (P4, NIGHTS[3], "moved away"),
            (C1, NIGHTS[3], "case closed in BUF")} <= ends


def test_family_rows_name_the_flagged_relatives_and_their_caseworkers(nights):
    night2 = nights["runs"][2]
    buf = {cpr_of(r): r for r in lists(night2, "BUF")[0]}
    job = {cpr_of(r): r for r in lists(night2, "JOB")[0]}
    child = buf[N1][h("col_relatives")]
    assert "mor: Mona Fiktiv" in child and "JOB: Jens Job (Team A)" in child
    assert "søskende: Carl Fiktiv, 11 år — BUF: Søs Ærø (Familie Nord)" in child   # own department too
    if nights["rules"] == "odense":
        assert "far: Frode Fiktiv" in child and "SOC: Sara Soc (Voksen)" in child
    else:
        assert "Frode" not in child   # SOC does not make F1 a parent of halsnaes' family flag
    parent = job[M1][h("col_relatives")]
    assert "barn: Nana Fiktiv, 0 år" in parent and "BUF: Søs Ærø (Familie Nord)" in parent
    if nights["rules"] == "odense":   # M1 and F1 are the parents of C1 and N1, and not each other's
        soc = {cpr_of(r): r for r in lists(night2, "SOC")[0]}
        assert "medforælder: Frode Fiktiv" in parent and "medforælder: Mona Fiktiv" in soc[F1][h("col_relatives")]
        assert "husstand: Frode" not in parent
    assert "Carl" in parent           # still a member on night 2 (his BUF case ends on 02-11)
    # only members of the flag; no case types of any department
    assert "Lone" not in child + parent and "Kurt" not in child + parent
    for dept in DEPTS:
        for row in lists(night2, dept)[0]:
            text = " ".join(str(v) for v in row.values())
            assert not re.search("Jobparat|Bostøtte|Forebyggende|Psykiatri", text)
    # night 3: C1 (BUF case closed) and K3 (turned 18) left their family flags: no longer named
    night3 = nights["runs"][3]
    buf3 = {cpr_of(r): r for r in lists(night3, "BUF")[0]}
    job3 = {cpr_of(r): r for r in lists(night3, "JOB")[0]}
    assert "Carl" not in buf3[N1][h("col_relatives")] and "Carl" not in job3[M1][h("col_relatives")]
    assert "Kurt" not in buf3[K4][h("col_relatives")] and "Kurt" not in job3[P3][h("col_relatives")]
    notice = [r for r in town.read_csv(night2.report_dir / "notices_BUF.csv")
              if r[h("col_cpr")] == f"{N1[:6]}-{N1[6:]}"]
    assert notice and "mor: Mona Fiktiv" in notice[0][h("col_relatives")]


UNTRANSLATED = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\b[a-z]+_[a-z0-9_]+\b|"
                          r"\b(new flag|flag ended|flag updated|case closed|no longer|turned 18|moved away|"
                          r"continuing|updated|given|refused|unknown|awaiting)\b")


def test_a_danish_run_has_no_untranslated_code_in_any_caseworker_file(nights):
    rule_ids = {"family", "young", "vulnerable_over_30", "buf_bsf_family", "buf_bsf_person"}
    seen = 0
    for run in nights["runs"].values():
        for dept in DEPTS:
            xlsx, csv_rows = lists(run, dept)
            notices = town.read_csv(run.report_dir / f"notices_{dept}.csv")
            cells = [str(v) for r in xlsx + csv_rows + notices for k, v in r.items()
                     if v not in (None, "") and k not in (h("col_family"), h("col_flag"), "_sheet")]
            cells += [str(k) for r in csv_rows[:1] + notices[:1] for k in r]
            cells += town.cells_of_overview(run.report_dir / f"flags_{dept}.xlsx")
            for cell in cells:
                assert not UNTRANSLATED.search(cell), (dept, cell)
                assert cell not in rule_ids, (dept, cell)
            seen += len(cells)
    assert seen > 200


def test_every_caseworker_file_writes_cpr_numbers_one_way(nights):
    run = nights["runs"][3]
    for path in run.report_dir.glob("*.csv"):
        if path.name.startswith(("flags_", "notices_", "exclusions")):
            for row in town.read_csv(path):
                for key, value in row.items():
                    if "CPR" in key.upper():
                        assert re.fullmatch(r"\d{6}-\d{4}", value), (path.name, key)


def test_the_rule_set_is_named_in_every_output(nights):
    run = nights["runs"][3]
    manifest = json.loads((run.report_dir / "manifest.json").read_text())
    name, digest = manifest["rules"]["name"], manifest["rules"]["hash"]
    files = [p for p in run.report_dir.iterdir()
             if p.name.startswith(("actions_", "notices_", "exclusions", "quarantine", "flags_"))]
    assert {p.name for p in files} >= {"exclusions.csv", "quarantine.csv", "notices_BUF.csv", "actions_DUBU.csv",
                                       "actions_DUBU.json", "flags_BUF.xlsx", "flags_BUF.csv"}
    stamped = 0
    for path in files:
        if path.suffix == ".xlsx":
            assert f"{name} ({digest})" in " ".join(town.cells_of_overview(path)), path.name
        elif path.suffix == ".json":
            head = json.loads(path.read_text())
            assert (head["rules_name"], head["rules_hash"]) == (name, digest), path.name
        else:
            rows = town.read_csv(path)
            header = path.read_text(encoding="utf-8-sig").splitlines()[0]
            keys = ("rules_name", "rules_hash") if "rules_hash" in header else (h("col_rules_name"), h("col_rules_hash"))
            assert keys[1] in header, path.name
            assert all((r[keys[0]], r[keys[1]]) == (name, digest) for r in rows), path.name
            stamped += len(rows)
    assert stamped > 20
