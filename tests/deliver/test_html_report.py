"""The leadership report: self-contained, renders in headless Chromium, counts only.

Needs Debian's chromium (`apt-get install -y chromium`; .ci/run installs it). Without
/usr/bin/chromium the rendering test is skipped with that reason.
"""

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from targetgroup.deliver import html_report
from targetgroup.deliver.figures import Figures
from targetgroup.deliver.suppression import suppress
from targetgroup.pipeline import RunSettings, run_pipeline
from tests.conftest import AS_OF, PERSONS_CSV

CHROMIUM = Path("/usr/bin/chromium")
NAMES = ["Søs Ærø", "Jens Job", "Sara Soc"] + [line.split(",")[1] for line in PERSONS_CSV.splitlines()[1:]]
CPRS = [line.split(",")[0] for line in PERSONS_CSV.splitlines()[1:]]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'chromium'}", *args],
        capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture
def report(tiny, tmp_path) -> Path:
    run_pipeline(RunSettings(sources=tiny, as_of=date(2026, 10, 1), out=tmp_path / "out"))
    run = run_pipeline(RunSettings(sources=tiny, as_of=date.fromisoformat(AS_OF), out=tmp_path / "out"))
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


def test_small_counts_are_suppressed_in_the_report(report):
    html = report.read_text(encoding="utf-8")
    # two citizens in the tiny municipality: every count is small
    assert "&lt;5" in html and ">2<" not in html


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed: apt-get install -y chromium")
def test_renders_in_headless_chromium(report, tmp_path):
    dom = _chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert dom.count('<svg class="chart"') == 8
    assert "Ledelsesinformation" in dom and "Borgere efter kombination af forvaltninger" in dom
    for cpr in CPRS:
        assert cpr not in dom
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri())
    assert shot.stat().st_size > 10_000


def test_english_and_secondary_marks():
    cells = suppress({("size", "r1"): 40, ("new", "r1"): 40, ("ended", "r1"): 0, ("combo", "A+B"): 3,
                      ("combo", "A+C"): 37, ("courses", "ongoing"): 40, ("courses", "ended"): 0,
                      ("coord", "total"): 0},
                     [[("size", "r1"), ("combo", "A+B"), ("combo", "A+C")]], keep=[("size", "r1")])
    fig = Figures(run_id="r1", as_of=date(2026, 11, 1), runs=[("r1", date(2026, 11, 1))], cells=cells,
                  keys={"size": [("size", "r1")], "new": [("new", "r1")], "ended": [("ended", "r1")],
                        "combo": [("combo", "A+B"), ("combo", "A+C")], "dept": [], "rule": [], "team": [],
                        "coord": [], "duration_ongoing": [], "duration_ended": []})
    html = html_report.render(fig, "en")
    assert "Leadership report" in html and "Citizens by combination of departments" in html
    assert "A + C" in html and "•" in html and ">37<" not in html
