"""The web overview over HTTP (FastAPI's TestClient): one committed run of the web town per module.

Every rule of issue 16: redirects, roles, CSRF, session expiry and log-out, lock-out, need-to-know
(a citizen the department does not serve answers like a number that does not exist), the access
log, no CPR in URLs or logs, security headers, and no write to the warehouse.
"""

from __future__ import annotations

import hashlib
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from targetgroup.reader import reader_path
from targetgroup.web import access_log
from targetgroup.web.app import COOKIE, HEADERS, LOCKED, LOGIN_FAILED, WebSettings, create_app
from tests.web.town import ANNA, BO, CPR_SHAPED, DORTE, NOBODY, PASSWORD, csrf_of, xlsx_rows



def settings(town, **changes) -> WebSettings:
    return WebSettings(warehouse=town["warehouse"], users=town["users"], access_log=town["log"], **changes)


@pytest.fixture(scope="module")
def app(town):
    return create_app(settings(town))


def login(app, name: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    form = client.get("/login")
    answer = client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(form.text)})
    assert answer.status_code == 303, answer.text
    return client


def look_up(client: TestClient, cpr: str):
    page = client.get("/citizen")
    return client.post("/citizen", data={"cpr": cpr, "csrf": csrf_of(page.text)})


class _Table(HTMLParser):
    """The cells of the table with id `wanted`, row by row."""

    def __init__(self, wanted: str):
        super().__init__()
        self.wanted, self.inside, self.rows, self.cell = wanted, False, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.wanted:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def table(html: str, wanted: str) -> list[list[str]]:
    parser = _Table(wanted)
    parser.feed(html)
    return parser.rows


