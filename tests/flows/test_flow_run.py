"""The nightly flow on the sample under Prefect's test harness; afterwards no CPR from the sample
may appear in Prefect's database or logs. The failure hook leaves ALERT.txt without CPR."""

import email
import email.policy
import logging
import re
from datetime import date
from pathlib import Path

import json

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def harness(tmp_path_factory):
    from prefect.testing.utilities import prefect_test_harness
    with prefect_test_harness(server_startup_timeout=120):
        from prefect.settings import get_current_settings
        yield get_current_settings()


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> Path:
    from targetgroup.config import SAMPLE_SOURCES
    if (SAMPLE_SOURCES.parent / "cpr_register.csv").exists():
        return SAMPLE_SOURCES
    from targetgroup.sample import generate
    out = tmp_path_factory.mktemp("sample")
    generate(out, reference_date=date(2026, 11, 1))
    return out / "sources.yaml"


def _sample_cprs(sources: Path) -> set[str]:
    persons = pd.read_csv(sources.parent / "cpr_register.csv", sep=None, engine="python", dtype=str,
                          encoding="utf-8-sig")
    column = next(c for c in persons.columns if "cpr" in c.lower())
    return {re.sub(r"\D", "", v).zfill(10) for v in persons[column].dropna()}


def _database_text(settings) -> str:
    url = settings.server.database.connection_url.get_secret_value()
    path = Path(url.split("///", 1)[1])
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).decode("latin-1")


@pytest.fixture
def prefect_records(monkeypatch):
    """Every log record sent to Prefect's API (stored in its database). Flow and task run loggers
    never reach pytest's caplog, and Prefect may configure logging again during a run, so the
    records are taken where Prefect's API handler receives them."""
    from prefect.logging.handlers import APILogHandler

    records: list[logging.LogRecord] = []
    original = APILogHandler.emit

    def emit(self, record):
        records.append(record)
        return original(self, record)
    monkeypatch.setattr(APILogHandler, "emit", emit)
    return records


@pytest.fixture
def delivery(tmp_path, monkeypatch):
    """A delivery file (three department folders, a system folder, mail) and its SMTP server on
    loopback (STARTTLS, AUTH; tests/delivery/smtp.py)."""
    from tests.delivery.conftest import USER_ENV, write_delivery
    from tests.delivery.smtp import USER, SmtpServer, free_port, make_certificate

    certificate = make_certificate(tmp_path / "delivery")
    (tmp_path / "delivery" / "smtp-cert.pem").write_bytes(certificate.cert.read_bytes())
    server = SmtpServer(certificate, free_port()).start()
    monkeypatch.setenv(USER_ENV, USER)
    yield write_delivery(tmp_path / "delivery", server.port), server
    server.stop()


def test_nightly_flow_on_the_sample_leaks_no_cpr(harness, sample, tmp_path, monkeypatch, prefect_records, delivery):
    from flows.pipeline import nightly
    from tests.delivery.smtp import PASSWORD
    monkeypatch.setenv("TARGETGROUP_PSEUDONYM_KEY", "k" * 40)
    delivery_file, smtp = delivery
    result = nightly(as_of=date(2026, 11, 1), sources=str(sample), out=str(tmp_path / "out"),
                     delivery=str(delivery_file))
    report_dir = Path(result["report_dir"])
    assert (report_dir / "leadership_report.html").exists() and result["flags"]["new"] > 50
    # delivered in a task after the commit: folders and mail, every target once
    assert re.fullmatch(r"delivered (\d+)/\1", result["delivery"]) and len(smtp.messages) >= 3
    assert (tmp_path / "delivery" / "share" / "buf" / "LATEST").exists()
    cprs = _sample_cprs(sample)
    assert len(cprs) > 1000
    db = _database_text(harness)
    assert "targetgroup-nightly" in db  # the scan reads the right database
    assert str(delivery_file) in db and PASSWORD not in db   # the delivery file's path, never a secret
    found = set(re.findall(r"\d{10}", re.sub(r"(\d{6})-(\d{4})", r"\1\2", db))) & cprs
    assert not found, f"{len(found)} CPR numbers in Prefect's database"
    messages = [r.getMessage() for r in prefect_records]
    # the scan reads the flow's own log lines: one per stage at least, and the closing line
    assert len(messages) >= 7 and any(m.startswith(f"run {result['run_id']} done:") for m in messages)
    logs = "\n".join(messages)
    assert not set(re.findall(r"\d{10}", re.sub(r"(\d{6})-(\d{4})", r"\1\2", logs))) & cprs


