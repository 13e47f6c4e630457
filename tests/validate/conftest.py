"""A good night committed into a warehouse, then a bad night replacing one extract (bad_inputs/)."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import write_municipality
from targetgroup.pipeline import RunSettings, run_pipeline

BAD = Path(__file__).parent / "bad_inputs"
GOOD_NIGHT = date(2026, 10, 31)
BAD_NIGHT = date(2026, 11, 1)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def good_night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with input/ (the tiny municipality) and out/warehouse.duckdb after one good run."""
    folder = tmp_path_factory.mktemp("good_night")
    sources = write_municipality(folder / "input")
    run_pipeline(RunSettings(sources=sources, as_of=GOOD_NIGHT, out=folder / "out"))
    return folder


class Night:
    """The next night's run on a copy of the good night, with some extracts replaced."""

    def __init__(self, good: Path, tmp: Path, replace: dict[str, str], quality: str | None = None,
                 allow_drop: tuple[str, ...] = ()):
        self.folder = tmp / "night"
        shutil.copytree(good, self.folder)
        for target, bad in replace.items():
            shutil.copyfile(BAD / bad, self.folder / "input" / target)
        sources = self.folder / "input" / "sources.yaml"
        if quality:
            sources.write_text(sources.read_text(encoding="utf-8") + quality, encoding="utf-8")
        self.warehouse = self.folder / "out" / "warehouse.duckdb"
        self.before = sha256(self.warehouse)
        self.settings = RunSettings(sources=sources, as_of=BAD_NIGHT, out=self.folder / "out",
                                    allow_drop=allow_drop)

    def run(self):
        return run_pipeline(self.settings)

    def warehouse_unchanged(self) -> bool:
        return sha256(self.warehouse) == self.before


@pytest.fixture
def night(good_night: Path, tmp_path: Path):
    """Factory: night(replace={'job.csv': 'job_half.csv'}, quality=..., allow_drop=...)."""
    return lambda replace, **kw: Night(good_night, tmp_path, replace, **kw)
