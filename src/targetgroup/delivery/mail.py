"""Sending notices over SMTP (smtplib): one connection per delivery, one message per notice.

    with connect(mail, base) as smtp:                       # TLS or STARTTLS, then AUTH if configured
        outcome = send(smtp, message(notice, ...), recipients)   # recipient -> (state, error)

A message is an `EmailMessage` with a plain-text body and an HTML alternative, and a
Message-ID made from the run id and the notice's key only (`message_id`), so the same notice
sent twice is recognisable as one. `send` answers per recipient: 'delivered', 'pending' (the
server said try later, 4xx, or could not be reached) or 'failed' (it refused, 5xx). Error texts
name the server's reply code and class, never a secret: `SmtpProblem` carries them.
"""

from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl
from contextlib import contextmanager
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from targetgroup.delivery.config import Mail
from targetgroup.delivery.texts import Notice
from targetgroup.privacy import scrub

Outcome = dict[str, tuple[str, str | None]]


class SmtpProblem(Exception):
    """The whole connection failed: `state` is 'pending' (try later) or 'failed' (refused)."""

    def __init__(self, state: str, text: str):
        self.state, self.text = state, text
        super().__init__(text)


def message_id(run_id: str, key: str, sender: str) -> str:
    """<run-id.hash-of-key@domain-of-sender>: the same for the same run and notice."""
    digest = hashlib.sha256(f"{run_id}\x00{key}".encode()).hexdigest()[:16]
    return f"<{run_id}.{digest}@{sender.rpartition('@')[2]}>"


def message(notice: Notice, sender: str, recipients: list[str], msg_id: str, lang: str) -> EmailMessage:
    """The mail: From, To, Subject, Date, Message-ID, Content-Language; text plus HTML."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = notice.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(notice.text)
    msg.add_alternative(notice.html, subtype="html")
    msg["Content-Language"] = lang   # after the parts: making them moves Content-* headers down
    return msg


def _context(mail: Mail, base: Path) -> ssl.SSLContext:
    cafile = str(base / mail.ca_file) if mail.ca_file else None
    return ssl.create_default_context(cafile=cafile)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return scrub(f"{code} {' '.join(str(text).split())}")[:200]


@contextmanager
def connect(mail: Mail, base: Path) -> Iterator[smtplib.SMTP]:
    """An open, authenticated SMTP connection; raises SmtpProblem when there is none."""
    where = f"{mail.host}:{mail.port}"
    try:
        if mail.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout,
                                                  context=_context(mail, base))
        else:
            smtp = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpProblem("pending", f"cannot reach the mail server {where} ({type(exc).__name__})") from None
    try:
        try:
            smtp.ehlo()
            if mail.security == "starttls":
                smtp.starttls(context=_context(mail, base))
                smtp.ehlo()
            if mail.username is not None:
                smtp.login(mail.username.value(base), mail.password.value(base))
        except smtplib.SMTPAuthenticationError as exc:
            raise SmtpProblem("failed", f"the mail server {where} refused the login ({_reply(exc.smtp_code, exc.smtp_error)})"
                              ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SmtpProblem("failed", f"the mail server {where} does not offer what security or login "
                                        f"needs ({type(exc).__name__})") from None
        except ssl.SSLError as exc:
            raise SmtpProblem("failed", f"TLS with the mail server {where} failed ({type(exc).__name__}: "
                                        f"{exc.reason or 'handshake'})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpProblem("pending", f"the mail server {where} broke off ({type(exc).__name__})") from None
        yield smtp
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def send(smtp: smtplib.SMTP, msg: EmailMessage, recipients: list[str]) -> Outcome:
    """Send `msg` to `recipients` in one transaction; the outcome per recipient."""
    def state(code: int) -> str:
        return "pending" if 400 <= code < 500 else "failed"
    try:
        refused = smtp.send_message(msg, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        refused = exc.recipients
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        text = f"the mail server refused the message ({_reply(exc.smtp_code, exc.smtp_error)})"
        return {r: (state(exc.smtp_code), text) for r in recipients}
    except (OSError, smtplib.SMTPException, socket.timeout) as exc:
        text = f"the connection to the mail server broke off ({type(exc).__name__})"
        return {r: ("pending", text) for r in recipients}
    outcome: Outcome = {r: ("delivered", None) for r in recipients}
    for rcpt, (code, text) in refused.items():
        outcome[rcpt] = (state(code), f"the mail server refused this recipient ({_reply(code, text)})")
    return outcome
