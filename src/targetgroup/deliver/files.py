"""Writing output files owner-only (mode 600, folders 700): they hold CPR numbers.

Files this module creates get their mode when they are created (`os.open(..., 0o600)`), never
by a chmod afterwards and never by changing the umask: the umask is process-wide, and a thread
flipping it races with files other threads create at that moment (issue 11). Files that other
libraries create (DuckDB's warehouse and write-ahead log, Great Expectations' pages) are
private because the process sets its umask to 077 once, at start (targetgroup.privacy).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from targetgroup.warehouse import sql_literal

if TYPE_CHECKING:   # a run imports pandas in the background (validate.gate.preload)
    import pandas as pd


def make_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) with mode 700; return it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)   # an existing folder, or one the umask left wider
    return path


def create_private(path: Path) -> Path:
    """Create (or truncate) `path` as an empty file with mode 600, so that a library writing it
    next (xlsxwriter, zipfile, DuckDB's COPY with `use_tmp_file false`: they truncate, which
    keeps the mode) writes a private file from its first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)   # an existing file keeps its old mode on open
    finally:
        os.close(fd)
    return path


def _open_private(path: Path, mode: str, encoding: str | None = None, newline: str | None = None):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, mode, encoding=encoding, newline=newline)


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` with mode 600."""
    with _open_private(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return path


def write_json(path: Path, data: object) -> Path:
    """Write `data` as indented JSON with mode 600."""
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Write `frame` as CSV in UTF-8 with BOM (so Excel shows æøå), mode 600."""
    with _open_private(path, "w", encoding="utf-8-sig", newline="") as fh:
        frame.to_csv(fh, index=False)
    return path


def copy_csv(con, path: Path, query: str, params: list | None = None) -> Path:
    """Write the result of `query` as CSV in UTF-8 with BOM, mode 600, without pandas: DuckDB's
    COPY writes the rows (empty for null, quotes only where needed), then the BOM is put first."""
    staging = create_private(path.with_name(path.name + ".part"))
    # use_tmp_file false: DuckDB writes into the private file made above (by default it writes a
    # tmp_ file of its own under the umask and renames it over ours)
    con.execute(f"copy ({query}) to {sql_literal(staging)} "
                "(format csv, header true, delimiter ',', quote '\"', use_tmp_file false)", params)
    with staging.open("rb") as src, _open_private(path, "wb") as dst:
        dst.write(b"\xef\xbb\xbf")
        shutil.copyfileobj(src, dst, 1 << 20)
    staging.unlink()
    return path
