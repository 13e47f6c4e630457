"""A week of nightly runs on the sample municipality, with cases opening and closing between nights.

The action lists are checked against an oracle: applying each night's actions to a simulated
case system must give exactly the markings the night's extracts call for, computed independently
in plain Python (_expected_markings), with no action that does nothing (a create for a marking
that exists, an end or update for one that does not).
"""

from __future__ import annotations

import csv
import re
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
        expected = _expected_markings(folder, settings.as_of)
        assert len(expected) > 50 and held == expected, f"night {night}"
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


def _clean_cpr(raw: str | None) -> str | None:
    """DOMAIN.md "CPR cleaning", written again in plain Python."""
    digits = re.sub(r"[\s\-]", "", raw or "")
    if re.fullmatch(r"[0-9]+\.0*", digits):
        digits = digits.split(".")[0]
    if re.fullmatch(r"[0-9]{10}", digits):
        return digits
    return "0" + digits if re.fullmatch(r"[0-9]{9}", digits) else None


def _day(raw: str | None) -> date | None:
    raw = (raw or "").strip()
    return date.fromisoformat(raw.split(" ")[0].split("T")[0]) if raw else None


def _expected_markings(folder: Path, as_of: date) -> dict[tuple[str, str], str]:
    """(system, cpr) -> reason for every marking the default rule calls for on `as_of`, computed
    from the night's extracts with the csv module and DOMAIN.md's definitions (alive and resident,
    active on D, at least two departments), independent of the pipeline and its tables."""
    config = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8"))
    persons = config["persons"]
    pc = persons["columns"]
    residents = set()
    with open(folder / persons["path"], encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            died, moved = _day(r[pc["death_date"]]), _day(r[pc["moved_away_date"]])
            if _clean_cpr(r[pc["cpr"]]) and not (died and died <= as_of) and not (moved and moved <= as_of):
                residents.add(_clean_cpr(r[pc["cpr"]]))
    active: dict[str, set[tuple[str, str]]] = {}     # cpr -> {(department, system)}
    for src in config["sources"]:
        c = src["columns"]
        statuses = {str(k).strip().casefold(): v for k, v in src["statuses"].items()}
        with open(folder / src["path"], encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                cpr, start, end = _clean_cpr(r[c["cpr"]]), _day(r[c["start_date"]]), _day(r[c["end_date"]])
                if (cpr in residents and statuses.get((r[c["status"]] or "").strip().casefold(), False)
                        and start is not None and start <= as_of and (end is None or end >= as_of)):
                    active.setdefault(cpr, set()).add((src["department"], src["system"]))
    expected = {}
    for cpr, found in active.items():
        departments = sorted({d for d, _ in found})
        if len(departments) >= 2:
            expected.update({(system, cpr): "coordinated course: " + ", ".join(departments) for _, system in found})
    return expected
