"""Drop folders: a night's files copied onto a share so that no reader ever sees half a file.

    <folder>/<as-of>_<run-id>/flags_BUF.xlsx ...     the night (NIGHT_PATTERN), mode file_mode
    <folder>/LATEST                                   the newest night's name and its files

Every file is copied to a hidden temporary name in its final folder (`.<name>.part`), flushed to
disk (fsync), given its mode and group, and renamed over the final name (`os.replace`, atomic
within one file system); the folder itself is fsynced after the renames. `LATEST` is replaced
the same way, after the night's files. A copy that is killed leaves only `.part` files, which
the next attempt removes. Retention (`remove_old_nights`) deletes whole nights whose as-of date
is more than `keep_nights` days before tonight's, and returns the names it deleted.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

from targetgroup.delivery.config import Folder

NIGHT_PATTERN = re.compile(r"^(\d{4}-\d{2}-\d{2})_\d{8}T\d{6}-[0-9a-f]{4}$")
LATEST = "LATEST"


def dir_mode(file_mode: int) -> int:
    """The mode of a night's folder: the file mode plus 'search' wherever it may read (0640 -> 0750)."""
    return file_mode | ((file_mode & 0o444) >> 2)


def _gid(folder: Folder) -> int:
    if folder.group is None:
        return -1
    import grp  # noqa: PLC0415

    return grp.getgrnam(folder.group).gr_gid


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(source: Path | None, target: Path, mode: int, gid: int = -1, text: str | None = None) -> Path:
    """Copy `source` (or write `text`) to `target` through a hidden temporary name in the same
    folder: fsync, mode, group, then one rename. Returns `target`."""
    part = target.with_name(f".{target.name}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb", closefd=False) as dst:
            if source is not None:
                with source.open("rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
            else:
                dst.write((text or "").encode("utf-8"))
            dst.flush()
            os.fsync(fd)
        if gid != -1:
            os.fchown(fd, -1, gid)
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        part.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(part, target)
    return target


def deliver_night(files: list[Path], folder: Folder, night: str, file_mode: int) -> Path:
    """Copy `files` into `<folder>/<night>/` atomically, then point LATEST at the night.
    Safe to repeat: a second call rewrites the same files under the same names."""
    gid = _gid(folder)
    root = Path(folder.path)
    target = root / night
    target.mkdir(mode=0o700, exist_ok=True)
    for leftover in target.glob(".*.part"):   # an attempt that was killed
        leftover.unlink(missing_ok=True)
    for path in files:
        write_atomic(path, target / path.name, file_mode, gid)
    if gid != -1:
        os.chown(target, -1, gid)
    os.chmod(target, dir_mode(file_mode))
    _fsync_dir(target)
    if _latest(root) <= night:   # a late retry of an older night leaves LATEST alone
        listing = "".join(f"{night}/{p.name}\n" for p in files)
        write_atomic(None, root / LATEST, file_mode, gid, text=f"{night}\n{listing}")
    _fsync_dir(root)
    return target


def _latest(root: Path) -> str:
    try:
        return (root / LATEST).read_text(encoding="utf-8").split("\n", 1)[0]
    except (OSError, UnicodeDecodeError):
        return ""


def remove_old_nights(folder: Folder, as_of: date, keep_nights: int) -> list[str]:
    """Delete the nights in `folder` whose as-of date is more than `keep_nights` days before
    `as_of` (only folders named like a night); returns their names."""
    limit = as_of - timedelta(days=keep_nights)
    deleted = []
    for entry in sorted(Path(folder.path).iterdir()):
        match = NIGHT_PATTERN.match(entry.name)
        if not match or not entry.is_dir() or entry.is_symlink():
            continue
        if date.fromisoformat(match.group(1)) < limit:
            shutil.rmtree(entry)
            deleted.append(entry.name)
    return deleted
