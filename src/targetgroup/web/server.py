"""Start the web overview: check where it may listen, then run uvicorn.

    check_bind(host, tls_cert, tls_key, behind_tls_proxy)   ConfigError unless loopback or TLS
    serve(settings, host, port, tls_cert, tls_key)          runs until stopped (Ctrl-C, SIGTERM)

By default it listens on 127.0.0.1. Any other address needs TLS here (certificate and key) or
the explicit statement that a TLS-terminating proxy is in front (`--behind-tls-proxy`): session
cookies and CPR numbers never cross a network in clear text. uvicorn's own request log is off
(it prints query strings); the application logs method, path and status instead.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from targetgroup.errors import ConfigError
from targetgroup.web.app import WebSettings, create_app

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def check_bind(host: str, tls_cert: Path | None, tls_key: Path | None, behind_tls_proxy: bool) -> None:
    """Refuse a non-loopback address without TLS settings or --behind-tls-proxy."""
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("give both --tls-cert and --tls-key")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise ConfigError("file not found", file=path)
    if host not in LOOPBACK and tls_cert is None and not behind_tls_proxy:
        raise ConfigError(f"--host {host} is not the loopback address: the pages would travel unencrypted",
                          hint="give --tls-cert and --tls-key, or --behind-tls-proxy if a TLS proxy is in front, "
                               "or keep the default --host 127.0.0.1")


def check_sso(trust_header: str | None, trusted_proxy: str | None) -> None:
    """--trust-header and --trusted-proxy come together."""
    if bool(trust_header) != bool(trusted_proxy):
        raise ConfigError("--trust-header and --trusted-proxy go together",
                          hint="the header is believed only when the request comes from the proxy's address")


def serve(settings: WebSettings, host: str, port: int, tls_cert: Path | None = None,
          tls_key: Path | None = None) -> None:
    """Run the application with uvicorn until the process is stopped."""
    import uvicorn  # noqa: PLC0415 - only the serve command needs it

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("targetgroup.web.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False, log_config=None,
                ssl_certfile=str(tls_cert) if tls_cert else None, ssl_keyfile=str(tls_key) if tls_key else None,
                proxy_headers=False, server_header=False, date_header=True)
