"""The web overview in a real browser (Playwright driving Debian's Chromium) against a real
`targetgroup serve` process on a free loopback port, and a nightly run committing while it is up.

Screenshots (department list, one citizen, the refused look-up, the access log) go to the folder
named by TARGETGROUP_SCREENSHOTS, else to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from targetgroup.pipeline import RunSettings, run_pipeline
from targetgroup.reader import reader_path
from tests.web.town import ANNA, CPR_SHAPED, DORTE, NOBODY, PASSWORD, csrf_of, xlsx_rows

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(town, tmp_path_factory):
    """`targetgroup serve` on a copy of the web town (the nightly test commits into it); stopped after."""
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(town["root"] / "input", root / "input")
    shutil.copytree(town["out"], root / "reports", ignore=shutil.ignore_patterns("access_log.duckdb*"))
    port = _free_port()
    log = root / "server.log"
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "targetgroup", "serve", "--out", str(root / "reports"),
                                 "--port", str(port)], stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"targetgroup serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield {"base": base, "root": root, "log": log, "out": root / "reports", "proc": proc}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _screens(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TARGETGROUP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log_in(page, base: str, name: str) -> None:
    page.goto(base + "/list")
    assert page.url == base + "/login"                       # not logged in: sent to the log-in page
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _look_up(page, cpr: str) -> None:
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + "/citizen")
    page.get_by_label("CPR number").fill(cpr)
    page.get_by_role("button", name="Look up").click()


def test_a_buf_caseworker_in_a_real_browser(server, browser, town, tmp_path):
    screens = _screens(tmp_path)
    base = server["base"]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    seen_urls: list[str] = []
    page.on("request", lambda request: seen_urls.append(request.url))
    _log_in(page, base, "sara")
    assert page.url == base + "/list"
    cells = page.locator("#department-list tbody tr")
    shown = [tuple(c.strip() for c in cells.nth(i).locator("td").all_inner_texts()) for i in range(cells.count())]
    assert shown == xlsx_rows(town["report_dir"] / "flags_BUF.xlsx") and len(shown) == 1
    page.screenshot(path=str(screens / "department_list.png"), full_page=True)

    _look_up(page, "010180-0001")                            # Anna: BUF serves her
    body = page.inner_text("main")
    assert "Anna Fiktiv" in body and "aktiv sag i JOB" in body and "JOB: Jens Job (Team A)" in body
    assert page.title() == "Citizen · targetgroup"
    page.screenshot(path=str(screens / "citizen.png"), full_page=True)

    _look_up(page, DORTE)                                    # only JOB and SOC serve her
    refused = page.inner_text("main")
    page.screenshot(path=str(screens / "refused_look_up.png"), full_page=True)
    _look_up(page, NOBODY)                                   # in no extract at all
    assert page.inner_text("main") == refused and "Not found" in refused

    page.get_by_role("button", name="Log out").click()
    _log_in(page, base, "ada")
    assert page.url == base + "/access-log"
    log_text = page.inner_text("#access-log")
    assert log_text.count("citizen") >= 3 and "010180-****" in log_text and ANNA not in log_text
    page.screenshot(path=str(screens / "access_log.png"), full_page=True)
    page.close()

    assert seen_urls and not [u for u in seen_urls if CPR_SHAPED.search(u) or "010180" in u]
    server_log = server["log"].read_text()
    assert '"POST /citizen" 200' in server_log.replace(" HTTP/1.1", "")
    assert not CPR_SHAPED.search(server_log) and "010180" not in server_log and "030390" not in server_log


def test_a_nightly_run_commits_while_the_server_is_up(server):
    base = server["base"]
    client = httpx.Client(base_url=base, follow_redirects=False)
    client.post("/login", data={"name": "sara", "password": PASSWORD, "csrf": csrf_of(client.get("/login").text)})
    first = client.get("/list").text
    assert "as of 2026-11-01" in first
    copy = reader_path(server["out"] / "warehouse.duckdb")
    held = open(copy, "rb")                                   # as a request in flight would hold it
    try:
        night = run_pipeline(RunSettings(sources=server["root"] / "input" / "sources.yaml", as_of=date(2026, 11, 2),
                                         out=server["out"]))
    finally:
        held.close()
    assert night.manifest["reader_copy"] == str(copy)         # committed and republished
    assert server["proc"].poll() is None
    after = client.get("/list")
    assert after.status_code == 200 and "as of 2026-11-02" in after.text    # the new night, same session
    assert re.search(r"Run (\S+),", after.text).group(1) == night.run_id