def test_failure_hook_leaves_an_alert_without_cpr(harness, sample, tmp_path, monkeypatch, delivery):
    from flows.pipeline import nightly
    from targetgroup import pipeline
    from targetgroup.errors import RunError

    def broken(run):
        raise RunError("deliberate failure in deliver")
    monkeypatch.setattr(pipeline, "deliver", broken)
    monkeypatch.setenv("TARGETGROUP_DELIVERY", str(delivery[0]))   # operations get a mail, too
    state = nightly(as_of=date(2026, 11, 1), sources=str(sample), out=str(tmp_path / "out"), return_state=True)
    assert state.is_failed()
    [alert] = list((tmp_path / "out").glob("failed/*/ALERT.txt"))   # a failed run: failed/<as-of>_<run-id>/
    text = alert.read_text()
    assert "ALERT" in text and "deliberate failure in deliver" in text
    assert (alert.parent / "FAILED.txt").exists()
    assert not set(re.findall(r"\d{10}", text)) & _sample_cprs(sample)
    assert not (tmp_path / "out" / "warehouse.duckdb").exists()
    [(recipients, raw)] = delivery[1].messages
    body = email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",)).get_content()
    assert recipients == ["drift@example.kommune.dk"] and "deliberate failure in deliver" in body
    assert not set(re.findall(r"\d{10}", re.sub(r"(\d{6})-(\d{4})", r"\1\2", body))) & _sample_cprs(sample)


def test_nightly_takes_what_the_cli_takes_and_alerts_with_the_cause(harness, tmp_path, monkeypatch):
    from flows.pipeline import nightly
    from targetgroup.rules import DEFAULT_RULES
    from tests.conftest import JOB_CSV, write_municipality

    rules = tmp_path / "from_env.yaml"
    rules.write_text(DEFAULT_RULES.read_text(encoding="utf-8")
                     .replace("name: default", "name: from_env"), encoding="utf-8")
    monkeypatch.setenv("TARGETGROUP_RULES", str(rules))
    monkeypatch.setenv("TARGETGROUP_LANG", "en")
    out = tmp_path / "out"
    sources = write_municipality(tmp_path / "in")
    first = nightly(as_of=date(2026, 11, 1), sources=str(sources), out=str(out))
    manifest = json.loads((Path(first["report_dir"]) / "manifest.json").read_text())
    assert manifest["rules"]["name"] == "from_env"                      # rules from the environment
    assert '<html lang="en">' in (Path(first["report_dir"]) / "leadership_report.html").read_text()
    # the jobcentre extract arrives cut to its first row: the volume guard stops the nightly
    write_municipality(tmp_path / "in", **{"job.csv": "\n".join(JOB_CSV.splitlines()[:2]) + "\n"})
    state = nightly(as_of=date(2026, 11, 2), sources=str(sources), out=str(out), return_state=True)
    assert state.is_failed()
    [alert] = list(out.glob("failed/2026-11-02_*/ALERT.txt"))
    text = alert.read_text()
    assert "volume guard" in text and "source job" in text and "rows dropped from 5 to 1" in text
    # no CPR, masked or not (a run id such as 20261127T170655-5772 is not one: it follows a letter)
    assert not re.findall(r"(?<![0-9A-Za-z])\d{6}-?(?:\d{4}|\*{4})", text)
    # accepted for that source through the environment, as --allow-drop job would
    monkeypatch.setenv("TARGETGROUP_ALLOW_DROP", "job")
    assert nightly(as_of=date(2026, 11, 2), sources=str(sources), out=str(out))["flags"]
    # the memory limit parameter reaches DuckDB: a nonsense one fails the flow, with the cause
    state = nightly(as_of=date(2026, 11, 3), sources=str(sources), out=str(out / "m"), memory_limit="lots",
                    return_state=True)
    assert state.is_failed() and "DuckDB refused the memory limit 'lots'" in (out / "m" / "ALERT.txt").read_text()
