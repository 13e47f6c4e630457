"""Delivery of a committed night against a real SMTP server on loopback (aiosmtpd, STARTTLS, AUTH).

Expected values come from the delivery file the test wrote (departments, addresses) and from
the extracts themselves (CPR numbers, names, case ids), never from the pipeline's tables.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from targetgroup.cli import app
from targetgroup.config import load_sources
from tests.delivery.conftest import AS_OF, CASEWORKERS, DEPARTMENT_MAIL, OPERATIONS, write_delivery
from tests.delivery.smtp import PASSWORD

SENDER_DOMAIN = "example.kommune.dk"


def deliver(night, *args: str):
    return CliRunner().invoke(app, ["deliver", "--out", str(night.out), "--delivery", str(night.delivery), *args])


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def message_ids(server) -> Counter:
    return Counter(parsed(raw)["Message-ID"] for _, raw in server.messages)


def accepted(server) -> Counter:
    """(Message-ID, recipient) -> how many times the server accepted it."""
    return Counter((parsed(raw)["Message-ID"], r) for rcpts, raw in server.messages for r in rcpts)


def personal_data(sources_file: Path) -> dict[str, set[str]]:
    """CPR numbers, citizens' names, case ids and case types, read from the extracts themselves."""
    config = load_sources(sources_file)
    persons = pd.read_csv(config.base / config.persons.path, dtype=str)
    cprs = {re.sub(r"\D", "", c).zfill(10) for c in persons[config.persons.columns["cpr"]].dropna()}
    names = set(persons[config.persons.columns["name"]].dropna())
    surnames = {n.split()[-1] for n in names if len(n.split()[-1]) >= 4}
    cases, types = set(), set()
    for src in config.sources:
        frame = pd.read_csv(config.base / src.path, dtype=str, sep=src.delimiter, encoding=src.encoding)
        cases |= set(frame[src.columns["case_id"]].dropna())
        types |= set(src.case_types)
    departments = {d.name for d in config.departments.values()} | {d.name_en for d in config.departments.values()}
    return {"cpr": cprs, "name": names, "surname": surnames, "case": cases, "case type": types,
            "department": departments}


def leaks(text: str, data: dict[str, set[str]], run_id: str) -> list[str]:
    # a run id (20261127T182950-1234) and the Message-ID's hash may look CPR-shaped by chance
    shaped = re.sub(r"<[^>]*>", "", text.replace(run_id, ""))
    found = [f"CPR-shaped number {m}" for m in re.findall(r"(?<!\d)\d{6}-?\d{4}(?!\d)", shaped)]
    digits = re.sub(r"[-\s]", "", text)
    found += [f"cpr {c[:6]}-****" for c in data["cpr"] if c in digits]
    found += [f"name {n}" for n in data["name"] if n in text]
    words = set(re.findall(r"\w+", text))
    found += [f"surname {n}" for n in data["surname"] if n in words]
    found += [f"case id {c}" for c in data["case"] if re.search(rf"(?<!\w){re.escape(c)}(?!\w)", text)]
    # a department may be named like a case type ("Sundhed og Psykiatri", "Psykiatri"): its name is no case detail
    without = text
    for name in sorted(data["department"], key=len, reverse=True):
        without = without.replace(name, "")
    found += [f"case type {t}" for t in data["case type"] if t in without]
    return found