def test_unauthenticated_requests_go_to_the_login_page(app):
    client = TestClient(app, follow_redirects=False)
    for path in ("/", "/list", "/list/download", "/citizen", "/leadership", "/access-log"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
    assert client.post("/citizen", data={"cpr": ANNA}).headers["location"] == "/login"
    assert client.get("/login").status_code == 200


def test_the_wrong_role_gets_403(app):
    sara, lea, ada = login(app, "sara"), login(app, "lea"), login(app, "ada")
    assert lea.get("/list").status_code == 403
    assert lea.get("/citizen").status_code == 403
    assert sara.get("/leadership").status_code == 403
    assert sara.get("/access-log").status_code == 403
    assert ada.get("/citizen").status_code == 403
    assert sara.get("/list", params={"department": "JOB"}).status_code == 403   # not her department
    assert sara.get("/list/download", params={"department": "JOB"}).status_code == 403
    assert lea.get("/leadership").status_code == 200 and ada.get("/access-log").status_code == 200


def test_a_missing_or_wrong_csrf_token_gets_403(app):
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    assert client.post("/login", data={"name": "sara", "password": PASSWORD}).status_code == 403
    assert client.post("/login", data={"name": "sara", "password": PASSWORD, "csrf": token + "x"}).status_code == 403
    sara = login(app, "sara")
    good = csrf_of(sara.get("/citizen").text)
    assert sara.post("/citizen", data={"cpr": ANNA}).status_code == 403
    assert sara.post("/citizen", data={"cpr": ANNA, "csrf": token}).status_code == 403   # another session's
    assert sara.post("/logout", data={}).status_code == 403
    assert sara.post("/citizen", data={"cpr": ANNA, "csrf": good}).status_code == 200


def test_the_session_cookie_is_httponly_samesite_strict_and_secure_behind_tls(town, app):
    client = TestClient(app, follow_redirects=False)
    cookie = client.get("/login").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    secure = TestClient(create_app(settings(town, secure_cookie=True)), follow_redirects=False)
    assert "Secure" in secure.get("/login").headers["set-cookie"]


def test_a_session_expires_after_the_idle_timeout_and_logout_ends_it(app, monkeypatch):
    sara = login(app, "sara")
    assert sara.get("/list").status_code == 200
    sessions = app.state.sessions
    now = sessions.clock()
    monkeypatch.setattr(sessions, "clock", lambda: now + 14 * 60)      # used within 15 minutes: alive
    assert sara.get("/list").status_code == 200
    monkeypatch.setattr(sessions, "clock", lambda: now + 30 * 60)      # 16 idle minutes later: gone
    assert sara.get("/list").headers["location"] == "/login"
    monkeypatch.undo()
    jens = login(app, "jens")
    token = jens.cookies[COOKIE]
    assert jens.post("/logout", data={"csrf": csrf_of(jens.get("/citizen").text)}).status_code == 303
    stolen = TestClient(app, follow_redirects=False, cookies={COOKIE: token})
    assert stolen.get("/list").headers["location"] == "/login"


def test_lockout_after_repeated_failures_and_the_same_answer_for_unknown_users(town):
    app = create_app(settings(town, lockout_attempts=3))   # its own lock-out state
    client = TestClient(app, follow_redirects=False)

    def attempt(name, password):
        return client.post("/login", data={"name": name, "password": password,
                                           "csrf": csrf_of(client.get("/login").text)})
    unknown, wrong = attempt("nobody", "x" * 20), attempt("sara", "x" * 20)
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.text == wrong.text and LOGIN_FAILED in wrong.text
    attempt("sara", "y" * 20)
    locked = attempt("sara", PASSWORD)                     # the right password, but locked now
    assert locked.status_code == 429 and LOCKED in locked.text
    assert COOKIE in client.cookies and "/list" not in locked.headers.get("location", "")


def test_department_list_is_the_excel_list_and_its_download_is_the_file(town, app):
    sara = login(app, "sara")
    page = sara.get("/list")
    rows = table(page.text, "department-list")
    shown = [tuple(r) for r in rows[1:]]
    expected = xlsx_rows(town["report_dir"] / "flags_BUF.xlsx")
    assert shown == expected and len(shown) == 1 and shown[0][1] == "010180-0001"   # Anna only (hand-worked)
    assert table(sara.get("/list", params={"team": "Familie Nord"}).text, "department-list")[1:] == []
    assert len(table(sara.get("/list", params={"caseworker": "Bjørn Buf"}).text, "department-list")) == 2
    download = sara.get("/list/download")
    assert download.status_code == 200
    assert download.content == (town["report_dir"] / "flags_BUF.xlsx").read_bytes()
    assert "flags_BUF.xlsx" in download.headers["content-disposition"]


def test_need_to_know_a_citizen_not_served_answers_like_a_number_that_does_not_exist(app):
    sara = login(app, "sara")
    anna = look_up(sara, ANNA)
    assert anna.status_code == 200
    assert "Anna Fiktiv" in anna.text and "010180-0001" in anna.text
    assert "aktiv sag i JOB" in anna.text                        # the reasons, as the list words them
    assert "JOB: Jens Job (Team A)" in anna.text                 # another department's contact
    assert [row[:2] for row in table(anna.text, "section-cases")[1:]] == [["BUF", "B2"]]   # her BUF case only
    bo = look_up(sara, BO)                                       # served by BUF, not flagged
    assert bo.status_code == 200 and "Bo Fiktiv" in bo.text
    assert [row[:2] for row in table(bo.text, "section-cases")[1:]] == [["BUF", "B1"]]
    dorte, nobody = look_up(sara, DORTE), look_up(sara, NOBODY)
    assert dorte.status_code == nobody.status_code == 200
    assert dorte.content == nobody.content                       # byte for byte
    assert "Not found" in dorte.text and "Dorte" not in dorte.text
    jens = login(app, "jens")
    assert "Dorte Fiktiv" in look_up(jens, DORTE).text            # JOB serves her
    assert "Not found" in look_up(jens, BO).text
    typo = look_up(sara, "12345")
    assert typo.status_code == 400 and "12345" not in typo.text.replace(csrf_of(typo.text), "")   # not echoed


def test_every_look_up_and_download_is_in_the_access_log(town, app):
    sara = login(app, "sara")
    before = len(access_log.read(town["log"]))
    look_up(sara, ANNA)
    look_up(sara, DORTE)
    sara.get("/list/download")
    rows = access_log.read(town["log"])[before:]
    got = [(r["user_name"], r["page"], r["cpr"], r["outcome"]) for r in rows if r["page"] != "login"]
    assert got == [("sara", "citizen", ANNA, "shown"), ("sara", "citizen", DORTE, "not_found"),
                   ("sara", "list_download", None, "downloaded")]
    assert oct(town["log"].stat().st_mode & 0o777) == "0o600"
    admin_page = login(app, "ada").get("/access-log", params={"user": "sara"}).text
    assert "010180-****" in admin_page and ANNA not in admin_page and "010180-0001" not in admin_page


def test_no_cpr_in_any_url_title_or_log_line(app, caplog):
    caplog.set_level(logging.DEBUG)
    sara = TestClient(app, follow_redirects=True)
    sara.post("/login", data={"name": "sara", "password": PASSWORD, "csrf": csrf_of(sara.get("/login").text)})
    answers = [look_up(sara, cpr) for cpr in (ANNA, DORTE, "010180-0001")]
    urls = [str(a.url) for a in answers] + [str(h.url) for a in answers for h in a.history]
    urls += [h.headers.get("location", "") for a in answers for h in a.history]
    assert not [u for u in urls if CPR_SHAPED.search(u) or "010180" in u]
    titles = [re.search(r"<title>(.*)</title>", a.text).group(1) for a in answers]
    assert not [t for t in titles if re.search(r"\d{6}", t)]
    sara.get("/citizen/0101800001")                                  # a path nobody links to
    sara.post("/login", data={"name": "0101800001", "password": "x", "csrf": "wrong"})
    # what the server side logged (httpx's records are the test client's own requests)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "POST /citizen" in logged                               # the request log is there ...
    assert not CPR_SHAPED.search(logged) and "010180" not in logged   # ... without the citizen


def test_security_headers_on_every_response(app):
    sara = login(app, "sara")
    answers = [TestClient(app, follow_redirects=False).get("/list"), sara.get("/login"), sara.get("/list"),
               look_up(sara, ANNA), look_up(sara, NOBODY), sara.get("/leadership"), sara.get("/static/style.css"),
               sara.get("/list/download")]
    for answer in answers:
        for name, value in HEADERS.items():
            assert answer.headers.get(name) == value, (answer.request.url.path, name)
    csp = HEADERS["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "<script" not in look_up(sara, ANNA).text and "style=" not in look_up(sara, ANNA).text


def test_leadership_page_shows_the_published_counts_only(town, app):
    page = login(app, "lea").get("/leadership").text
    csv_text = (town["report_dir"] / "leadership_counts.csv").read_text(encoding="utf-8-sig")
    assert csv_text.count("\n") - 1 == page.count("<tr>") - 1 > 0
    assert not CPR_SHAPED.search(page) and "Fiktiv" not in page


def test_the_application_never_writes_the_warehouse(town, monkeypatch):
    warehouse = town["warehouse"]
    files = [warehouse, reader_path(warehouse)]
    before = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    mtimes = {f: f.stat().st_mtime_ns for f in files}
    opened = []
    real_connect = duckdb.connect

    def connect(database=":memory:", read_only=False, **kwargs):
        opened.append((Path(str(database)).name, read_only))
        return real_connect(database, read_only=read_only, **kwargs)
    monkeypatch.setattr(duckdb, "connect", connect)
    app = create_app(settings(town))
    for name, paths in (("sara", ("/list", "/list/download")), ("lea", ("/leadership",)), ("ada", ("/access-log",))):
        client = login(app, name)
        for path in paths:
            assert client.get(path).status_code == 200
        if name == "sara":
            for cpr in (ANNA, BO, DORTE, NOBODY):
                look_up(client, cpr)
    # only the reader copy, always read-only; the warehouse itself is never opened
    assert {name for name, _ in opened} == {reader_path(warehouse).name, town["log"].name}
    assert all(read_only for name, read_only in opened if name == reader_path(warehouse).name)
    assert {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files} == before
    assert {f: f.stat().st_mtime_ns for f in files} == mtimes


def test_single_sign_on_header_is_trusted_only_from_the_proxy_address(town):
    trusted = create_app(settings(town, trust_header="X-Remote-User", trusted_proxy="testclient"))
    client = TestClient(trusted, follow_redirects=False)
    page = client.get("/list", headers={"X-Remote-User": "sara"})
    assert page.status_code == 200 and "Department list: BUF" in page.text
    assert client.get("/list", headers={"X-Remote-User": "nobody"}).headers["location"] == "/login"
    elsewhere = create_app(settings(town, trust_header="X-Remote-User", trusted_proxy="10.0.0.7"))
    assert TestClient(elsewhere, follow_redirects=False).get(
        "/list", headers={"X-Remote-User": "sara"}).headers["location"] == "/login"
