"""The web overview's application: pages, log-in, roles, CSRF, security headers, access log.

    create_app(WebSettings) -> FastAPI

Pages (server-rendered HTML, no JavaScript):
    GET  /login, POST /login, POST /logout
    GET  /list[?department=&team=&caseworker=]     caseworker: the department's list (flags_<DEPT>.xlsx)
    GET  /list/download?department=               caseworker: the Excel list itself (logged)
    GET  /citizen, POST /citizen                    caseworker: one citizen, looked up by POST only
    GET  /leadership                                leader: the leadership counts as published
    GET  /access-log[?user=&since=]                 admin: who looked at whom (CPR masked)

Rules: no session -> 303 to /login; a role the page is not for -> 403; a POST without the
session's CSRF token -> 403. A CPR is taken only from a POSTed form and never put in a URL, a
title, a redirect or a log line: the server's own request log (`targetgroup.web.access`) names
method, path without its query, and status. Every response is `Cache-Control: no-store` with a
Content-Security-Policy that allows no inline script, frames denied, no referrer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from targetgroup.cpr import mask, parse_typed
from targetgroup.errors import InputError
from targetgroup.web import access_log, users as users_file
from targetgroup.web.overview import Overview
from targetgroup.web.sessions import LockOut, Session, Sessions

COOKIE = "tg_session"
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
PATHS = {"/", "/login", "/logout", "/list", "/list/download", "/citizen", "/leadership", "/access-log"}
ROLE_HOME = {"caseworker": "/list", "leader": "/leadership", "admin": "/access-log"}
LOGIN_FAILED = "Wrong user name or password."
LOCKED = "Too many failed log-ins. Wait a few minutes and try again."
request_log = logging.getLogger("targetgroup.web.access")


@dataclass
class WebSettings:
    """What the server needs: the warehouse (its reader copy is read), the users file, the access
    log, timeouts and the single sign-on settings."""

    warehouse: Path
    users: Path
    access_log: Path
    idle_minutes: float = 15
    access_log_days: int = 365
    secure_cookie: bool = False
    trust_header: str | None = None
    trusted_proxy: str | None = None
    lang: str = "da"
    lockout_attempts: int = 5
    lockout_minutes: float = 5


class NotLoggedIn(Exception):
    """No valid session: the browser goes to the log-in page."""


class Forbidden(Exception):
    """A logged-in user asked for a page that is not for their role, or sent no valid CSRF token."""


class _UsersCache:
    """The users file, read again when it changes (users added or removed while the server runs)."""

    def __init__(self, path: Path):
        self.path, self._stamp, self._users = path, None, None

    def get(self) -> users_file.Users:
        stamp = self.path.stat().st_mtime_ns if self.path.exists() else None
        if self._users is None or stamp != self._stamp:
            self._users = users_file.load(self.path, missing_ok=True)
            self._stamp = stamp
        return self._users


def create_app(settings: WebSettings) -> FastAPI:
    """The application for `settings` (sessions live in this object: one per server process)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.sessions = Sessions(settings.idle_minutes * 60)
    app.state.lockout = LockOut(settings.lockout_attempts, 15 * 60, settings.lockout_minutes * 60)
    app.state.users = _UsersCache(settings.users)
    app.state.overview = Overview(settings.warehouse, settings.lang)
    env = jinja2.Environment(loader=jinja2.PackageLoader("targetgroup.web", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")
    pruned = {"on": date.today()}
    access_log.prune(settings.access_log, settings.access_log_days)

    def log(request: Request, session: Session | None, page: str, outcome: str, *, cpr: str | None = None,
            department: str | None = None, user: str | None = None) -> None:
        if pruned["on"] != date.today():   # retention: once a day while the server runs, and at start
            pruned["on"] = date.today()
            access_log.prune(settings.access_log, settings.access_log_days)
        access_log.record(settings.access_log, user=user or (session.user if session else None),
                          role=session.role if session else None, page=page, outcome=outcome, cpr=cpr,
                          department=department, address=_address(request))

    def page(request: Request, template: str, session: Session | None, status: int = 200, **context) -> HTMLResponse:
        html = env.get_template(template).render(session=session, **context)
        response = HTMLResponse(html, status_code=status)
        if getattr(request.state, "new_session", None) is not None:
            _set_cookie(response, request.state.new_session, settings.secure_cookie)
        return response

    def current(request: Request, *roles: str) -> Session:
        session = _resolve(request)
        if session is None or session.user is None:
            raise NotLoggedIn
        if roles and session.role not in roles:
            raise Forbidden
        return session

    def _resolve(request: Request) -> Session | None:
        sessions: Sessions = app.state.sessions
        session = sessions.get(request.cookies.get(COOKIE))
        if settings.trust_header and settings.trusted_proxy and _address(request) == settings.trusted_proxy:
            name = request.headers.get(settings.trust_header)
            user = app.state.users.get().users.get(name) if name else None
            if user is None:
                return None
            if session is None or session.user != user.name:
                sessions.drop(session.token if session else None)
                session = sessions.new(user.name, user.role, user.departments)
                request.state.new_session = session
            return session
        if session is not None and session.user is not None:
            user = app.state.users.get().users.get(session.user)
            if user is None or user.role != session.role or user.departments != session.departments:
                sessions.drop(session.token)   # removed or changed in the users file: log in again
                return None
        return session

    def check_csrf(session: Session | None, sent: str | None) -> None:
        if session is None or not session.csrf_ok(sent):
            raise Forbidden

    @app.middleware("http")
    async def headers_and_request_log(request: Request, call_next):
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers[name] = value
        # the application's own paths only, never a query string: a browser may send anything
        path = request.url.path
        if path not in PATHS and not path.startswith("/static/"):
            path = "(another path)"
        request_log.info('%s "%s %s" %s', _address(request), request.method, path, response.status_code)
        return response

    @app.exception_handler(NotLoggedIn)
    async def to_login(request: Request, exc: NotLoggedIn):
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        return HTMLResponse(env.get_template("forbidden.html").render(session=None), status_code=403)

    @app.get("/")
    def home(request: Request):
        session = current(request)
        return RedirectResponse(ROLE_HOME[session.role], status_code=303)

    @app.get("/login")
    def login_form(request: Request):
        session = _resolve(request)
        if session is not None and session.user is not None:
            return RedirectResponse(ROLE_HOME[session.role], status_code=303)
        if session is None:
            session = app.state.sessions.new()
            request.state.new_session = session
        return page(request, "login.html", session, message=None)

    @app.post("/login")
    async def login(request: Request):
        form = await request.form()
        session = _resolve(request)
        check_csrf(session, form.get("csrf"))
        name, password = str(form.get("name") or ""), str(form.get("password") or "")
        keys = [f"user:{name.lower()}", f"address:{_address(request)}"]
        known = app.state.users.get()
        user = known.verify(name, password)   # always the same work, locked or not
        # a name nobody has is not kept: it may be a password or a CPR typed into the wrong field
        logged_name = name if name in known.users else "(unknown name)"
        if app.state.lockout.locked(keys):
            log(request, None, "login", "locked", user=logged_name)
            return page(request, "login.html", session, status=429, message=LOCKED)
        if user is None:
            app.state.lockout.failed(keys)
            log(request, None, "login", "failed", user=logged_name)
            return page(request, "login.html", session, status=401, message=LOGIN_FAILED)
        app.state.lockout.succeeded(keys)
        app.state.sessions.drop(session.token)   # a new token at log-in (no session fixation)
        fresh = app.state.sessions.new(user.name, user.role, user.departments)
        log(request, fresh, "login", "ok")
        response = RedirectResponse(ROLE_HOME[user.role], status_code=303)
        _set_cookie(response, fresh, settings.secure_cookie)
        return response

    @app.post("/logout")
    async def logout(request: Request):
        form = await request.form()
        session = current(request)
        check_csrf(session, form.get("csrf"))
        app.state.sessions.drop(session.token)
        log(request, session, "logout", "ok")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def _department(session: Session, department: str | None) -> str:
        chosen = department or session.departments[0]
        if chosen not in session.departments:
            raise Forbidden
        return chosen

    @app.get("/list")
    def department_list(request: Request, department: str | None = None, team: str | None = None,
                        caseworker: str | None = None):
        session = current(request, "caseworker")
        dept = _department(session, department)
        listing = app.state.overview.department_list(dept, team or None, caseworker or None)
        log(request, session, "list", "shown", department=dept)
        return page(request, "list.html", session, listing=listing, team=team or "", caseworker=caseworker or "")

    @app.get("/list/download")
    def download(request: Request, department: str | None = None):
        session = current(request, "caseworker")
        dept = _department(session, department)
        path = app.state.overview.list_file(dept)
        log(request, session, "list_download", "downloaded" if path else "not_found", department=dept)
        if path is None:
            return page(request, "message.html", session, status=404, title="No list",
                        message="The last committed run's Excel list is not there (moved or deleted).")
        return FileResponse(path, filename=path.name,
                            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @app.get("/citizen")
    def citizen_form(request: Request):
        session = current(request, "caseworker")
        return page(request, "citizen_form.html", session, message=None)

    @app.post("/citizen")
    async def citizen(request: Request):
        form = await request.form()
        session = current(request, "caseworker")
        check_csrf(session, form.get("csrf"))
        try:
            value = parse_typed(str(form.get("cpr") or ""))
        except InputError:
            # not a look-up: nothing about any citizen was read (the typed text is not kept)
            return page(request, "citizen_form.html", session, status=400,
                        message="That is not a CPR number. Type the ten digits, e.g. 010190-1234.")
        found = app.state.overview.citizen(session.departments, value)
        log(request, session, "citizen", "shown" if found else "not_found", cpr=value,
            department=",".join(session.departments))
        if found is None:
            return page(request, "not_found.html", session)
        return page(request, "citizen.html", session, citizen=found, cpr_text=f"{value[:6]}-{value[6:]}",
                    run=app.state.overview.last_run())

    @app.get("/leadership")
    def leadership(request: Request):
        session = current(request, "leader")
        rows = app.state.overview.leadership()
        log(request, session, "leadership", "shown")
        return page(request, "leadership.html", session, rows=rows, run=app.state.overview.last_run())

    @app.get("/access-log")
    def access_log_page(request: Request, user: str | None = None, since: str | None = None):
        session = current(request, "admin")
        first = _date(since)
        rows = access_log.read(settings.access_log, user=user or None, since=first, limit=500)
        log(request, session, "access_log", "shown")
        shown = [{**r, "cpr": mask(r["cpr"]) if r["cpr"] else ""} for r in rows]
        return page(request, "access_log.html", session, rows=shown, user=user or "",
                    since=first.isoformat() if first else "")

    return app


def _set_cookie(response: Response, session: Session, secure: bool) -> None:
    response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict", secure=secure, path="/")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _date(value: str | None) -> date | None:
    if not value or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
