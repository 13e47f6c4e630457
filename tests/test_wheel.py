"""The built wheel holds everything the default run reads: SQL (sql/rules too), the shipped rule
sets with the manual lists they name, and the sample municipality. The full check (build the
wheel, install it into a fresh virtual environment, run from an empty folder) is in .ci/run."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from targetgroup.config import SAMPLE_SOURCES, load_sources
from targetgroup.rules import DEFAULT_RULES, load_rules

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "targetgroup"
SHIPPED = ("sql/**/*.sql", "rulesets/**/*", "sample_data/**/*")


def package_data() -> list[str]:
    """The package-data patterns of pyproject.toml (setuptools globs, relative to the package)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"]["package-data"]["targetgroup"]


def declared(patterns: list[str]) -> set[Path]:
    # setuptools expands package-data like Path.glob: 'sql/*.sql' does not reach sql/rules/
    return {p for pattern in patterns for p in PACKAGE.glob(pattern) if p.is_file()}


def needed() -> set[Path]:
    return {p for pattern in SHIPPED for p in PACKAGE.glob(pattern) if p.is_file() and "__pycache__" not in p.parts}


def test_package_data_declares_every_file_the_default_run_reads():
    files = needed()
    assert {p.parent.name for p in files} >= {"sql", "rules", "register", "rulesets", "manual", "sample_data"}
    missing = sorted(str(p.relative_to(PACKAGE)) for p in files - declared(package_data()))
    assert missing == [], f"not in the wheel: {missing}"


@pytest.mark.parametrize("dropped", ["sql/rules/*.sql", "rulesets/*.yaml", "rulesets/manual/*.csv", "sample_data/*.parquet"])
def test_dropping_a_pattern_is_noticed(dropped):
    patterns = package_data()
    assert dropped in patterns
    assert needed() - declared([p for p in patterns if p != dropped])


def test_the_default_run_finds_its_files_inside_the_package():
    package = Path(str(resources.files("targetgroup")))
    assert SAMPLE_SOURCES.is_relative_to(package) and DEFAULT_RULES.is_relative_to(package)
    config = load_sources(SAMPLE_SOURCES)          # checks that every extract it names exists
    loaded = load_rules(DEFAULT_RULES, config)
    assert loaded.rules.name == "default"
    for name in ("furesoe", "odense"):             # a set with manual lists, relative to it
        load_rules(DEFAULT_RULES.parent / f"{name}.yaml", config)
