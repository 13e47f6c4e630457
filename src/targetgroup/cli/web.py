"""`targetgroup serve`, `targetgroup users add|list|remove|passwd` and `targetgroup access-log`:
the read-only citizen overview in the browser (targetgroup.web, docs/web.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from targetgroup.cli import app, err, fail, parse_date, stdout

OutOpt = Annotated[Path, typer.Option("--out", help="Folder of run reports (holds the warehouse, users.yaml and access_log.duckdb).")]
WarehouseOpt = Annotated[Optional[Path], typer.Option("--warehouse", help="DuckDB warehouse file; default OUT/warehouse.duckdb (its reader copy is what is read).")]
UsersOpt = Annotated[Optional[Path], typer.Option("--users", help="Users file; default OUT/users.yaml.")]
LogOpt = Annotated[Optional[Path], typer.Option("--access-log-file", help="Access log file; default access_log.duckdb beside the warehouse.")]

users_app = typer.Typer(help="Maintain the web overview's users file (argon2id password hashes, roles, departments).",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


def _paths(out: Path, warehouse: Path | None, users: Path | None, log: Path | None) -> tuple[Path, Path, Path]:
    from targetgroup.web.access_log import DEFAULT_NAME as LOG_NAME  # noqa: PLC0415
    from targetgroup.web.users import DEFAULT_NAME as USERS_NAME  # noqa: PLC0415

    wh = warehouse or out / "warehouse.duckdb"
    return wh, users or out / USERS_NAME, log or wh.parent / LOG_NAME


@app.command()
def serve(
    out: OutOpt = Path("reports"),
    warehouse: WarehouseOpt = None,
    users: UsersOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; anything but loopback needs TLS or --behind-tls-proxy.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    tls_cert: Annotated[Optional[Path], typer.Option("--tls-cert", help="TLS certificate (PEM) to serve HTTPS.")] = None,
    tls_key: Annotated[Optional[Path], typer.Option("--tls-key", help="TLS private key (PEM).")] = None,
    behind_tls_proxy: Annotated[bool, typer.Option("--behind-tls-proxy", help="A TLS-terminating proxy is in front (cookies are then Secure).")] = False,
    trust_header: Annotated[Optional[str], typer.Option("--trust-header", help="Single sign-on: the header naming the logged-in user, set by the proxy.")] = None,
    trusted_proxy: Annotated[Optional[str], typer.Option("--trusted-proxy", help="Single sign-on: the proxy's address; the header is believed only from it.")] = None,
    idle_minutes: Annotated[float, typer.Option("--idle-minutes", min=1, help="Log out after this many idle minutes.")] = 15,
    access_log_days: Annotated[int, typer.Option("--access-log-days", min=1, help="Keep access-log rows this many days.")] = 365,
    access_log_file: LogOpt = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the list headings: da or en.")] = "da",
) -> None:
    """Serve the read-only citizen overview (department list, one citizen, leadership, access log)."""
    from targetgroup.web.app import WebSettings  # noqa: PLC0415
    from targetgroup.web.server import check_bind, check_sso  # noqa: PLC0415
    from targetgroup.web.server import serve as run_server  # noqa: PLC0415

    if lang not in ("da", "en"):
        raise typer.BadParameter("--lang must be da or en")
    wh, users_path, log_path = _paths(out, warehouse, users, access_log_file)
    try:
        check_bind(host, tls_cert, tls_key, behind_tls_proxy)
        check_sso(trust_header, trusted_proxy)
        from targetgroup.web.users import load  # noqa: PLC0415

        load(users_path)   # a missing or unsafe users file stops here, with what to do
        settings = WebSettings(warehouse=wh, users=users_path, access_log=log_path, idle_minutes=idle_minutes,
                               access_log_days=access_log_days, secure_cookie=bool(tls_cert) or behind_tls_proxy,
                               trust_header=trust_header, trusted_proxy=trusted_proxy, lang=lang)
        scheme = "https" if tls_cert else "http"
        err.print(f"Serving the citizen overview on {scheme}://{host}:{port}/ (Ctrl-C stops it)")
        run_server(settings, host, port, tls_cert, tls_key)
    except Exception as exc:  # noqa: BLE001
        fail(exc)


def _password(password_stdin: bool, prompt: bool) -> str | None:
    if password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if prompt:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return None


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option("--role", help="caseworker, leader or admin.")],
    department: Annotated[Optional[list[str]], typer.Option("--department", help="A caseworker's department (repeatable).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")] = False,
    sso: Annotated[bool, typer.Option("--sso", help="No password: the user logs in through the single sign-on proxy.")] = False,
    users: UsersOpt = None,
    out: OutOpt = Path("reports"),
) -> None:
    """Add a user (the password is asked for, or read with --password-stdin)."""
    from targetgroup.web import users as users_file  # noqa: PLC0415

    try:
        _, path, _ = _paths(out, None, users, None)
        found = users_file.load(path, missing_ok=True)
        found.add(name, role, list(department or []), None if sso else _password(password_stdin, prompt=True))
        found.save()
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    err.print(f"User {name} ({role}) added to {path}.")


@users_app.command("list")
def users_list(users: UsersOpt = None, out: OutOpt = Path("reports")) -> None:
    """List the users: name, role, departments, how they log in (no hashes)."""
    from targetgroup.web import users as users_file  # noqa: PLC0415

    try:
        _, path, _ = _paths(out, None, users, None)
        found = users_file.load(path)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    table = Table(title=f"Users in {path}")
    for col in ("name", "role", "departments", "log-in"):
        table.add_column(col)
    for user in sorted(found.users.values(), key=lambda u: u.name):
        table.add_row(user.name, user.role, ", ".join(user.departments),
                      "password" if user.password_hash else "single sign-on")
    stdout.print(table)


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="User name.")], users: UsersOpt = None,
                 out: OutOpt = Path("reports")) -> None:
    """Remove a user (a running server ends their sessions at their next request)."""
    from targetgroup.web import users as users_file  # noqa: PLC0415

    try:
        _, path, _ = _paths(out, None, users, None)
        found = users_file.load(path)
        found.remove(name)
        found.save()
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    err.print(f"User {name} removed.")


@users_app.command("passwd")
def users_passwd(name: Annotated[str, typer.Argument(help="User name.")],
                 password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")] = False,
                 users: UsersOpt = None, out: OutOpt = Path("reports")) -> None:
    """Set a user's password."""
    from targetgroup.web import users as users_file  # noqa: PLC0415

    try:
        _, path, _ = _paths(out, None, users, None)
        found = users_file.load(path)
        found.set_password(name, _password(password_stdin, prompt=True))
        found.save()
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    err.print(f"Password of {name} changed.")


