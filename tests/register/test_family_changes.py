"""Family flags whose members change: a child with a lower CPR joins, a member leaves, two
families merge, a family splits (docs/register.md, "Families that change").

One municipality, four nights (2026-11-01..04), Odense's family rule (a minor with a BUF case,
a parent with a JOB or SOC case). Every case has fixed dates, so the files stay the same and
the as-of date alone moves the story on:
    family 1  M1 (JOB) and C1 (BUF until 02-11); N, with the lowest CPR, gets a BUF case from 02-11
    family 2  B: FB (SOC), CB and CB2 (BUF), from night 1; A: MA (JOB from 02-11) and CA (BUF);
              NC, child of MA and FB, has a BUF case on 03-11 only: A and B merge on night 3
              and split again on night 4
    family 3  PL (JOB), KL (BUF, the family's lowest CPR), PQ (SOC), KQ1 and KQ2 (BUF), linked
              by KX (child of PL and PQ, BUF until 01-11): splits on night 2 into {PQ, KQ1, KQ2},
              which keeps the flag and its subject id, and {PL, KL}, whose family id is that id
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from nights import actions
from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.register.state import register_sql
from targetgroup.rules import DEFAULT_RULES
from tests.conftest import write_municipality

ODENSE = DEFAULT_RULES.parent / "odense.yaml"
RULE = "buf_bsf_family"
M1, C1, N = "1010800001", "1010150002", "0101260003"
MA, CA, FB, CB, CB2, NC = "2002800011", "2002150012", "2103800021", "2103150022", "2103160023", "0101260031"
PL, KL, PQ, KQ1, KQ2, KX = "1212800041", "1212150042", "1411800043", "1411150044", "1411160045", "1212200046"

PERSONS = f"""\
cpr,name,birth,household,mother,father,died,moved
{M1},Mona Fiktiv,1980-10-10,H1,,,,
{C1},Carl Fiktiv,2015-10-10,H1,{M1},,,
{N},Nana Fiktiv,2026-01-01,H1,{M1},,,
{MA},Maja Fiktiv,1980-02-20,H2,,,,
{CA},Cilla Fiktiv,2015-02-20,H2,{MA},,,
{FB},Finn Fiktiv,1980-03-21,H3,,,,
{CB},Claus Fiktiv,2015-03-21,H3,,{FB},,
{CB2},Cecilie Fiktiv,2016-03-21,H3,,{FB},,
{NC},Nils Fiktiv,2026-01-01,H2,{MA},{FB},,
{PL},Pia Fiktiv,1980-12-12,H4,,,,
{KL},Kim Fiktiv,2015-12-12,H4,{PL},,,
{PQ},Per Fiktiv,1980-11-14,H5,,,,
{KQ1},Karl Fiktiv,2015-11-14,H5,,{PQ},,
{KQ2},Kaja Fiktiv,2016-11-14,H5,,{PQ},,
{KX},Kasper Fiktiv,2020-12-12,H4,{PL},{PQ},,
"""


def _d(cpr: str) -> str:
    return f"{cpr[:6]}-{cpr[6:]}"


BUF = "\n".join([
    "CPR-nr;Sagsnr;Sagstype;Status;Start;Slut;Rådgiver;Team",
    f"{_d(C1)};B1;Forebyggende;Aktiv;01-01-2024;02-11-2026;Søs Ærø;Familie Nord",
    f"{_d(N)};B2;Forebyggende;Aktiv;02-11-2026;;Søs Ærø;Familie Nord",
    f"{_d(CA)};B3;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Syd",
    f"{_d(CB)};B4;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Syd",
    f"{_d(CB2)};B5;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Syd",
    f"{_d(NC)};B6;Forebyggende;Aktiv;03-11-2026;03-11-2026;Søs Ærø;Familie Syd",
    f"{_d(KL)};B7;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Vest",
    f"{_d(KQ1)};B8;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Vest",
    f"{_d(KQ2)};B9;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;Familie Vest",
    f"{_d(KX)};B10;Forebyggende;Aktiv;01-01-2024;01-11-2026;Søs Ærø;Familie Vest",
]) + "\n"

JOB = f"""\
cpr,id,type,status,start,end,worker,team
{M1},J1,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
{MA},J2,Jobparat kontanthjælp,AKT,2026-11-02,,Jens Job,Team A
{PL},J3,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job,Team A
"""

SOC = f"""\
cpr,id,type,status,start,end,worker,team,consent
{FB},S1,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,ja
{PQ},S2,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,ja
"""


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    sources = write_municipality(root / "in", **{"persons.csv": PERSONS, "buf.csv": BUF, "job.csv": JOB,
                                                 "soc.csv": SOC})
    out = root / "out"
    runs = {n: run_pipeline(RunSettings(sources=sources, rules=ODENSE, as_of=date(2026, 11, n), out=out,
                                        threads=1)) for n in range(1, 5)}
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    flags = con.execute(f"""select flag_id, version, subject_id, family_id, members, status, valid_from, valid_to,
                                   change, end_reason
                            from flags where rule_id = '{RULE}' order by flag_id, version""").fetchall()
    targets = con.execute(f"""select distinct run_id, cpr, family_id from targets where rule_id = '{RULE}'""").fetchall()
    con.close()
    return {"runs": runs, "flags": [dict(zip(("flag_id", "version", "subject_id", "family_id", "members", "status",
                                              "valid_from", "valid_to", "change", "end_reason"), f)) for f in flags],
            "targets": targets}


def history(town, member: str) -> list[dict]:
    """Every register row of the flags `member` was ever part of, in order."""
    ids = {f["flag_id"] for f in town["flags"] if member in f["members"]}
    return [f for f in town["flags"] if f["flag_id"] in ids]


def acts(town, night: int, members: tuple[str, ...]) -> list[tuple[str, str]]:
    """(action, cpr) of the night's DUBU and Momentum actions for `members`."""
    run = town["runs"][night]
    return sorted(a[:2] for system in ("DUBU", "Momentum", "Nexus") for a in actions(run, system) if a[1] in members)


