"""The leadership report: self-contained, renders in headless Chromium, counts only.

Needs Debian's chromium (`apt-get install -y chromium`; .ci/run installs it). Without
/usr/bin/chromium the rendering test is skipped with that reason.
"""

import csv
import re
from html import unescape
import subprocess
from datetime import date
from pathlib import Path

import pytest

from targetgroup.deliver import html_report
from targetgroup.deliver.figures import Figures
from targetgroup.deliver.disclosure import protect
from targetgroup.pipeline import RunSettings, run_pipeline
from tests.conftest import AS_OF, PERSONS_CSV, write_municipality

CHROMIUM = Path("/usr/bin/chromium")
NAMES = ["Søs Ærø", "Jens Job", "Sara Soc"] + [line.split(",")[1] for line in PERSONS_CSV.splitlines()[1:]]
CPRS = [line.split(",")[0] for line in PERSONS_CSV.splitlines()[1:]]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'chromium'}", *args],
        capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("report")
    tiny = write_municipality(base / "input")
    run_pipeline(RunSettings(sources=tiny, as_of=date(2026, 10, 1), out=base / "out"))
    run = run_pipeline(RunSettings(sources=tiny, as_of=date.fromisoformat(AS_OF), out=base / "out"))
    return run.summary["report_html"]


def test_report_has_no_cpr_no_name_and_no_network(report):
    html = report.read_text(encoding="utf-8")
    assert oct(report.stat().st_mode & 0o777) == "0o600"
    digits = re.sub(r"\D", "", html)
    for cpr in CPRS:
        assert cpr not in html and f"{cpr[:6]}-{cpr[6:]}" not in html and cpr not in digits
    for name in NAMES:
        assert name not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html


def test_small_counts_are_rounded_in_the_report(report):
    html = report.read_text(encoding="utf-8")
    # two citizens in the tiny municipality: every count is small, and none is shown as it is
    shown = re.findall(r'<td class="n">([^<]*)</td>', html)
    assert shown and all(v == "•" or int(v) % 5 == 0 for v in shown), shown
    assert ">2<" not in html and ">1<" not in html


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed: apt-get install -y chromium")
def test_renders_in_headless_chromium(report, tmp_path):
    dom = _chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert dom.count('<svg class="chart"') == 9
    assert "Ledelsesinformation" in dom and "Borgere efter kombination af forvaltninger" in dom
    for cpr in CPRS:
        assert cpr not in dom
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri())
    assert shot.stat().st_size > 10_000


def test_english_and_hidden_marks():
    counts = {("size", "r1"): 40, ("new", "r1"): 40, ("ended", "r1"): 0, ("combo", "A+B"): 3,
              ("combo", "A+C"): 37, ("courses", "ongoing"): 40, ("courses", "ended"): 0, ("coord", "total"): 0}
    cells = protect(counts, b"k" * 32, hide=[("combo", "A+B")])
    fig = Figures(run_id="r1", as_of=date(2026, 11, 1), runs=[("r1", date(2026, 11, 1))], cells=cells,
                  keys={"size": [("size", "r1")], "new": [("new", "r1")], "ended": [("ended", "r1")],
                        "combo": [("combo", "A+B"), ("combo", "A+C")], "dept": [], "rule": [], "team": [],
                        "coord": [], "duration_ongoing": [], "duration_ended": []})
    html = html_report.render(fig, "en")
    assert "Leadership report" in html and "Citizens by combination of departments" in html
    assert "•" in html and "rounded to a multiple of 5" in html
    assert ">3<" not in html and ">37<" not in html  # true counts never reach the page


def test_meetings_have_a_chart_and_caseload_shows_its_tables_unfolded():
    # issue 19: sections whose counts sat folded under "Count" with nothing above them looked empty
    keys = [("meeting", "due"), ("meeting", "held"), ("meeting", "overdue")]
    counts = {("size", "r1"): 40, ("new", "r1"): 40, ("ended", "r1"): 0, ("courses", "ongoing"): 40,
              ("courses", "ended"): 0, ("coord", "total"): 20, ("team", "Team A"): 40,
              ("caseload", "caseworkers_over", "capacity_6"): 5, ("caseload", "caseworkers_within", "capacity_6"): 15,
              **dict(zip(keys, (30, 20, 10)))}
    fig = Figures(run_id="r1", as_of=date(2026, 11, 1), runs=[("r1", date(2026, 11, 1))],
                  cells=protect(counts, b"k" * 32), capacity=(6, 15),
                  keys={"size": [("size", "r1")], "new": [], "ended": [], "combo": [], "dept": [], "rule": [],
                        "team": [("team", "Team A")], "coord": [], "duration_ongoing": [], "duration_ended": [],
                        "meeting": keys,
                        "caseload": [("caseload", "caseworkers_over", "capacity_6"),
                                     ("caseload", "caseworkers_within", "capacity_6")]})
    html = html_report.render(fig, "en")
    sections = {re.search(r"<h2>([^<]*)</h2>", part).group(1): part for part in html.split("<section")[1:]}
    meetings = sections["Transition and review meetings"]
    assert '<svg class="chart"' in meetings and "overdue (due date reached, none held)" in meetings
    caseload = sections["Caseload against capacity"]
    assert caseload.count("<details open>") == 2 and "<svg" not in caseload


def test_the_html_shows_no_figure_the_csv_does_not(report):
    # every number in the report's tables and charts is a row of leadership_counts.csv
    html = report.read_text(encoding="utf-8")
    rows = list(csv.DictReader((report.parent / "leadership_counts.csv").open(encoding="utf-8-sig")))
    published = {r["count"] for r in rows}
    shown = {unescape(v) for v in re.findall(r'<td class="n">([^<]*)</td>|<div class="v">([^<]*)</div>', html)
             for v in v if v}
    assert shown and shown <= published, shown - published
    size_rows = re.search(r"<table><tr><th[^>]*>[^<]*</th><th[^>]*>[^<]*</th></tr>(.*?)</table>", html).group(1)
    assert size_rows.count("<tr>") == sum(r["breakdown"] in ("total", "total_history") for r in rows) == 2
    assert sum(r["breakdown"] in ("flags_new", "flags_new_history") for r in rows) == 2
