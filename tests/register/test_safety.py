"""Safe runs: idempotent, all-or-nothing on failure, rebuild rewinds, one run at a time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nights import NIGHTS, Town, actions, town  # noqa: F401
from targetgroup import pipeline
from targetgroup.errors import RunError
from targetgroup.register import store

SYSTEMS = ("Momentum", "Nexus", "DUBU")


def test_same_inputs_twice_change_nothing(town: Town, tmp_path: Path):
    town.run(1)
    first = town.run(3)
    register = town.query("select * from flags order by flag_id, version")
    markings = town.query("select * from markings order by system, cpr, valid_from")
    again = town.run(3)
    assert again.summary["flags"]["new"] == again.summary["flags"]["ended"] == again.summary["flags"]["updated"] == 0
    assert all(actions(again, s) == [] for s in SYSTEMS)
    assert town.query("select * from flags order by flag_id, version") == register
    assert town.query("select * from markings order by system, cpr, valid_from") == markings
    # a second warehouse fed the same nights writes byte-identical action lists
    other = Town(tmp_path / "other")
    other.run(1)
    replay = other.run(3)
    for system in SYSTEMS:
        name = f"actions_{system}.csv"
        assert (replay.report_dir / name).read_bytes() == (first.report_dir / name).read_bytes()
    assert (first.report_dir / "actions_Momentum.csv").stat().st_mode & 0o777 == 0o600


class Boom(Exception):
    """The injected failure."""


@pytest.mark.parametrize("stage", ["extract", "stage", "identify", "register", "deliver"])
def test_failure_after_any_stage_leaves_warehouse_untouched(town: Town, monkeypatch, stage: str):
    town.run(1)
    before, digest = town.dump(), town.sha256()
    original = getattr(pipeline, stage)

    def failing(run):
        original(run)
        raise Boom(stage)

    monkeypatch.setattr(pipeline, stage, failing)
    with pytest.raises(RunError, match=r"internal error in the pipeline \(Boom\)"):
        town.run(3)
    assert town.dump() == before
    assert town.sha256() == digest


@pytest.mark.parametrize("after", range(8))
def test_failure_midway_through_the_register_writes(town: Town, monkeypatch, after: int):
    town.run(1)
    before = town.dump()
    original = store.commit_steps

    def with_failure(*args, **kwargs):
        steps = original(*args, **kwargs)

        def explode(con):
            raise Boom(f"after step {after}")
        return steps[:after] + [explode] + steps[after:]

    monkeypatch.setattr(store, "commit_steps", with_failure)
    monkeypatch.setattr("targetgroup.register.commit_steps", with_failure)
    with pytest.raises(RunError, match=r"internal error in the pipeline \(Boom\)"):
        town.run(3)
    assert town.dump() == before


def test_as_of_before_last_run_is_refused_and_rebuild_rewinds(town: Town):
    town.run(1)
    town.run(2)
    after_2 = town.query("select flag_id, version, members, departments, status, valid_from, valid_to, change "
                         "from flags order by flag_id, version")
    town.run(3)
    with pytest.raises(RunError, match="before the last committed run"):
        town.run(2)
    rebuilt = town.run(2, rebuild=True)
    assert rebuilt.summary["register"].rewind_from == NIGHTS[2]
    # night 3's end and update are rewound; the register stands as after night 2
    assert town.query("select flag_id, version, members, departments, status, valid_from, valid_to, change "
                      "from flags order by flag_id, version") == after_2
    assert town.query("select count(*) from flags_rewound") == [(3,)]  # A's ended row, G's two rows
    assert town.query("select as_of, status from runs order by as_of, started_at") == [
        (NIGHTS[1], "committed"), (NIGHTS[2], "rewound"), (NIGHTS[2], "committed"), (NIGHTS[3], "rewound")]
    # and night 3 can be run again afterwards, with the same result as the first time
    again = town.run(3)
    assert again.summary["flags"] == {"new": 0, "continuing": 4, "updated": 1, "ended": 1}


HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from targetgroup.warehouse import run_lock
    with run_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_two_runs_at_once(town: Town):
    town.run(1)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(town.warehouse), "3"],
                              stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": "src", "PATH": ""})
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = town.dump()
        with pytest.raises(RunError, match="another run is using the warehouse"):
            town.run(2)
        assert town.dump() == before
        settings = pipeline.RunSettings(sources=town.input / "sources.yaml", as_of=NIGHTS[2], out=town.out,
                                        wait_seconds=30, threads=1, allow_drop=("buf",))
        waited = pipeline.run_pipeline(settings)  # queues behind the holder, then runs
        assert waited.summary["flags"]["continuing"] == 6
    finally:
        holder.wait(timeout=30)
    assert holder.returncode == 0
