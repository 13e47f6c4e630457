"""The README stays in step with the command line and CI."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from targetgroup.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group=None, prefix=""):
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_command_is_in_the_readme():
    missing = [name for name, _ in _commands() if f"targetgroup {name}" not in README]
    assert missing == []


def test_every_run_option_is_documented_in_help():
    for name, command in _commands():
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"targetgroup {name} {param.opts[0]} has no help text"


def test_readme_test_command_is_what_ci_runs():
    quickstart = re.search(r"## Quickstart.*?```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(quickstart) == 2, "the quickstart is two commands: set up and run, then test"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quickstart[1] in ci


def test_readme_links_exist():
    for link in re.findall(r"\]\(((?!http)[^)#]+)\)", README):
        assert not link.startswith("../"), f"{link}: a link outside the repository breaks in a clone"
        assert (ROOT / link).exists(), link


def test_nothing_points_outside_the_repository():
    # a user who clones the project has only the repository: no doc or code may send them elsewhere
    tracked = [p for pattern in ("*.md", "docs/*.md", "src/**/*.py", "src/**/*.sql", "flows/*.py",
                                 "benchmarks/*.py", "scripts/*.py", "pyproject.toml")
               for p in ROOT.glob(pattern)]
    offenders = [str(p.relative_to(ROOT)) for p in tracked if "../shared" in p.read_text(encoding="utf-8")]
    assert offenders == []