def today_family_id(town, night: int, cpr: str) -> str:
    run_id = town["runs"][night].run_id
    return next(f for r, c, f in town["targets"] if r == run_id and c == cpr)


def test_a_child_with_a_lower_cpr_joins_the_family_flag(town):
    rows = history(town, M1)
    assert {r["flag_id"] for r in rows} == {rows[0]["flag_id"]}  # one flag all four nights
    first, second = rows[0], rows[1]
    assert first["members"] == sorted([M1, C1]) and first["status"] == "superseded"
    assert first["valid_to"] == date(2026, 11, 2)
    assert second["version"] == 2 and second["valid_from"] == date(2026, 11, 2)
    assert second["members"] == sorted([M1, C1, N])
    assert second["change"] == "updated: 1 member added"
    # the rules give the family a new id (N has the lowest CPR); the register keeps its own
    assert today_family_id(town, 2, M1) != today_family_id(town, 1, M1)
    assert second["subject_id"] == first["subject_id"] == second["family_id"] == today_family_id(town, 1, M1)
    # keyed: not the plain hash anyone could compute from the lowest member's CPR number
    assert today_family_id(town, 1, M1) != "F" + hashlib.sha256(f"targetgroup-family:{C1}".encode()).hexdigest()[:12]
    # no marking is ended for the family: M1 keeps her Momentum marking, N gets a DUBU marking
    assert acts(town, 2, (M1, C1, N)) == [("create", N)]


def test_a_member_leaves_the_family_flag(town):
    rows = history(town, M1)
    third = rows[2]
    assert third["version"] == 3 and third["valid_from"] == date(2026, 11, 3) and third["status"] == "open"
    assert third["members"] == sorted([M1, N]) and third["change"] == "updated: 1 member left"
    assert third["subject_id"] == rows[0]["subject_id"]
    assert len(rows) == 3  # night 4 changes nothing
    assert acts(town, 3, (M1, C1, N)) == [("end", C1)]
    assert [a for a in actions(town["runs"][3], "DUBU") if a[1] == C1] == [
        ("end", C1, "2026-11-01", "2026-11-03", "no active case in DUBU any more")]


