"""Six nights on a small municipality: open, unchanged, end, removal, re-flag, expiry."""

from __future__ import annotations

from pathlib import Path

from nights import A, B, C, D, F, G, NIGHTS, RULE, Town, actions, rows, town  # noqa: F401
from targetgroup.register import suppress as ops

JOB_REMOVALS = "cpr;rule;removed_by;reason;until\n030390-0004;two_departments;Jonna Job;borgeren ønsker pause;2026-11-07\n"


def open_flags(town: Town) -> dict[str, tuple]:
    return {r[0][0]: r[1:] for r in town.query(
        "select members, flag_id, version, departments from flags where status = 'open'")}


def test_six_nights(town: Town, tmp_path: Path):
    # night 1: six citizens flagged, a create action per citizen in Momentum and Nexus, none in DUBU
    n1 = town.run(1)
    assert n1.summary["flags"] == {"new": 6, "continuing": 0, "updated": 0, "ended": 0}
    assert [a[:2] for a in actions(n1, "Momentum")] == [("create", c) for c in sorted([A, B, C, D, F, G])]
    assert len(actions(n1, "Nexus")) == 6 and actions(n1, "DUBU") == []
    first = open_flags(town)
    register_after_1 = town.query("select * from flags order by flag_id, version")

    # night 2: nothing changed, so nothing happens
    n2 = town.run(2)
    assert n2.summary["flags"] == {"new": 0, "continuing": 6, "updated": 0, "ended": 0}
    assert all(actions(n2, s) == [] for s in ("Momentum", "Nexus", "DUBU"))
    assert town.query("select * from flags order by flag_id, version") == register_after_1

    # night 3: A's JOB case closes -> end with reason; G gets a BUF case -> updated with history
    n3 = town.run(3)
    assert n3.summary["flags"] == {"new": 0, "continuing": 4, "updated": 1, "ended": 1}
    end = ("end", A, "2026-11-02", "2026-11-04", "case closed in JOB")
    assert end in actions(n3, "Momentum") and end in actions(n3, "Nexus")
    assert ("update", G, "2026-11-02", "", "coordinated course: BUF, JOB, SOC") in actions(n3, "Momentum")
    assert actions(n3, "DUBU") == [("create", G, "2026-11-02", "", "coordinated course: BUF, JOB, SOC")]
    history_g = town.query("select version, status, valid_from, valid_to, change from flags "
                           "where list_contains(members, ?) order by version", [G])
    assert history_g == [(1, "superseded", NIGHTS[1], NIGHTS[3], "new"),
                         (2, "open", NIGHTS[3], None, "updated: BUF joined")]
    assert open_flags(town)[G][0] == first[G][0]  # same flag, new version
    soc_notices = rows(n3.report_dir / "notices_SOC.csv")
    assert {(r["Besked"], r["CPR-nr."], r["Detaljer"]) for r in soc_notices if r["CPR-nr."] == "010180-0001"} == {
        ("Markering afsluttet", "010180-0001", "sagen i JOB er lukket"),
        ("Sag lukket i anden forvaltning", "010180-0001", "sagen i JOB er lukket (sagsbehandler Jens Job, team Team A)")}
    assert any(r["Besked"] == "Markering ændret" and r["CPR-nr."] == "070790-0008" and r["Detaljer"] == "BUF er kommet til"
               for r in soc_notices)
    # the ended flag also goes to A's JOB caseworker of the last run (A's JOB case has closed)
    job_notices = rows(n3.report_dir / "notices_JOB.csv")
    assert {(r["Besked"], r["Sagsbehandler"], r["Detaljer"]) for r in job_notices if r["CPR-nr."] == "010180-0001"} == {
        ("Markering afsluttet", "Jens Job", "sagen i JOB er lukket")}

    # night 4: a caseworker removes C on the command line; JOB's removal file removes D until night 6
    removal_c = ops.add_suppression(town.warehouse, cpr=C, rule_id=RULE, removed_by="Jens Job",
                                    reason="samarbejdet giver ikke mening nu", until=None, department="JOB",
                                    today=NIGHTS[3])
    folder = tmp_path / "removals"
    folder.mkdir()
    (folder / "JOB.csv").write_text(JOB_REMOVALS, encoding="utf-8")
    n4 = town.run(4, suppressions=folder)
    assert n4.summary["flags"]["ended"] == 2
    assert {a[1]: a[4] for a in actions(n4, "Momentum")} == {C: "removed by caseworker", D: "removed by caseworker"}
    removals = {r[0]: r[1:] for r in town.query(
        "select suppression_id, cpr, departments, removed_by, origin, until, ended_reason from suppressions")}
    assert removals[removal_c][:4] == (C, ["JOB", "SOC"], "Jens Job", "command line")
    (removal_d,) = [k for k, v in removals.items() if v[0] == D]
    assert removals[removal_d][3:5] == ("file JOB.csv", NIGHTS[6])

    # night 5: C gets a BUF case (a department not involved at the removal) -> a new flag; F moves away
    n5 = town.run(5, suppressions=folder)
    assert n5.summary["flags"] == {"new": 1, "continuing": 2, "updated": 0, "ended": 1}
    flags_c = town.query("select flag_id, status, change, end_reason from flags where list_contains(members, ?) "
                         "order by valid_from", [C])
    assert flags_c[0][1:] == ("ended", "new", "removed by caseworker")
    assert flags_c[1][0] != flags_c[0][0]
    assert flags_c[1][1:3] == ("open", f"new: BUF involved after removal {removal_c}")
    assert town.query("select ended_reason from suppressions where suppression_id = ?", [removal_c]) == [
        ("facts changed: BUF involved since the removal",)]
    assert ("create", C, "2026-11-06", "", "coordinated course: BUF, JOB, SOC") in actions(n5, "DUBU")
    assert ("end", F, "2026-11-02", "2026-11-06", "moved away") in actions(n5, "Momentum")
    assert D not in {a[1] for a in actions(n5, "Momentum")}  # still removed

    # night 6: D's removal expires (until = night 6) -> flagged again with a new flag
    n6 = town.run(6, suppressions=folder)
    assert n6.summary["flags"] == {"new": 1, "continuing": 3, "updated": 0, "ended": 0}
    assert [a[:3] for a in actions(n6, "Momentum")] == [("create", D, "2026-11-07")]
    assert town.query("select change from flags where status = 'open' and list_contains(members, ?)", [D]) == [
        (f"new: removal {removal_d} expired",)]
    assert town.query("select ended_reason from suppressions where suppression_id = ?", [removal_d]) == [("expired",)]

    # the register's history explains every flag: one open row per subject, versions chained
    assert town.query("""select count(*) from flags f join flags g on f.flag_id = g.flag_id
                         and g.version = f.version + 1 where f.valid_to <> g.valid_from""") == [(0,)]
    assert town.query("select count(*) from (select rule_id, subject_id from flags where status = 'open' "
                      "group by all having count(*) > 1)") == [(0,)]
    assert town.query("select count(*) from flags where (status = 'open') <> (valid_to is null)") == [(0,)]
    ledger = town.query("select flags_new, flags_continuing, flags_ended from runs order by as_of")
    assert ledger == [(6, 0, 0), (0, 6, 0), (0, 4, 1), (0, 3, 2), (1, 2, 1), (1, 3, 0)]
