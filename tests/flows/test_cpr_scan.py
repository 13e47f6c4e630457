"""Planted CPR numbers never reach a file that is not meant to hold them (issue 11, section 2).

Synthetic, visibly fake CPR numbers (010199-99xx) are planted in every field that is not a CPR
field: status, start and end date, case id, case type, caseworker, team, consent, the person
extract's name, birth, death and household, a removal file's date, a row shifted one column,
a file without its header line, and the 9-digit form Excel leaves. The CLI and the Prefect
`nightly` flow (one test harness, a temporary PREFECT_HOME and temporary folder) run a
succeeding night and two failing ones each. Then every file written is scanned for the planted
numbers and the extracts' own CPRs, in every spelling: the run folders and OUT, Prefect's home,
database and result storage, the temporary and spill folders, and everything the runs printed.
Only the files meant to hold CPRs may hold them: caseworker lists, notices, action files,
exclusions, and the warehouse's case tables.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import BUF_CSV, JOB_CSV, PERSONS_CSV, SOC_CSV, write_municipality

pytestmark = pytest.mark.slow

P = {n: f"010199{9900 + n}" for n in range(1, 20)}   # planted: 0101999901 ... 0101999919
ROOT = Path(__file__).resolve().parents[2]

# files and warehouse tables that exist to hold CPRs (README "What a run writes")
ALLOWED_FILE = re.compile(r"^(flags_.+\.(csv|xlsx)|notices_.+\.csv|actions_.+\.(csv|json)|reconcile_.+\.csv"
                          r"|exclusions\.csv)$")
CPR_COLUMNS = {"cpr", "members", "mother_cpr", "father_cpr"}
CPR_TABLES = {"pseudonyms"}   # the analysts' key: CPR -> pseudonym (docs/analysts.md)


def _good_night(folder: Path, quality: str) -> Path:
    """The tiny municipality with a planted CPR in every non-CPR field."""
    job = JOB_CSV + (
        f"0303900004,J7,Jobparat kontanthjælp,{P[1]},2020-01-01,,Jens Job,Team A\n"            # status
        f"0101800001,{P[2]},{P[3]},AKT,2020-01-01,,{P[4]},{P[5]}\n"                            # id, type, worker, team
        f"0303900004,J8,Jobparat kontanthjælp,AKT,{P[6]},,Jens Job,Team A\n"                   # start date
        f"0303900004,J9,Jobparat kontanthjælp,AKT,2020-01-01,{P[7][:6]}-{P[7][6:]},Jens Job,Team A\n"  # end date
        f",{P[8]},J10,Jobparat kontanthjælp,AKT,2020-01-01,,Jens Job\n"                         # shifted one column
        f"0303900004,J11,Jobparat kontanthjælp,AKT,2020-01-01,,{P[16].lstrip('0')},Team A\n")  # Excel's 9 digits
    soc = SOC_CSV + f"0303900004,S6,Bostøtte,Bevilget,2021-01-01,,Sara Soc,Voksen,{P[9]}\n"      # consent
    buf = BUF_CSV + f"010115-0002;B2;Forebyggende;Aktiv;01-01-2024;;Søs Ærø;{P[15][:6]} {P[15][6:]}\n"  # team
    persons = PERSONS_CSV + (
        f"0707900008,Hans Fiktiv,{P[11]},H7,,,,\n"                                              # birth date
        f"0808900009,{P[13]},1990-08-08,{P[14]},,,{P[12]},\n")                                  # name, household, death
    sources = write_municipality(folder, **{"job.csv": job, "soc.csv": soc, "buf.csv": buf, "persons.csv": persons})
    removals = folder / "removals"
    removals.mkdir()
    (removals / "JOB.csv").write_text(f"cpr,rule,removed_by,reason,until\n0303900004,default,A B,why,{P[17]}\n",
                                      encoding="utf-8")
    sources.write_text(sources.read_text(encoding="utf-8") + f"suppressions: removals\n{quality}", encoding="utf-8")
    return sources


def _headerless(folder: Path) -> Path:
    return write_municipality(folder, **{"job.csv": JOB_CSV.split("\n", 1)[1] + f"{P[18]},J9,x,AKT,2020-01-01,,a,b\n"})


def _municipalities(tmp: Path) -> dict[str, Path]:
    # the planted status is an undeclared code: it stops a run by default (issue 14), not here
    relaxed = "quality: {max_reject_share: 0.9, volume_drop: 1.0, severity: {job.status_known: warning}}\n"
    return {"good": _good_night(tmp / "good", relaxed),
            "gate_stops": _good_night(tmp / "gate_stops", ""),       # rejects over 5 %: the gate stops it
            "headerless": _headerless(tmp / "headerless")}


def _input_cprs(folders: list[Path]) -> set[str]:
    """Every CPR the extracts deliver in their CPR fields (10 digits)."""
    found = set()
    for folder in folders:
        for path in folder.glob("*.csv"):
            text = path.read_text(encoding="latin-1")
            found |= {re.sub(r"\D", "", m) for m in re.findall(r"(?<![\d-])\d{6}-?\d{4}(?![\d-])", text)}
    return found


def _spellings(cprs: set[str]) -> re.Pattern:
    forms = set()
    for c in cprs:
        forms |= {c, f"{c[:6]}-{c[6:]}", f"{c[:6]} {c[6:]}"}
        if c.startswith("0"):
            forms.add(c[1:])   # the 9 digits Excel leaves
    return re.compile(r"(?<![0-9])(" + "|".join(sorted(map(re.escape, forms))) + r")(?![0-9])")


def _texts(path: Path) -> list[tuple[str, str]]:
    """(where, text) for one file: raw bytes, plus the decoded content of xlsx, Parquet and DuckDB files."""
    raw = path.read_bytes()
    out = [(str(path), raw.decode("latin-1"))]
    for blob in re.findall(rb"[A-Za-z0-9+/]{40,}={0,2}", raw):   # base64: Prefect's pickled results
        try:
            out.append((f"{path} (base64)", base64.b64decode(blob, validate=True).decode("latin-1")))
        except ValueError:
            pass
    if raw[:2] == b"PK":
        with zipfile.ZipFile(path) as z:
            out += [(f"{path}!{n}", z.read(n).decode("utf-8", "replace")) for n in z.namelist()]
    elif raw[:4] == b"PAR1":
        columns = {r[0] for r in duckdb.sql(f"describe select * from read_parquet('{path}')").fetchall()}
        if path.parent.name.endswith(".snapshots") and columns & CPR_COLUMNS:
            return []   # the warehouse's person and case snapshots: case tables kept as files, CPRs by design
        out.append((f"{path} (rows)", repr(duckdb.sql(f"select * from read_parquet('{path}')").fetchall())))
    elif path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            for (table,) in con.execute("select table_name from duckdb_tables()").fetchall():
                columns = {r[0] for r in con.execute(f'describe "{table}"').fetchall()}
                if columns & CPR_COLUMNS or table in CPR_TABLES:
                    continue   # a case table: holds CPRs by design
                out.append((f"{path}:{table}", repr(con.execute(f'select * from "{table}"').fetchall())))
        finally:
            con.close()
        out = out[1:]   # the file's pages also hold the case tables: judged per table above
    return out


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "targetgroup", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_planted_cprs_reach_only_the_files_meant_to_hold_cprs(tmp_path, monkeypatch, capfd, caplog):
    from prefect.settings import PREFECT_HOME, PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    temp = tmp_path / "tmp"              # the system's temporary folder for everything here
    temp.mkdir()
    home = tmp_path / "prefect_home"
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setenv("TARGETGROUP_PSEUDONYM_KEY", "k" * 40)
    nights = _municipalities(tmp_path / "in")
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "COLUMNS": "200", "TMPDIR": str(temp),
           "HOME": str(tmp_path), "TARGETGROUP_PSEUDONYM_KEY": "k" * 40}
    printed: list[tuple[str, str]] = []
    codes = {}

    # --- the CLI: a good night, then two nights it refuses --------------------------------------
    for name in ("good", "gate_stops", "headerless"):
        result = _cli(["run", "--sources", str(nights[name]), "--as-of", "2026-11-01", "--out",
                       str(tmp_path / "cli_out"), "--rebuild"], env, tmp_path)
        codes[f"cli {name}"] = result.returncode
        printed += [(f"cli {name} stdout", result.stdout), (f"cli {name} stderr", result.stderr)]
    result = _cli(["validate", "--sources", str(nights["gate_stops"]), "--as-of", "2026-11-01", "--out",
                   str(tmp_path / "cli_validate")], env, tmp_path)
    codes["cli validate"] = result.returncode
    printed += [("cli validate stdout", result.stdout), ("cli validate stderr", result.stderr)]

    # --- the nightly flow, in one harness with its own Prefect home ---------------------------
    from flows.pipeline import nightly

    with temporary_settings(updates={PREFECT_HOME: home, PREFECT_LOCAL_STORAGE_PATH: home / "storage"}):
        with prefect_test_harness(server_startup_timeout=120):
            for name in ("good", "gate_stops", "headerless"):
                state = nightly(as_of=date(2026, 11, 1), sources=str(nights[name]), out=str(tmp_path / "flow_out"),
                                rebuild=True, return_state=True)
                codes[f"flow {name}"] = "ok" if state.is_completed() else "failed"
    captured = capfd.readouterr()
    printed += [("flow stdout", captured.out), ("flow stderr", captured.err), ("flow logs", caplog.text)]

    assert codes == {"cli good": 0, "cli gate_stops": 1, "cli headerless": 1, "cli validate": 1,
                     "flow good": "ok", "flow gate_stops": "failed", "flow headerless": "failed"}, codes
    assert any("types_parse" in text for _, text in printed), "the gate did not stop the run as planned"

    # --- scan everything written ---------------------------------------------------------------
    planted = set(P.values())
    pattern = _spellings(planted | _input_cprs([f.parent for f in nights.values()]))
    files = [p for p in tmp_path.rglob("*") if p.is_file() and (tmp_path / "in") not in p.parents]
    prefect_db = [p for p in temp.rglob("prefect-test.db*")]
    assert prefect_db, "the harness's database is not under the temporary folder: the scan would miss it"
    allowed = [p for p in files if ALLOWED_FILE.match(p.name)]
    hits, scanned = [], 0
    for path in files:
        if path in allowed:
            continue
        for where, text in _texts(path):
            scanned += 1
            hits += [(where, m) for m in sorted(set(pattern.findall(text)))]
    for where, text in printed:
        scanned += 1
        hits += [(where, m) for m in sorted(set(pattern.findall(text)))]
    areas = {"prefect home": sum(home in p.parents for p in files),
             "temporary folder (prefect db, spill)": sum(temp in p.parents for p in files),
             "cli out": sum(tmp_path / "cli_out" in p.parents for p in files),
             "flow out": sum(tmp_path / "flow_out" in p.parents for p in files)}
    print(f"CPR scan: {len(files)} files ({len(allowed)} meant to hold CPRs, not scanned) {areas}, "
          f"{scanned} texts scanned incl. {len(printed)} captured outputs, {len(hits)} hits; "
          f"under PREFECT_HOME: {sorted(str(p.relative_to(home)) for p in files if home in p.parents)}")
    assert not hits, f"{len(hits)} CPR(s) outside the files meant to hold them: {hits[:10]}"

    # the scan looks in the right places: the planted numbers did reach the files meant for them,
    # and the folders named by the issue were there to be scanned
    lists = "".join(t for p in allowed for _, t in _texts(p))
    assert P[2] in lists or P[4] in lists, "the planted case id / caseworker are not in any caseworker list"
    assert any(home in p.parents for p in files), "nothing was written under PREFECT_HOME"
    # no task result or exception was persisted (NO_CACHE, persist_result=False)
    # Prefect pickles a failed flow's exception into its result storage whatever persist_result
    # says: it is scanned above (base64 decoded), and it must be owner-only
    stored = [p for p in files if home / "storage" in p.parents]
    assert all(p.stat().st_mode & 0o077 == 0 for p in stored), [oct(p.stat().st_mode) for p in stored]
    assert any(p.name == "warehouse.duckdb" for p in files)
    assert any(p.name == "ALERT.txt" for p in files) and any(p.name == "FAILED.txt" for p in files)
    assert any(p.name == "quarantine.csv" for p in files) and any(p.name == "manifest.json" for p in files)
