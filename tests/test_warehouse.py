"""The work connection takes DuckDB's threads and memory limit from settings or the environment."""

import pytest

from targetgroup.errors import RunError
from targetgroup.warehouse import open_work


def _setting(con, name):
    return con.execute(f"select current_setting('{name}')").fetchone()[0]


def test_threads_and_memory_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("TARGETGROUP_THREADS", "1")
    monkeypatch.setenv("TARGETGROUP_MEMORY_LIMIT", "512MB")
    con = open_work()
    assert _setting(con, "threads") == 1
    assert _setting(con, "memory_limit").startswith("488")  # 512 MB shown in MiB
    assert _setting(open_work(threads=2), "threads") == 2  # a setting wins over the environment


@pytest.mark.parametrize("name,value,match", [
    ("TARGETGROUP_THREADS", "many", "not a number of threads"),
    ("TARGETGROUP_MEMORY_LIMIT", "lots", "memory limit"),
])
def test_unusable_values_are_refused_clearly(monkeypatch, name, value, match):
    monkeypatch.setenv(name, value)
    with pytest.raises(RunError, match=match):
        open_work()


def test_default_memory_limit_and_no_spill_into_the_current_folder(monkeypatch):
    monkeypatch.delenv("TARGETGROUP_MEMORY_LIMIT", raising=False)
    con = open_work()
    assert _setting(con, "memory_limit").startswith("953")  # 1 GB shown in MiB
    assert _setting(con, "temp_directory") == ""  # DuckDB's default '.tmp' would hold case data


def test_a_run_spills_into_its_private_folder_that_is_removed(tmp_path, monkeypatch):
    import stat
    import tempfile

    from targetgroup import pipeline

    seen = []
    real_open = pipeline.open_work

    def spy(threads, memory_limit, spill_dir):
        seen.append((spill_dir, stat.S_IMODE(spill_dir.stat().st_mode), tempfile.gettempdir()))
        con = real_open(threads, memory_limit, spill_dir)
        assert _setting(con, "temp_directory") == str(spill_dir)
        return con

    monkeypatch.setattr(pipeline, "open_work", spy)
    (tmp_path / "system-tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "system-tmp"))
    run = pipeline.prepare(pipeline.RunSettings(out=tmp_path / "reports"))
    run.close()
    (folder, mode, tempdir), = seen
    # the run's own folder under OUT/.staging, and every tempfile of the run goes there too
    assert folder == run.folder.tmp and folder.parent.parent == tmp_path / "reports" / ".staging"
    assert mode == 0o700 and tempdir == str(folder)
    assert not folder.exists()
    assert tempfile.tempdir == str(tmp_path / "system-tmp")   # restored for the rest of the process
    run.discard()
    assert list((tmp_path / "reports" / ".staging").iterdir()) == []


def _ledger_row(run_id):
    def step(con):
        con.execute("insert into wh.runs (run_id, as_of, started_at, finished_at, status) "
                    "values (?, current_date, now()::timestamp, now()::timestamp, 'committed')", [run_id])
    return step


def test_an_interrupt_landing_in_a_commit_that_went_through_is_returned_not_raised(tmp_path, monkeypatch):
    """The first run's commit went through, then Ctrl-C: the rollback finds no transaction.
    Raising would also delete the 'half-made' new warehouse: the stored run with it."""
    from targetgroup import warehouse

    real = warehouse._send_commit

    def commit_then_interrupt(con):
        real(con)
        raise KeyboardInterrupt
    monkeypatch.setattr(warehouse, "_send_commit", commit_then_interrupt)
    path = tmp_path / "warehouse.duckdb"
    con = open_work(threads=1)
    try:
        interrupt = warehouse.commit(con, path, [_ledger_row("r1")], run_id="r1")
    except KeyboardInterrupt:
        pytest.fail("raised, although the ledger holds the run")
    assert isinstance(interrupt, KeyboardInterrupt)
    assert warehouse.ledger_has(path, "r1")


def test_an_interrupt_before_the_commit_went_through_is_raised_and_leaves_no_warehouse(tmp_path, monkeypatch):
    from targetgroup import warehouse

    def interrupt(con):
        raise KeyboardInterrupt
    monkeypatch.setattr(warehouse, "_send_commit", interrupt)
    path = tmp_path / "warehouse.duckdb"
    with pytest.raises(KeyboardInterrupt):
        warehouse.commit(open_work(threads=1), path, [_ledger_row("r1")], run_id="r1")
    assert not path.exists()
