"""Many municipalities on a real Dask cluster (issue 18): isolation, an external cluster, a killed worker.

Each fleet is four tiny hand-written municipalities (conftest's, 7 citizens each) whose CPR
numbers differ per municipality (the serial's first digit is the municipality's number), so
"nothing of one municipality in another's outputs" can be checked by value. One of them (bb)
has a broken extract. Expected per good municipality on AS_OF: conftest's EXPECTED_DEFAULT, its
two citizens flagged.

    test_local_cluster_isolates_a_failure   `targetgroup fleet --workers 2` (a LocalCluster of 2 processes)
    test_external_cluster_survives_a_killed_worker
                                            a `dask scheduler` and two `dask worker` processes on
                                            127.0.0.1; one municipality's worker is killed mid-run
    test_prefect_flow_on_the_external_cluster
                                            the Prefect flow `fleet` (DaskTaskRunner address=)
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import AS_OF, BUF_CSV, EXPECTED_DEFAULT, JOB_CSV, PERSONS_CSV, SOC_CSV, SOURCES_YAML, write_municipality
from targetgroup.fleet.run import HOLD_ENV

pytestmark = pytest.mark.slow
NAMES = ("aa", "bb", "cc", "dd")            # bb's soc extract is broken
BROKEN = "bb"
CPR = re.compile(r"(?<!\d)(\d{6})[- ]?(\d{4})(?!\d)")
BIN = Path(sys.executable).parent


def _renumbered(text: str, k: int) -> str:
    """conftest's CPR numbers with the serial's first digit set to k (0-3 keep the century)."""
    return re.sub(r"(?<!\d)(\d{6})([- ]?)0(\d{3})(?!\d)", lambda m: f"{m[1]}{m[2]}{k}{m[3]}", text)


def make_fleet(root: Path, names: tuple[str, ...] = NAMES) -> Path:
    """The municipalities `names` under `root`, each with its own key; returns the fleet file."""
    entries = []
    for k, name in enumerate(NAMES):
        if name not in names:
            continue
        files = {n: _renumbered(t, k) for n, t in
                 (("persons.csv", PERSONS_CSV), ("buf.csv", BUF_CSV), ("job.csv", JOB_CSV), ("soc.csv", SOC_CSV))}
        if name == BROKEN:
            files["soc.csv"] = "sagsnummer,status\nS1,Bevilget\n"        # no cpr column: an input error
        write_municipality(root / name, **{"sources.yaml": SOURCES_YAML, **files})
        key = root / name / "pseudonym.key"
        key.write_text(f"{name}-" + "k" * 40 + "\n")
        key.chmod(0o600)
        entries.append(f"  - name: {name}\n    sources: {name}/sources.yaml\n    out: {name}/out\n"
                       f"    pseudonym_key_file: {name}/pseudonym.key\n")
    (root / "fleet.yaml").write_text("memory_limit: 512MB\nthreads: 1\nmunicipalities:\n" + "".join(entries))
    return root / "fleet.yaml"


def cprs_of(root: Path, name: str) -> set[str]:
    """The municipality's own CPR numbers (its person extract)."""
    return {m[1] + m[2] for m in CPR.finditer((root / name / "persons.csv").read_text())}


def _text(path: Path) -> str:
    """What a file holds, readable: xlsx unzipped, Parquet and DuckDB files as their rows."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    if path.suffix == ".parquet":
        return str(duckdb.sql(f"select * from read_parquet('{path}')").fetchall())
    if path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
            return "".join(str(con.execute(f'select * from "{s}"."{t}"').fetchall()) for s, t in tables)
        finally:
            con.close()
    return path.read_bytes().decode("latin-1")


def found_in(text: str) -> set[str]:
    """Every CPR-shaped number in `text`, as ten digits (a run id such as 20261127T183011-0675 is one too:
    compare the result with real CPR numbers, never test it for emptiness)."""
    return {m[1] + m[2] for m in CPR.finditer(text)}


def all_cprs(root: Path) -> set[str]:
    """Every municipality's CPR numbers."""
    return set().union(*(cprs_of(root, name) for name in NAMES if (root / name).is_dir()))


def cprs_in(folder: Path) -> set[str]:
    """Every CPR-shaped number in every file under `folder`."""
    found: set[str] = set()
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.endswith(".lock"):
            found |= {m[1] + m[2] for m in CPR.finditer(_text(path))}
    return found


def ledger(out: Path) -> list[str]:
    """Run ids in the municipality's warehouse ledger."""
    if not (out / "warehouse.duckdb").exists():
        return []
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        return [r[0] for r in con.execute("select run_id from runs").fetchall()]
    finally:
        con.close()


def check_isolated_night(root: Path, summary: dict, names: tuple[str, ...] = NAMES) -> None:
    """All but bb commit, bb fails alone with FAILED.txt and ALERT.txt; nothing of one in another's out."""
    status = {row["municipality"]: row["status"] for row in summary["municipalities"]}
    assert status == {name: "failed" if name == BROKEN else "committed" for name in names}
    assert (summary["committed"], summary["failed"]) == (len(names) - 1, 1)
    bad = root / BROKEN / "out"
    failed = list((bad / "failed").iterdir())
    assert len(failed) == 1 and (failed[0] / "FAILED.txt").is_file() and (failed[0] / "ALERT.txt").is_file()
    assert "soc" in (failed[0] / "ALERT.txt").read_text() and ledger(bad) == []
    mine = {name: cprs_of(root, name) for name in names}
    assert all(not (mine[a] & mine[b]) for a in names for b in names if a < b)   # the check can tell them apart
    for k, name in enumerate(NAMES):
        if name not in names:
            continue
        out = root / name / "out"
        found = cprs_in(out)
        for other in names:
            if other != name:
                assert not found & mine[other], f"{other}'s CPR numbers in {name}'s outputs"
                assert other not in (out / "logs" / f"{AS_OF}.log").read_text().split()
        if name != BROKEN:
            expected = {_renumbered(c, k) for c in EXPECTED_DEFAULT}
            row = next(r for r in summary["municipalities"] if r["municipality"] == name)
            assert row["citizens_flagged"] == 2 and expected <= found     # its own flagged citizens are there
            assert len(ledger(out)) == 1
    assert not found_in(json.dumps(summary)) & all_cprs(root)


