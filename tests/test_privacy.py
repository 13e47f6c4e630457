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


# --- the scrubber on every sink (issue 11, section 2: defence in depth) --------------------
# planted numbers are synthetic: 010199-99xx

def test_error_texts_are_scrubbed():
    from targetgroup.errors import InputError, RunError
    exc = InputError("status '0101999941' is not declared", file="job.csv", line=3, hint="see 101999942")
    assert "0101999941" not in str(exc) and "101999942" not in str(exc)
    assert "job.csv:3" in str(exc) and "010199-****" in str(exc)
    assert "010199-9943" not in str(RunError("010199-9943"))


def test_a_foreign_exception_leaves_the_pipeline_without_its_text(tiny, tmp_path, monkeypatch):
    from datetime import date

    import duckdb
    import pytest

    from targetgroup import pipeline
    from targetgroup.errors import RunError

    def broken(run):
        raise duckdb.ConversionException("Could not convert string '0101999944' to INT32")
    monkeypatch.setattr(pipeline, "identify", broken)
    with pytest.raises(RunError) as info:
        pipeline.run_pipeline(pipeline.RunSettings(sources=tiny, as_of=date(2026, 11, 1), out=tmp_path / "r"))
    assert "ConversionException" in str(info.value) and "0101999944" not in str(info.value)
    folder = next((tmp_path / "r" / "failed").glob("2026-11-01_*"))   # failed runs end in failed/
    for name in ("manifest.json", "FAILED.txt"):
        assert "0101999944" not in (folder / name).read_text()


def test_manifest_writer_scrubs_every_string(tiny, tmp_path):
    import json
    from datetime import date

    from targetgroup import pipeline

    run = pipeline.prepare(pipeline.RunSettings(sources=tiny, as_of=date(2026, 11, 1), out=tmp_path / "r"))
    run.close()
    run.manifest["planted"] = {"reason 0101999945": ["010199-9946", "status '101999947'"]}
    path = pipeline.finish(run, status="failed", error=None)
    text = path.read_text()
    assert not {"0101999945", "010199-9946", "101999947"} & set(re.findall(r"[\d-]{9,11}", text))
    assert json.loads(text)["planted"] == {"reason 010199-****": ["010199-****", "status '010199-****'"]}


def test_library_logging_is_scrubbed_once_a_run_is_prepared(tiny, tmp_path, caplog):
    from datetime import date

    from targetgroup import pipeline

    before = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)   # as in a fresh process
    try:
        run = pipeline.prepare(pipeline.RunSettings(sources=tiny, as_of=date(2026, 11, 1), out=tmp_path / "r"))
        run.close()
        with caplog.at_level(logging.INFO):
            logging.getLogger("some.library").warning("could not parse %s", "0101999948")
    finally:
        logging.setLogRecordFactory(before)
    assert "0101999948" not in caplog.text and "010199-****" in caplog.text


def test_cli_stderr_is_scrubbed_also_for_errors_the_cli_did_not_word(tmp_path):
    # click's own usage error quotes the option value typed: a CPR typed by mistake is masked
    result = _cli("run", "--as-of", "0101999949", "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert result.returncode != 0
    assert "0101999949" not in result.stderr + result.stdout
    assert "010199-****" in result.stderr


def test_a_pickled_error_holds_its_scrubbed_text_only():
    import pickle

    from targetgroup.errors import InputError
    exc = InputError("bad value", file="job.csv", line=3, hint="value was 0101999950")
    exc.message = "raw 0101999951"   # whatever an attribute holds, the pickle holds the rendered text
    data = pickle.dumps(exc)
    assert b"0101999950" not in data and b"0101999951" not in data
    back = pickle.loads(data)
    assert isinstance(back, InputError) and str(back) == str(exc) and "job.csv:3" in str(back)
