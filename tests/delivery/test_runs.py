"""Runs and delivery: a dry run is never delivered; a failed run mails operations (no CPR);
notices in English; the nightly flow takes the delivery file as a path parameter or from the env."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.delivery import mail, texts
from tests.conftest import AS_OF, BUF_CSV, write_municipality
from tests.delivery.conftest import OPERATIONS, write_delivery
from tests.delivery.smtp import SmtpServer, free_port

TINY_DELIVERY_DEPARTMENTS = {"BUF": ["buf@example.kommune.dk"], "JOB": ["job@example.kommune.dk"]}


@pytest.fixture
def tiny_night(tmp_path, certificate):
    """The tiny municipality, a delivery file for it and a running SMTP server."""
    sources = write_municipality(tmp_path / "input")
    (tmp_path / "smtp-cert.pem").write_bytes(certificate.cert.read_bytes())
    server = SmtpServer(certificate, free_port()).start()
    delivery = write_delivery(tmp_path, server.port)
    # the tiny municipality has BUF, JOB and SOC (no SUND, UNG): keep the departments it declares
    text = delivery.read_text()
    text = re.sub(r"      (SUND|UNG): .*\n", "", text)
    delivery.write_text(text)
    yield sources, delivery, server
    server.stop()


def test_a_failed_run_mails_operations_the_cause_without_cpr(tmp_path, tiny_night):
    sources, delivery, server = tiny_night
    # a BUF row with a CPR the pipeline rejects, and a missing column: the run stops at the extract
    write_municipality(tmp_path / "input", **{"buf.csv": BUF_CSV.replace("Sagsnr", "Sagsnummer")})
    result = CliRunner().invoke(app, ["run", "--as-of", AS_OF, "--sources", str(sources), "--out",
                                      str(tmp_path / "reports"), "--delivery", str(delivery), "--quiet"])
    assert result.exit_code == 1
    assert [rcpts for rcpts, _ in server.messages] == [[OPERATIONS]]
    msg = email.message_from_bytes(server.messages[0][1], policy=email.policy.default)
    body = msg.get_body(("plain",)).get_content()
    assert "fejlede" in msg["Subject"] and AS_OF in msg["Subject"]
    assert "Sagsnr" in body and "buf.csv" in body   # the cause: the file and what is wrong with it
    assert not re.search(r"\d{6}-?\d{4}", body.replace(AS_OF, ""))


@pytest.mark.slow
def test_a_dry_run_is_never_delivered(tmp_path, tiny_night):
    sources, delivery, server = tiny_night
    result = CliRunner().invoke(app, ["run", "--as-of", AS_OF, "--sources", str(sources), "--out",
                                      str(tmp_path / "reports"), "--delivery", str(delivery), "--dry-run", "--quiet"])
    assert result.exit_code == 0, result.output
    assert server.messages == []
    for share in ("share/buf", "share/job", "share/soc", "integration/momentum"):
        assert list((tmp_path / share).iterdir()) == []
    assert not (tmp_path / "reports" / "warehouse.duckdb").exists()


def test_english_notice_and_message_headers():
    notice = texts.list_notice("en", date(2026, 11, 1), "JOB", "Jobcentre",
                               {"new": 3, "updated": 1, "ended": 0, "awaiting": 2}, "/srv/share/job/x")
    assert notice.subject == "Target-group list 2026-11-01: Jobcentre (JOB)"
    assert "  new: 3\n  updated: 1\n  ended: 0\n  awaiting consent: 2\n" in notice.text
    assert "/srv/share/job/x" in notice.text and "<code>/srv/share/job/x</code>" in notice.html
    msg = mail.message(notice, "a@example.dk", ["b@example.dk"], mail.message_id("RUN", "JOB", "a@example.dk"), "en")
    assert msg["Content-Language"] == "en" and msg["Message-ID"] == mail.message_id("RUN", "JOB", "x@example.dk")
    assert mail.message_id("RUN", "JOB", "a@example.dk") != mail.message_id("RUN", "BUF", "a@example.dk")
    assert not texts.has_changes({"new": 0, "updated": 0, "ended": 0, "awaiting": 0})


def test_the_nightly_flow_takes_the_delivery_file_as_a_path(monkeypatch):
    from flows.pipeline import _settings  # noqa: PLC0415

    args = dict(as_of=date(2026, 11, 1), sources="s.yaml", out="o", warehouse=None, rules=None, lang=None,
                dry_run=False, rebuild=False)
    monkeypatch.delenv("TARGETGROUP_DELIVERY", raising=False)
    assert _settings(**args).delivery is None
    monkeypatch.setenv("TARGETGROUP_DELIVERY", "/etc/targetgroup/delivery.yaml")
    assert _settings(**args).delivery == Path("/etc/targetgroup/delivery.yaml")
    assert _settings(**args, delivery="d.yaml").delivery == Path("d.yaml")


def test_the_notice_names_the_folder_as_caseworkers_reach_it(tmp_path):
    from targetgroup.delivery.config import DeliveryConfig, Folder  # noqa: PLC0415
    from targetgroup.delivery.night import where  # noqa: PLC0415

    config = DeliveryConfig(folders={"BUF": "share/buf", "JOB": Folder(path="share/job", shown_as="\\\\fil01\\job\\"),
                                     "SOC": Folder(path="/srv/soc", shown_as="S:/soc")}, base=tmp_path)
    night = "2026-11-01_20261101T041500-3f9a"
    assert where(config, "BUF", night, tmp_path / "run") == str(tmp_path / "share" / "buf" / night)
    assert where(config, "JOB", night, tmp_path / "run") == "\\\\fil01\\job\\" + night
    assert where(config, "SOC", night, tmp_path / "run") == "S:/soc/" + night
    assert where(config, "UNG", night, tmp_path / "run") == str(tmp_path / "run")
