"""A week of nightly runs on the sample municipality, with cases opening and closing between nights.

The action lists are checked against an oracle: applying each night's actions to a simulated
case system must give exactly the markings the night's targets call for, with no action that
does nothing (a create for a marking that exists, an end or update for one that does not).
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from nights import Town, rows
from targetgroup import pipeline
from targetgroup.errors import RunError
from targetgroup.register import store
from targetgroup.sample import generate

ACTIVE = {"buf_dubu": ("Aktiv", "Afsluttet"), "job_momentum": ("AKT", "AFS"), "soc_nexus": ("Bevilget", "Afsluttet"),
          "sund_sbsys": ("1", "9"), "ung_vejledning": ("I gang", "Afsluttet")}
FIRST = date(2026, 11, 2)


@pytest.mark.slow
def test_a_week_of_nights(tmp_path: Path, monkeypatch):
    sample = tmp_path / "sample"
    generate(sample, citizens=1500, seed=7, fmt="csv")
    config = yaml.safe_load((sample / "sources.yaml").read_text(encoding="utf-8"))
    systems = {s["name"]: s["system"] for s in config["sources"]}
    town = Town(tmp_path / "town")
    held: dict[tuple[str, str], str] = {}  # the simulated case systems: (system, cpr) -> reason
    for night in range(1, 8):
        folder = tmp_path / f"night{night}"
        shutil.copytree(sample if night == 1 else tmp_path / f"night{night - 1}", folder)
        if night > 1:
            _vary(folder, night, config)
        settings = pipeline.RunSettings(sources=folder / "sources.yaml", as_of=FIRST + timedelta(days=night - 1),
                                        out=town.out, threads=1)
        if night == 4:  # a failure halfway through the register's writes loses nothing
            before = town.dump()
            original = store.commit_steps
            monkeypatch.setattr("targetgroup.register.commit_steps",
                                lambda *a, **k: original(*a, **k)[:3] + [_explode])
            with pytest.raises(RunError, match=r"\(RuntimeError\)"):
                pipeline.run_pipeline(settings)
            assert town.dump() == before
            monkeypatch.setattr("targetgroup.register.commit_steps", original)
        run = pipeline.run_pipeline(settings)
        for system in dict.fromkeys(systems.values()):
            for a in rows(run.report_dir / f"actions_{system}.csv"):
                key = (system, a["cpr"])
                if a["action"] == "create":
                    assert key not in held, a
                    held[key] = a["reason"]
                elif a["action"] == "update":
                    assert key in held and held[key] != a["reason"], a
                    held[key] = a["reason"]
                else:
                    assert key in held and a["end_date"] == str(settings.as_of) and a["reason"], a
                    del held[key]
        expected = _expected_markings(town, run.run_id, systems)
        assert held == expected, f"night {night}"
        if night > 1:
            assert run.summary["flags"]["new"] + run.summary["flags"]["ended"] > 0, f"night {night} changed nothing"
    ended = town.query("select distinct end_reason from flags where status = 'ended'")
    assert ended and all(r[0] for r in ended)
    assert any(r[0].startswith("case closed in ") for r in ended)


def _explode(con):
    raise RuntimeError("injected")


def _vary(folder: Path, night: int, config: dict) -> None:
    con = duckdb.connect()
    day = FIRST + timedelta(days=night - 1)
    frames = {}
    for src in config["sources"]:
        cols = src["columns"]
        con.execute(f"create or replace table {src['name']} as "
                    "select * from read_csv(?, all_varchar = true, header = true)", [str(folder / src["path"])])
        frames[src["name"]] = cols
    # citizens with an active case somewhere: candidates for a new case in another department
    union = " union all ".join(
        f"select '{n}' as source, regexp_replace(\"{c['cpr']}\", '-', '') as cpr from {n} "
        f"where \"{c['status']}\" = '{ACTIVE[n][0]}'" for n, c in frames.items())
    con.execute(f"create table anyactive as {union}")
    for name, cols in frames.items():
        active, closed = ACTIVE[name]
        st, end, cid = f'"{cols["status"]}"', f'"{cols["end_date"]}"', f'"{cols["case_id"]}"'
        con.execute(f"update {name} set {st} = ?, {end} = ? where {st} = ? and hash({cid} || ?) % 7 = 0",
                    [closed, str(day - timedelta(days=1)), active, str(night)])
        con.execute(f"""
            insert into {name} by name
            select 'NEW-{night}-' || row_number() over (order by cpr) as {cid}, cpr as "{cols['cpr']}",
                '{active}' as {st}, '{day}' as "{cols['start_date']}"
            from (select distinct cpr from anyactive where source <> '{name}'
                  order by hash(cpr || '{name}{night}') limit 4)""")
        con.execute(f"copy {name} to '{folder / next(s['path'] for s in config['sources'] if s['name'] == name)}' "
                    "(header, delimiter ',')")
    con.close()


def _expected_markings(town: Town, run_id: str, systems: dict[str, str]) -> dict[tuple[str, str], str]:
    """(system, cpr) -> reason for every marking the night's targets call for (independent of the register)."""
    found = town.query("""
        with t as (select * from targets where run_id = ?),
        per_cpr as (
            select a.source, t.cpr, t.departments
            from t join last_active_cases as a on a.cpr = t.cpr and list_contains(t.notify_departments, a.department)
        )
        select source, cpr, list_sort(list_distinct(flatten(list(departments)))) from per_cpr group by all
    """, [run_id])
    out: dict[tuple[str, str], set[str]] = {}
    for source, cpr, departments in found:
        out.setdefault((systems[source], cpr), set()).update(departments)
    return {k: "coordinated course: " + ", ".join(sorted(v)) for k, v in out.items()}