def full_text(msg: email.message.EmailMessage) -> str:
    parts = [f"{k}: {v}" for k, v in msg.items()]
    parts += [part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"]
    return "\n".join(parts)


def states(night) -> Counter:
    return Counter(state for *_, state, _, _ in night.ledger())


def test_committed_run_with_mail_server_down_exits_5_and_keeps_mail_pending(committed_night):
    assert "Delivery pending" in committed_night.cli_output
    found = Counter((kind, state) for kind, _, _, state, _, _ in committed_night.ledger())
    assert found[("folder", "delivered")] == 3 and found[("system", "delivered")] == 1
    assert found[("mail", "pending")] > 0 and ("mail", "delivered") not in found
    run_folder = committed_night.out / f"{AS_OF}_{committed_night.run_id}"
    alert = (run_folder / "ALERT.txt").read_text()
    assert "targetgroup deliver --run" in alert and "ConnectionRefusedError" in alert
    # the files went out all the same: three departments, one system, each with LATEST
    night_name = f"{AS_OF}_{committed_night.run_id}"
    for code, share in committed_night.shares().items():
        delivered = sorted(p.name for p in (share / night_name).iterdir())
        expected = ([f"actions_{code}.csv", f"actions_{code}.json"] if code == "Momentum" else
                    [f"flags_{code}.csv", f"flags_{code}.xlsx", f"notices_{code}.csv"])
        assert delivered == sorted(expected)
        for name in delivered:
            assert (share / night_name / name).read_bytes() == (run_folder / name).read_bytes()
            assert (share / night_name / name).stat().st_mode & 0o777 == 0o640
        assert (share / "LATEST").read_text().splitlines()[0] == night_name


def test_every_department_mail_arrives_with_counts_only(night, smtp):
    result = deliver(night)
    assert result.exit_code == 0, result.output
    assert states(night) == Counter({"delivered": len(night.ledger())})
    data = personal_data(night.sources)
    subjects: dict[str, list[str]] = {}
    for rcpts, raw in smtp.messages:
        msg = parsed(raw)
        text = full_text(msg)
        assert leaks(text, data, night.run_id) == [], msg["Subject"]
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert msg["Message-ID"].startswith(f"<{night.run_id}.") and msg["Content-Language"] == "da"
        for r in rcpts:
            subjects.setdefault(r, []).append(msg["Subject"])
    departments = {a: d for d, addresses in DEPARTMENT_MAIL.items() for a in addresses}
    mailed = {a for a in subjects if a in departments}
    # every department with changes got its mail; the subject names the date and the department
    assert {departments[a] for a in mailed} >= {"BUF", "JOB", "SOC"}
    for address in mailed:
        (subject,) = subjects[address]
        assert AS_OF in subject and f"({departments[address]})" in subject
    assert set(subjects) - set(departments) <= {*CASEWORKERS.values(), OPERATIONS}
    assert OPERATIONS in subjects
    # the two BUF addresses share one mail: one Message-ID, one message
    assert len(message_ids(smtp)) == len(smtp.messages)
    body = next(parsed(raw) for rcpts, raw in smtp.messages if "jobcenter-team@example.kommune.dk" in rcpts)
    plain = body.get_body(("plain",)).get_content()
    assert str(night.shares()["JOB"] / f"{AS_OF}_{night.run_id}") in plain
    assert re.search(r"nye: \d+", plain) and "afventer samtykke:" in plain
    runs = CliRunner().invoke(app, ["runs", "--out", str(night.out)])
    total = len(night.ledger())
    assert f"delivered {total}/{total}" in runs.output


def test_server_down_then_up_delivers_once(night, certificate):
    from tests.delivery.smtp import SmtpServer  # noqa: PLC0415

    down = deliver(night)
    assert down.exit_code == 5, down.output
    assert "Delivery pending" in down.output
    mails = [row for row in night.ledger() if row[0] == "mail"]
    assert {(state, attempts) for _, _, _, state, attempts, _ in mails} == {("pending", 1)}
    assert all("cannot reach the mail server" in error for *_, error in mails)
    assert "pending" in CliRunner().invoke(app, ["runs", "--out", str(night.out)]).output
    server = SmtpServer(certificate, night.port).start()
    try:
        up = deliver(night)
        assert up.exit_code == 0, up.output
        assert deliver(night).output.startswith("Nothing to deliver")
        total = len(night.ledger())
        again = deliver(night, "--run", night.run_id)   # asked for by name: still nothing is sent again
        assert again.exit_code == 0 and f"delivered {total}/{total}" in again.output
    finally:
        server.stop()
    assert set(accepted(server).values()) == {1}
    assert sum(accepted(server).values()) == len(mails)
    folders = [row for row in night.ledger() if row[0] != "mail"]
    assert {(state, attempts) for _, _, _, state, attempts, _ in folders} == {("delivered", 1)}


def test_authentication_failure_is_recorded_without_the_password(night, smtp):
    write_delivery(night.root, night.port, password="wrong-fake-password-Zz9")
    result = deliver(night)
    assert result.exit_code == 5
    assert smtp.messages == []
    mails = [row for row in night.ledger() if row[0] == "mail"]
    assert {state for _, _, _, state, _, _ in mails} == {"failed"}
    assert all("refused the login (535" in error for *_, error in mails)
    for text in [result.output, *(error for *_, error in night.ledger() if error)]:
        assert "wrong-fake-password" not in text and PASSWORD not in text
    write_delivery(night.root, night.port)   # the right password: delivered now, each once
    assert deliver(night).exit_code == 0
    assert set(accepted(smtp).values()) == {1} and len(accepted(smtp)) == len(mails)


def test_one_refused_recipient_is_the_only_one_retried(night, smtp):
    refused = "buf-leder@example.kommune.dk"
    smtp.handler.refuse = {refused}
    first = deliver(night)
    assert first.exit_code == 5
    rows = {(t, r): (state, error) for kind, t, r, state, _, error in night.ledger() if kind == "mail"}
    assert rows[("BUF", refused)][0] == "failed" and "550" in rows[("BUF", refused)][1]
    assert all(state == "delivered" for key, (state, _) in rows.items() if key != ("BUF", refused))
    before = len(smtp.messages)
    smtp.handler.refuse = set()
    assert deliver(night).exit_code == 0
    new = smtp.messages[before:]
    assert [rcpts for rcpts, _ in new] == [[refused]]
    # the retry carries the same Message-ID as the mail the other BUF address got
    buf = [parsed(raw)["Message-ID"] for rcpts, raw in smtp.messages if "buf-visitation@example.kommune.dk" in rcpts]
    assert parsed(new[0][1])["Message-ID"] == buf[0]
    assert set(accepted(smtp).values()) == {1}


def test_unwritable_folder_stays_pending_and_is_delivered_once_fixed(night, smtp):
    share = night.shares()["JOB"]
    night_name = f"{AS_OF}_{night.run_id}"
    (share / night_name).write_text("in the way")   # the night's folder cannot be made
    result = deliver(night)
    assert result.exit_code == 5
    rows = {(kind, t): (state, error) for kind, t, _, state, _, error in night.ledger()}
    assert rows[("folder", "JOB")][0] == "pending" and "cannot write into" in rows[("folder", "JOB")][1]
    assert rows[("folder", "BUF")][0] == "delivered" and rows[("system", "Momentum")][0] == "delivered"
    (share / night_name).unlink()
    assert deliver(night).exit_code == 0
    assert (share / night_name / "flags_JOB.xlsx").is_file()
    attempts = {(kind, t): a for kind, t, _, _, a, _ in night.ledger()}
    assert attempts[("folder", "JOB")] == 2 and attempts[("folder", "BUF")] == 1


@pytest.mark.slow
def test_kill_during_delivery_then_deliver_again_gives_every_target_once(night, smtp):
    smtp.handler.hold_at = 2   # the third mail waits in the server while the process is killed
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "targetgroup", "deliver", "--out", str(night.out),
                             "--delivery", str(night.delivery)], env=env, cwd=night.root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert smtp.handler.held.wait(60), "the delivery never reached the third mail"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    smtp.handler.release.set()   # the held message is answered 451 to nobody: never accepted
    time.sleep(0.2)
    before = night.ledger()
    delivered_before = {(k, t, r) for k, t, r, state, _, _ in before if state == "delivered"}
    assert len(smtp.messages) == 2
    assert len([k for k, *_ in delivered_before if k == "mail"]) == sum(len(rcpts) for rcpts, _ in smtp.messages)
    assert {k for k, *_ in delivered_before} == {"folder", "system", "mail"}
    result = deliver(night)
    assert result.exit_code == 0, result.output
    after = night.ledger()
    assert {state for *_, state, _, _ in after} == {"delivered"}
    # every mail target accepted exactly once; nothing delivered before the kill was repeated
    got = accepted(smtp)
    assert set(got.values()) == {1}
    assert sorted(r for _, r in got) == sorted(r for k, _, r, *_ in after if k == "mail")
    for kind, target, recipient, _, attempts, _ in after:
        if (kind, target, recipient) in delivered_before:
            assert attempts == 1
