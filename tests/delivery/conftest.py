"""One committed sample night for the delivery tests, made once per session, copied per test.

The night is a generated sample municipality (400 citizens, fake CPR numbers) run through
`targetgroup run --delivery FILE` while no mail server listens: the run commits, the drop
folders are delivered, the mails stay pending and the command exits 5. Each test gets a copy
(`night`) whose deliveries are all pending again, with empty drop folders, and a delivery file
pointing at the test's own SMTP server (`smtp`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from tests.delivery.smtp import PASSWORD, USER, Certificate, SmtpServer, free_port, make_certificate

AS_OF = "2026-11-01"
DEPARTMENT_MAIL = {"BUF": ["buf-visitation@example.kommune.dk", "buf-leder@example.kommune.dk"],
                   "JOB": ["jobcenter-team@example.kommune.dk"], "SOC": ["socialteam@example.kommune.dk"],
                   "SUND": ["sundhed@example.kommune.dk"], "UNG": ["ungeguiden@example.kommune.dk"]}
CASEWORKERS = {"Lars Nørgaard": "lars.n@example.kommune.dk", "Mette Lund": "mette.l@example.kommune.dk"}
OPERATIONS = "drift@example.kommune.dk"
USER_ENV = "TG_TEST_SMTP_USER"


@dataclass
class Night:
    """A copy of the committed night: its folders, warehouse, run id and delivery file."""

    root: Path
    out: Path
    warehouse: Path
    run_id: str
    sources: Path
    delivery: Path
    port: int

    def shares(self) -> dict[str, Path]:
        """The drop folders by department code or system name."""
        return {"BUF": self.root / "share" / "buf", "JOB": self.root / "share" / "job",
                "SOC": self.root / "share" / "soc", "Momentum": self.root / "integration" / "momentum"}

    def ledger(self) -> list[tuple]:
        """(kind, target, recipient, state, attempts, last_error) of every target, ordered."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute("select kind, target, recipient, state, attempts, last_error from deliveries "
                               "order by kind, target, recipient").fetchall()
        finally:
            con.close()


def write_delivery(root: Path, port: int, **mail: object) -> Path:
    """The delivery file for `root`: three department folders, one system folder, mail to `port`."""
    for folder in ("share/buf", "share/job", "share/soc", "integration/momentum"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "smtp-password").write_text(str(mail.pop("password", PASSWORD)) + "\n")
    (root / "caseworkers.csv").write_text("caseworker,address\n" +
                                          "".join(f"{k},{v}\n" for k, v in CASEWORKERS.items()))
    departments = "".join(f"      {d}: [{', '.join(a)}]\n" for d, a in DEPARTMENT_MAIL.items())
    extra = "".join(f"  {k}: {v}\n" for k, v in mail.items())
    text = f"""\
folders:
  BUF: share/buf
  JOB: {{path: share/job}}
  SOC: share/soc
systems:
  Momentum: integration/momentum
keep_nights: 30
file_mode: "0640"
mail:
  host: 127.0.0.1
  port: {port}
  security: starttls
  from: maalgruppe@example.kommune.dk
  ca_file: smtp-cert.pem
  timeout: 10
  username: {{env: {USER_ENV}}}
  password: {{file: smtp-password}}
  departments:
{departments}  caseworkers: {{file: caseworkers.csv}}
  operations: [{OPERATIONS}]
  operations_summary: true
{extra}"""
    path = root / "delivery.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture(autouse=True)
def smtp_user(monkeypatch):
    monkeypatch.setenv(USER_ENV, USER)


@pytest.fixture(scope="session")
def committed_night(tmp_path_factory, certificate) -> Night:
    """The sample night, run once per test session through the CLI with the mail server down.
    Under pytest-xdist the workers share it: the first makes it under a lock, the others wait."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent   # shared by the workers of this session only
    root = base / "delivery-night"
    root.mkdir(exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            _make_night(root, certificate)
            (root / "done").write_text("")
    output = (root / "cli-output.txt").read_text()
    con = duckdb.connect(str(root / "reports" / "warehouse.duckdb"), read_only=True)
    run_id = con.execute("select run_id from runs").fetchone()[0]
    con.close()
    night = Night(root, root / "reports", root / "reports" / "warehouse.duckdb", run_id,
                  root / "input" / "sources.yaml", root / "delivery.yaml", 0)
    night.cli_output = output
    return night


def _make_night(root: Path, certificate: Certificate) -> None:
    from targetgroup.cli import app  # noqa: PLC0415
    from targetgroup.sample import generate  # noqa: PLC0415

    generate(root / "input", citizens=400, seed=7, fmt="csv")
    shutil.copy(certificate.cert, root / "smtp-cert.pem")
    delivery = write_delivery(root, free_port())   # nobody listens there: the mail stays pending
    os.environ[USER_ENV] = USER
    result = CliRunner().invoke(app, ["run", "--as-of", AS_OF, "--sources", str(root / "input" / "sources.yaml"),
                                      "--out", str(root / "reports"), "--delivery", str(delivery), "--quiet"])
    (root / "cli-output.txt").write_text(result.output)
    assert result.exit_code == 5, result.output


@pytest.fixture
def night(committed_night: Night, tmp_path: Path, certificate: Certificate) -> Night:
    """A copy of the committed night with every delivery pending again and empty drop folders."""
    src = committed_night
    root = tmp_path / "night"
    shutil.copytree(src.root / "input", root / "input")
    shutil.copytree(src.out, root / "reports")
    shutil.copy(certificate.cert, root / "smtp-cert.pem")   # this worker's server's certificate
    port = free_port()
    delivery = write_delivery(root, port)
    warehouse = root / "reports" / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("update deliveries set state = 'pending', attempts = 0, last_attempt_at = null, last_error = null")
    con.execute("update runs set report_dir = replace(report_dir, ?, ?), sources_file = replace(sources_file, ?, ?)",
                [str(src.root), str(root), str(src.root), str(root)])
    con.close()
    (root / "reports" / "warehouse.reader.duckdb").unlink(missing_ok=True)
    return Night(root, root / "reports", warehouse, src.run_id, root / "input" / "sources.yaml", delivery, port)


@pytest.fixture
def smtp(night: Night, certificate):
    """The test's SMTP server on the night's port (STARTTLS and AUTH required)."""
    server = SmtpServer(certificate, night.port).start()
    yield server
    server.stop()