def test_two_family_flags_merge_into_the_older_one(town):
    b = history(town, FB)
    a = [f for f in history(town, MA) if f["flag_id"] != b[0]["flag_id"]]
    b_id, a_id = b[0]["flag_id"], a[0]["flag_id"]
    assert b[0]["valid_from"] == date(2026, 11, 1) and a[0]["valid_from"] == date(2026, 11, 2)
    # night 3: B (the older flag) goes on with everybody, A ends merged into it
    merged = next(f for f in b if f["valid_from"] == date(2026, 11, 3))
    assert merged["members"] == sorted([FB, CB, CB2, MA, CA, NC])
    assert merged["change"] == f"updated: JOB joined; 3 members added; merged with family flag {a_id}"
    assert merged["subject_id"] == b[0]["subject_id"]
    assert a[0]["status"] == "ended" and a[0]["valid_to"] == date(2026, 11, 3)
    assert a[0]["end_reason"] == f"merged into family flag {b_id}"
    # nobody's marking ends: NC's is created, the others' are updated (the family's departments grew)
    assert acts(town, 3, (MA, CA, FB, CB, CB2, NC)) == sorted(
        [("create", NC)] + [("update", c) for c in (MA, CA, FB, CB, CB2)])


def test_a_family_flag_splits_the_bigger_part_keeps_it(town):
    b = history(town, FB)
    b_id = b[0]["flag_id"]
    after = next(f for f in b if f["valid_from"] == date(2026, 11, 4) and f["flag_id"] == b_id)
    assert after["members"] == sorted([FB, CB, CB2]) and after["change"] == "updated: JOB left; 3 members left"
    new = next(f for f in town["flags"] if MA in f["members"] and f["valid_from"] == date(2026, 11, 4))
    assert new["flag_id"] != b_id and new["version"] == 1 and new["members"] == sorted([MA, CA])
    assert new["change"] == f"new: split from family flag {b_id}"
    assert new["subject_id"] == today_family_id(town, 4, MA)
    # nobody's marking ends but NC's (no BUF case any more); the others' are updated
    assert acts(town, 4, (MA, CA, FB, CB, CB2, NC)) == sorted(
        [("end", NC)] + [("update", c) for c in (MA, CA, FB, CB, CB2)])


def test_a_split_off_part_never_shares_the_subject_id_of_a_flag_that_goes_on(town):
    flag = history(town, PQ)
    kept = next(f for f in flag if f["valid_from"] == date(2026, 11, 2))
    assert kept["members"] == sorted([PQ, KQ1, KQ2]) and kept["version"] == 2
    assert kept["subject_id"] == flag[0]["subject_id"] == today_family_id(town, 1, KL)
    new = next(f for f in town["flags"] if KL in f["members"] and f["valid_from"] == date(2026, 11, 2))
    # {PL, KL}'s family id today is the id the going-on flag holds: the new flag's id is made unique
    assert today_family_id(town, 2, KL) == kept["subject_id"]
    assert new["subject_id"] == f"{kept['subject_id']}-{new['flag_id']}" == new["family_id"]
    open_now = [f["subject_id"] for f in town["flags"] if f["status"] == "open"]
    assert len(open_now) == len(set(open_now))
    # and the next night both flags go on under their register ids
    assert [f for f in town["flags"] if f["flag_id"] in (kept["flag_id"], new["flag_id"])
            and f["valid_from"] > date(2026, 11, 2)] == []


def test_a_split_into_equal_parts_keeps_the_flag_with_the_lowest_family_id():
    con = duckdb.connect()
    con.execute("attach ':memory:' as reg")
    register_sql(con, "schema.sql", "reg")
    con.execute("""insert into reg.flags values ('F0000001', 1, 'r', 'family', 'Fold', 'Fold', ['1', '2', '3', '4'],
                   ['BUF'], [], [], ['BUF'], 'open', '2026-11-01', null, 'run1', null, 'new', null)""")
    con.execute("""create temp table targets as
                   select 'r' as rule_id, 'family' as subject_type, f as subject_id, c as cpr, f as family_id,
                          ['BUF'] as departments, []::varchar[] as case_keys, []::varchar[] as reason_codes,
                          ['BUF'] as notify_departments
                   from (values ('Fb', '1'), ('Fb', '2'), ('Fa', '3'), ('Fa', '4')) as v(f, c)""")
    register_sql(con, "match.sql", "reg")
    assert con.execute("select today_id, flag_id, role from reg_match order by 1").fetchall() == [
        ("Fa", "F0000001", "continues"), ("Fb", "F0000001", "split")]


def test_a_damaged_family_key_stops_the_run(tmp_path):
    from targetgroup.errors import RulesError
    from targetgroup.rules.evaluate import load_family_key

    warehouse = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create table family_key as select 'not hex' as family_key, now() as created_at")
    con.close()
    with pytest.raises(RulesError, match="family key"):
        load_family_key(duckdb.connect(), warehouse)
