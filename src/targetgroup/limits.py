"""Limits on what configuration files and the names in them may hold.

Configuration comes from people (sources, rule, removal and manual-list files) and extract
headers come from case systems; both reach SQL (as bound values or quoted identifiers), file
names and terminal output. These limits keep them from exhausting the machine or hiding text:

- `check_size(path, limit, error)`: a file larger than `limit` bytes is refused before it is read.
- `name_problem(text, max_len)`: why a code, name or column header is not acceptable (a control
  character such as newline, tab or NUL; a right-to-left or other bidirectional control mark;
  empty; longer than `max_len`), or None when it is fine. The text itself is never in the answer.
- `file_name_problem(text)`: as `name_problem`, and also what would make it unsafe inside an
  output file name (department codes and case systems name files such as `flags_BUF.csv`).
- `shown(text)`: a short, escaped form of a rejected key for an error location.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

# sources.yaml of a large municipality is ~10 KB; a rule file ~5 KB
MAX_CONFIG_BYTES = 1 << 20
# a department's removal file or a manual list: a few hundred lines in practice
MAX_LIST_BYTES = 20 << 20
# nodes of a YAML file after every alias is expanded (the sample's sources file has ~300)
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 50
MAX_CODE = 150        # department, system, status, case type, marking code, rule id
MAX_NAME = 200        # column names, titles, display names, date formats
MAX_PATH = 1000

# bidirectional controls: they make text display in another order than it is stored
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def name_problem(text: str, max_len: int = MAX_CODE) -> str | None:
    """Why `text` cannot be a code or name (without quoting it), or None when it can."""
    if not text.strip():
        return "is empty"
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            what = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL"}.get(
                ch, f"the control character U+{ord(ch):04X}")
            return f"contains {what}"
        if ch in _BIDI:
            return f"contains the text-direction mark U+{ord(ch):04X}"
    if len(text) > max_len:
        return f"is {len(text)} characters long (at most {max_len})"
    return None


def file_name_problem(text: str) -> str | None:
    """As `name_problem`, plus what would make `text` unsafe in an output file's name."""
    problem = name_problem(text)
    if problem is None and ("/" in text or "\\" in text or text.startswith(".")):
        problem = "contains '/' or '\\' or starts with '.' (it names output files)"
    return problem


def shown(text: object) -> str:
    """`text` as it may appear in an error location: escaped, and cut to 40 characters."""
    value = str(text)
    if isinstance(text, str) and name_problem(value, MAX_NAME) is None:
        return value
    escaped = value[:40].encode("unicode_escape").decode("ascii")
    return escaped + ("..." if len(value) > 40 else "")


def check_size(path: Path, limit: int, error: type[Exception], **where: object) -> None:
    """Refuse `path` when it is larger than `limit` bytes: `error(message, file=, line=, hint=)`.

    The line is the one the limit falls in, so the message says where the file went too far.
    """
    try:
        size = path.stat().st_size
    except OSError:
        return  # a missing file is reported by the reader, with its own hint
    if size <= limit:
        return
    with path.open("rb") as fh:
        line = fh.read(limit).count(b"\n") + 1
    raise error(f"the file is {size:,} bytes, more than the {limit:,} allowed", file=path, line=line,
                hint="a configuration or list file this large is not a real one; check that the right file is named",
                **where)