@app.command("access-log")
def access_log_command(
    user: Annotated[Optional[str], typer.Option("--user", help="Only this user's rows.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only rows from this day on (YYYY-MM-DD).")] = None,
    show_cpr: Annotated[bool, typer.Option("--show-cpr", help="Print the citizens' full CPR numbers (a look-up about named citizens: use it for an inquiry only).")] = False,
    out: OutOpt = Path("reports"),
    warehouse: WarehouseOpt = None,
    access_log_file: LogOpt = None,
) -> None:
    """Print the web overview's access log: who looked at which citizen or list, when (CPR masked)."""
    from targetgroup.cpr import mask  # noqa: PLC0415
    from targetgroup.web import access_log  # noqa: PLC0415

    try:
        _, _, path = _paths(out, warehouse, None, access_log_file)
        rows = access_log.read(path, user=user, since=parse_date(since) if since else None)
    except typer.BadParameter:
        raise
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    table = Table(title="Access log")
    for col in ("time", "user", "role", "page", "department", "citizen", "outcome", "address"):
        table.add_column(col, no_wrap=col in ("time", "citizen"))
    for r in rows:
        citizen = (r["cpr"] if show_cpr else mask(r["cpr"])) if r["cpr"] else ""
        table.add_row(f"{r['logged_at']:%Y-%m-%d %H:%M:%S}", r["user_name"] or "", r["role"] or "", r["page"],
                      r["department"] or "", citizen, r["outcome"], r["address"] or "")
    stdout.print(table)
    err.print(f"{len(rows)} rows")
