"""The gate's Great Expectations half runs in the background while the rules run (pipeline.validate
with background=True): a gate error still stops the run before any list is written, and when a
later stage fails first, the gate's error is the one reported."""

from __future__ import annotations

import pytest

from targetgroup import pipeline
from targetgroup.errors import RulesError, ValidationError

pytestmark = pytest.mark.slow


def _listed(out):
    return sorted(p.name for p in out.rglob("flags_*"))


def test_a_gate_error_stops_the_run_before_any_list_is_written(night):
    n = night({"job.csv": "job_header_only.csv"})
    with pytest.raises(ValidationError, match="row_count"):
        n.run()
    assert n.warehouse_unchanged()
    failed = [d for d in (n.folder / "out" / "failed").iterdir() if (d / "FAILED.txt").exists()]
    assert len(failed) == 1 and _listed(failed[0]) == []


def test_the_gate_error_wins_over_a_later_stage_failing(night, monkeypatch):
    n = night({"job.csv": "job_header_only.csv"})

    def broken(run):
        raise RulesError("identify broke")

    monkeypatch.setattr(pipeline, "identify", broken)
    with pytest.raises(ValidationError, match="row_count") as info:
        n.run()
    assert isinstance(info.value.__cause__, RulesError)
    assert n.warehouse_unchanged()


def test_a_later_failure_is_reported_as_itself_when_the_gate_passes(night, monkeypatch):
    n = night({})

    def broken(run):
        raise RulesError("identify broke")

    monkeypatch.setattr(pipeline, "identify", broken)
    with pytest.raises(RulesError, match="identify broke"):
        n.run()
    assert n.warehouse_unchanged()