def test_local_cluster_isolates_a_failure(tmp_path):
    from targetgroup.cli import app

    fleet_file = make_fleet(tmp_path)
    result = CliRunner().invoke(app, ["fleet", "--fleet", str(fleet_file), "--as-of", AS_OF, "--workers", "2"])
    assert result.exit_code == 1, result.output
    summary = json.loads((tmp_path / "fleet_summary.json").read_text())
    check_isolated_night(tmp_path, summary)
    assert all(r["worker"].startswith("127.0.0.1:") for r in summary["municipalities"])   # on Dask workers
    assert "Failed: bb" in result.output and not found_in(result.output) & all_cprs(tmp_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, stopped afterwards."""
    logs = tmp_path_factory.mktemp("dask_logs")
    hold = tmp_path_factory.mktemp("hold")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1", HOLD_ENV: str(hold)}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(logs / "scheduler.log", "wb"))]
    try:
        from distributed import Client
        for i in range(2):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1",
                                           "--nthreads", "1", "--nworkers", "1", "--memory-limit", "2GiB",
                                           "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                          stderr=open(logs / f"worker{i}.log", "wb")))
        try:
            with Client(address, timeout="60s") as client:
                client.wait_for_workers(2, timeout=120)
        except Exception as exc:  # noqa: BLE001
            pytest.skip(f"a Dask scheduler and workers could not be started on 127.0.0.1 ({type(exc).__name__})")
        yield {"address": address, "hold": hold, "logs": logs}
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_external_cluster_survives_a_killed_worker(tmp_path, cluster):
    fleet_file = make_fleet(tmp_path)
    (cluster["hold"] / "aa.hold").touch()    # aa's run waits at its register stage: lock held, nothing committed
    cli = subprocess.Popen([str(BIN / "targetgroup"), "fleet", "--fleet", str(fleet_file), "--as-of", AS_OF,
                            "--scheduler", cluster["address"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 180
    while not (waiting := list(cluster["hold"].glob("aa.*.waiting"))):
        assert time.monotonic() < deadline and cli.poll() is None, "aa's run never reached the hook"
        time.sleep(0.1)
    killed = int(waiting[0].name.split(".")[1])
    os.kill(killed, signal.SIGKILL)          # the worker dies mid-run
    (cluster["hold"] / "aa.hold").unlink()   # the retry, on another worker, runs through
    stdout, stderr = cli.communicate(timeout=300)
    assert cli.returncode == 1, stderr
    summary = json.loads((tmp_path / "fleet_summary.json").read_text())
    check_isolated_night(tmp_path, summary)
    pids = {int(p.name.split(".")[1]) for p in cluster["hold"].glob("aa.*.reached")}
    assert killed in pids and len(pids) == 2                                # it ran twice: killed, then retried
    aa = tmp_path / "aa" / "out"
    assert len(ledger(aa)) == 1                                             # and was committed exactly once
    manifest = json.loads(next(aa.glob(f"{AS_OF}_*/manifest.json")).read_text())
    assert any("removed the staging folder" in line for line in manifest["leftovers_cleaned"])
    assert not list((aa / ".staging").glob(f"{AS_OF}_*/")) and not (aa / "failed").exists()
    everything = stdout + stderr + "".join(p.read_text(errors="replace") for p in cluster["logs"].iterdir())
    assert not found_in(everything) & all_cprs(tmp_path)                    # CLI and cluster logs: no CPR
    assert "committed" in stdout and "Failed: bb" in stderr


async def _artifacts(key: str) -> list[dict]:
    """The artifacts with `key`, from the API (prefect 3.8.8's read_artifacts sends nulls its server refuses)."""
    from prefect.client.orchestration import get_client
    async with get_client() as client:
        response = await client._client.post("/artifacts/filter", json={
            "artifacts": {"key": {"any_": [key]}}, "limit": 10, "offset": 0, "sort": "CREATED_DESC"})
        response.raise_for_status()
        return response.json()


def test_prefect_flow_on_the_external_cluster(tmp_path, cluster):
    from prefect.testing.utilities import prefect_test_harness

    from flows.fleet import run_fleet_flow
    from targetgroup.errors import RunError

    fleet_file = make_fleet(tmp_path, names=("aa", "bb"))     # two, to keep it short: one commits, one fails
    with prefect_test_harness(server_startup_timeout=120):
        with pytest.raises(RunError, match="1 of 2 municipalities failed: bb"):
            run_fleet_flow(str(fleet_file), as_of=__import__("datetime").date.fromisoformat(AS_OF),
                           scheduler=cluster["address"])
        artifacts = asyncio.run(_artifacts("fleet-summary"))
    assert len(artifacts) == 1
    table = json.loads(artifacts[0]["data"])
    assert {r["municipality"]: r["status"] for r in table}["bb"] == "failed"
    assert not found_in(json.dumps(table)) & all_cprs(tmp_path)
    check_isolated_night(tmp_path, json.loads((tmp_path / "fleet_summary.json").read_text()), names=("aa", "bb"))
