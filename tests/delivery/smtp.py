"""A real SMTP server on loopback for the delivery tests: aiosmtpd with STARTTLS and AUTH.

    cert = make_certificate(folder)                  # throwaway self-signed certificate for 127.0.0.1
    server = SmtpServer(cert).start()                # a free 127.0.0.1 port; STARTTLS required, AUTH required
    server.messages                                  # (envelope recipients, message bytes) per accepted message
    server.refuse = {"x@example.dk"}                 # RCPT TO these answers 550
    server.handler.hold_at = 1                       # the DATA after 1 accepted message waits (handler.held
                                                     # is set) until handler.release, then answers 451
    server.stop()

Only user USER with password PASSWORD may log in (PLAIN or LOGIN).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "maalgruppe-test"
PASSWORD = "fake-secret-Xq7!"


@dataclass
class Certificate:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""

    cert: Path
    key: Path


def make_certificate(folder: Path) -> Certificate:
    """Write a throwaway self-signed certificate for 127.0.0.1/localhost into `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "targetgroup test smtp")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    paths = Certificate(folder / "smtp-cert.pem", folder / "smtp-key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


def free_port() -> int:
    """A TCP port nobody listens on at this moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Handler:
    """Records accepted messages; refuses chosen recipients (`refuse`); can hold one DATA (`hold_at`)."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold_at is not None and len(self.messages) == self.hold_at:
            self.hold_at = None
            self.held.set()
            import asyncio  # noqa: PLC0415

            while not self.release.is_set():
                await asyncio.sleep(0.05)
            # the client is gone by now (killed): the message was never accepted
            return "451 4.3.0 try again later"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)   # a failure is answered 535


class SmtpServer:
    """aiosmtpd on 127.0.0.1 with STARTTLS required and AUTH (PLAIN, LOGIN) required."""

    def __init__(self, cert: Certificate, port: int | None = None):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert.cert, cert.key)
        self.handler = Handler()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, tls_context=context,
                                     require_starttls=True, authenticator=_authenticate, auth_required=True,
                                     auth_require_tls=True, ready_timeout=10)

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.handler.release.set()
        self.controller.stop()

    @property
    def messages(self) -> list[tuple[list[str], bytes]]:
        return self.handler.messages
