"""Drop folders: a reader polling a share never sees half a file; LATEST; retention; mode and group."""

from __future__ import annotations

import grp
import os
import threading
from datetime import date
from pathlib import Path

from targetgroup.delivery.config import Folder
from targetgroup.delivery.folders import LATEST, deliver_night, dir_mode, remove_old_nights

NIGHT = "2026-11-01_20261101T041500-3f9a"


def files(folder: Path, size: int, fill: bytes) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name in ("flags_BUF.xlsx", "flags_BUF.csv", "notices_BUF.csv"):
        path = folder / name
        path.write_bytes(fill * size)
        made.append(path)
    return made


def test_a_reader_polling_the_share_never_sees_a_partial_file(tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    size = 2 << 20
    versions = [files(tmp_path / f"run{i}", size, bytes([65 + i])) for i in range(4)]
    complete = {bytes([65 + i]) * size for i in range(4)}
    seen: list[str] = []
    bad: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            night = share / NIGHT
            names = [p for p in night.iterdir() if not p.name.startswith(".")] if night.is_dir() else []
            for path in names:
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                seen.append(path.name)
                if data not in complete:
                    bad.append(f"{path.name}: {len(data)} bytes")
            if (share / LATEST).exists():
                first = (share / LATEST).read_text().split("\n", 1)[0]
                if first != NIGHT:
                    bad.append(f"LATEST: {first!r}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for made in versions * 2:   # the same night rewritten: a retry after a kill
            deliver_night(made, Folder(path=str(share)), NIGHT, 0o640)
    finally:
        done.set()
        thread.join()
    assert bad == []
    assert len(seen) > 10   # the reader did read while the files were being replaced
    assert not list((share / NIGHT).glob(".*"))   # no temporary file left behind


def test_latest_lists_the_night_and_a_late_retry_of_an_older_night_leaves_it(tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    made = files(tmp_path / "run", 10, b"x")
    deliver_night(made, Folder(path=str(share)), NIGHT, 0o600)
    assert (share / LATEST).read_text().splitlines() == [NIGHT, *(f"{NIGHT}/{p.name}" for p in made)]
    older = "2026-10-31_20261031T041500-aaaa"
    deliver_night(made, Folder(path=str(share)), older, 0o600)
    assert (share / LATEST).read_text().splitlines()[0] == NIGHT
    assert (share / older / "flags_BUF.csv").is_file()


def test_a_killed_copy_leaves_only_hidden_parts_which_the_next_attempt_removes(tmp_path):
    share = tmp_path / "share"
    (share / NIGHT).mkdir(parents=True)
    (share / NIGHT / ".flags_BUF.xlsx.part").write_bytes(b"half")
    deliver_night(files(tmp_path / "run", 10, b"x"), Folder(path=str(share)), NIGHT, 0o600)
    assert sorted(p.name for p in (share / NIGHT).iterdir()) == ["flags_BUF.csv", "flags_BUF.xlsx", "notices_BUF.csv"]


def test_mode_and_group_apply_to_delivered_files(tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    group = grp.getgrgid(os.getgid()).gr_name
    deliver_night(files(tmp_path / "run", 10, b"x"), Folder(path=str(share), group=group), NIGHT, 0o640)
    for path in (share / NIGHT).iterdir():
        assert path.stat().st_mode & 0o777 == 0o640 and path.stat().st_gid == os.getgid()
    assert (share / NIGHT).stat().st_mode & 0o777 == 0o750
    assert dir_mode(0o600) == 0o700 and dir_mode(0o640) == 0o750


def test_retention_deletes_nights_older_than_keep_nights_and_nothing_else(tmp_path):
    share = tmp_path / "share"
    for name in ("2026-09-30_20260930T041500-0001", "2026-10-01_20261001T041500-0002",
                 "2026-10-02_20261002T041500-0003", NIGHT, "notes", "2026-01-01_not-a-run"):
        (share / name).mkdir(parents=True)
        (share / name / "flags_BUF.csv").write_text("x")
    (share / "2026-08-01_20260801T041500-0004").write_text("a file, not a night")
    deleted = remove_old_nights(Folder(path=str(share)), date(2026, 11, 1), keep_nights=30)
    # 2026-11-01 minus 30 days is 2026-10-02: older nights go, that one and newer stay
    assert deleted == ["2026-09-30_20260930T041500-0001", "2026-10-01_20261001T041500-0002"]
    assert sorted(p.name for p in share.iterdir()) == ["2026-01-01_not-a-run", "2026-08-01_20260801T041500-0004",
                                                       "2026-10-02_20261002T041500-0003", NIGHT, "notes"]
