"""A throwaway PostgreSQL cluster for the tests: Debian's postgresql binaries, started once.

    cluster = start(folder)   # initdb + pg_ctl start on 127.0.0.1:<free port>; raises Unavailable
    cluster.uri(user, password)
    cluster.admin(sql)        # psql as the superuser over the cluster's unix socket
    cluster.stop()            # pg_ctl stop, folder removed

PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` system user (the
Debian package creates it) in a folder owned by that user. The server listens on 127.0.0.1 only,
with its unix socket inside the cluster folder. `.ci/run` installs the package.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise Unavailable("no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A running cluster: its folder, port and the command prefix that runs as its owner."""

    folder: Path
    port: int
    bin: Path
    as_owner: list[str]
    superuser: str

    def uri(self, user: str, password: str, database: str = "postgres", **params: str) -> str:
        """A libpq URI for `user` over TCP on 127.0.0.1 (a test credential, not a real one)."""
        query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
        return (f"postgresql://{quote(user)}:{quote(password)}@127.0.0.1:{self.port}/{database}"
                + (f"?{query}" if query else ""))

    def admin(self, sql: str, database: str = "postgres") -> str:
        """Run `sql` with psql as the superuser (unix socket, trust); returns psql's output."""
        psql = self.bin / "psql"
        if not psql.exists():
            psql = Path("/usr/bin/psql")
        done = subprocess.run([*self.as_owner, str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                               str(self.folder), "-p", str(self.port), "-U", self.superuser, "-d", database,
                               "-At", "-f", "-"], input=sql, capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        subprocess.run([*self.as_owner, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"),
                        "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Cluster:
    """initdb a new cluster in a temporary folder and start it; raises Unavailable when it cannot."""
    bin_dir = _bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="tg-pg-"))
    as_owner: list[str] = []
    superuser = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder, ignore_errors=True)
            raise Unavailable("running as root and there is no 'postgres' user to run the server as") from None
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_owner, superuser = ["runuser", "-u", "postgres", "--"], "postgres"
    data = folder / "data"
    port = _free_port()
    try:
        subprocess.run([*as_owner, str(bin_dir / "initdb"), "-D", str(data), "-U", superuser, "-A", "trust",
                        "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"],
                       check=True, capture_output=True, timeout=120)
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=20 "
                   "-c shared_buffers=32MB")
        subprocess.run([*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                        "-l", str(folder / "server.log"), "-w", "-t", "60", "start"],
                       check=True, capture_output=True, timeout=90)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        log = (folder / "server.log").read_text(errors="replace")[-500:] if (folder / "server.log").exists() else ""
        stderr = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"the test PostgreSQL server did not start: {stderr.decode(errors='replace')[-300:]} {log}")
    return Cluster(folder, port, bin_dir, as_owner, superuser)
