"""Every command's --help: a flag that takes no value shows no value type (no '<bool>')."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from targetgroup.cli import app


def _commands(group=None, path=()):
    group = group or typer.main.get_command(app)
    yield path
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


COMMANDS = list(_commands())


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) or "targetgroup" for p in COMMANDS])
def test_help_shows_no_bool_metavar(path):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output


def test_flags_are_listed_without_a_value():
    output = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "100"}).output
    assert "--dry-run " in output and "--store-extracts / --no-store-extracts" in output
