"""No CPR number in what a run prints, logs or puts in its manifest, also when it fails."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

from conftest import JOB_CSV, PERSONS_CSV, write_municipality


def input_cprs() -> set[str]:
    """Every CPR in the tiny municipality, as its 10 digits."""
    return set(re.findall(r"\b\d{10}\b", PERSONS_CSV))


def leaked(text: str) -> set[str]:
    """CPRs from the input that appear in `text` in any common spelling."""
    found = set()
    for cpr in input_cprs():
        spellings = (cpr, f"{cpr[:6]}-{cpr[6:]}", f"{cpr[:6]} {cpr[6:]}", cpr.lstrip("0"))
        if any(s in text for s in spellings):
            found.add(cpr[:6] + "-****")
    return found


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    src = Path(__file__).resolve().parents[1] / "src"
    return subprocess.run([sys.executable, "-m", "targetgroup", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "COLUMNS": "200"})


def test_run_output_and_manifest_hold_no_cpr(tiny, tmp_path):
    result = _cli("run", "--sources", str(tiny), "--as-of", "2026-11-01", "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "citizens in the target group" in result.stderr
    assert leaked(result.stdout + result.stderr) == set()
    manifest = next((tmp_path / "r").glob("*/manifest.json")).read_text()
    assert leaked(manifest) == set()


def test_failing_run_names_the_row_without_the_cpr(tmp_path):
    cut_off = JOB_CSV + "0303900004,J9,Jobparat kontanthjælp,AKT"  # the file ends in the middle of a line
    sources = write_municipality(tmp_path / "in", **{"job.csv": cut_off})
    result = _cli("run", "--sources", str(sources), "--as-of", "2026-11-01", "--out", str(tmp_path / "r"),
                  cwd=tmp_path)
    assert result.returncode == 1
    assert "Error:" in result.stderr and "job.csv:7" in result.stderr
    assert leaked(result.stdout + result.stderr) == set()
    assert leaked(next((tmp_path / "r").glob("failed/*/manifest.json")).read_text()) == set()


def test_library_logs_hold_no_cpr(tiny, tmp_path, caplog):
    from datetime import date

    from targetgroup.pipeline import RunSettings, run_pipeline

    caplog.set_level(logging.DEBUG)
    run_pipeline(RunSettings(sources=tiny, as_of=date(2026, 11, 1), out=tmp_path / "r"))
    assert leaked(caplog.text) == set()


def test_leak_detector_can_fail():
    assert leaked("row 010180-0001") == {"010180-****"}
