"""Writing output files owner-only (mode 600, folders 700): they hold CPR numbers."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from targetgroup.warehouse import sql_literal


@contextmanager
def private_files() -> Iterator[None]:
    """While active, every file and folder this process creates is owner-only."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def make_private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 700 on the leaf; return it."""
    with private_files():
        path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` with mode 600."""
    with private_files():
        path.write_text(text, encoding=encoding)
    os.chmod(path, 0o600)
    return path


def write_json(path: Path, data: object) -> Path:
    """Write `data` as indented JSON with mode 600."""
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Write `frame` as CSV in UTF-8 with BOM (so Excel shows æøå), mode 600."""
    with private_files():
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    os.chmod(path, 0o600)
    return path


def copy_csv(con, path: Path, query: str, params: list | None = None) -> Path:
    """Write the result of `query` as CSV in UTF-8 with BOM, mode 600, without pandas: DuckDB's
    COPY writes the rows (empty for null, quotes only where needed), then the BOM is put first."""
    staging = path.with_name(path.name + ".part")
    with private_files():
        con.execute(f"copy ({query}) to {sql_literal(staging)} "
                    "(format csv, header true, delimiter ',', quote '\"')", params)
        with staging.open("rb") as src, path.open("wb") as dst:
            dst.write(b"\xef\xbb\xbf")
            shutil.copyfileobj(src, dst, 1 << 20)
    staging.unlink()
    os.chmod(path, 0o600)
    return path
