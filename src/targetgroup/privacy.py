"""Privacy at the message sinks: one CPR scrubber, one rule for showing a value, one umask.

    scrub(text)        -> text with everything CPR-shaped masked ('0101901234' -> '010190-****')
    scrub_data(obj)    -> the same for every string (and key) in a JSON-like structure
    shown(value)       -> True when a value from an extract may appear in a message
    describe(value)    -> the value quoted when shown(), else a note that it is not shown
    describe_code(value) -> a status code for a message: cleaned, capped, quoted (or not shown)
    private_umask()    -> set the process umask to 077 (once, at process start)
    install_log_scrubber() -> every logging record's text (and traceback) goes through scrub()

Messages name the source, file, line and column of a problem, never the cell (docs/privacy.md).
The scrubber is the second line of defence: it masks CPR-shaped text on every sink (CLI error
printing, logging, exception texts, the manifest, FAILED.txt and ALERT.txt) in case a value
slipped through. The same two rules exist as SQL macros (`tg_scrub`, `tg_shown` in
sql/macros.sql) for reasons built in SQL; tests/test_privacy_rules.py keeps them equal.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import unicodedata
from collections.abc import Callable

# CPR-shaped: DDMMYY-SSSS with a dash, a space or nothing between the parts (10 digits), or 9 digits
# (Excel dropped the leading zero). Not inside a longer run of letters or digits, so hashes,
# run ids and counts stay as they are.
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
_CPR10 = re.compile(_EDGE_BEFORE + r"([0-9]{6})[ -]?[0-9]{4}" + _EDGE_AFTER)
_CPR9 = re.compile(_EDGE_BEFORE + r"([0-9]{5})[0-9]{4}" + _EDGE_AFTER)

# A value may be shown when it is a short code: at most SHOWN_MAX_LENGTH characters, letters,
# digits and . _ / - only (no spaces: no full names, no addresses), at most SHOWN_MAX_DIGITS
# digits (no CPR, no date, no phone or account number).
SHOWN_MAX_LENGTH = 16
SHOWN_MAX_DIGITS = 4
_SHOWN = re.compile(r"[A-Za-z0-9ÆØÅæøåÄÖÜäöüÉé_./-]+")
NOT_SHOWN = "(value not shown: it may be personal data)"

PRIVATE_UMASK = 0o077


def scrub(text: str) -> str:
    """`text` with every CPR-shaped number masked to its birth-date part, e.g. '010190-****'."""
    if not text:
        return text
    text = _CPR10.sub(lambda m: f"{m.group(1)}-****", text)
    return _CPR9.sub(lambda m: f"0{m.group(1)}-****", text)


def scrub_data(data: object) -> object:
    """A copy of a JSON-like structure (dicts, lists, tuples, scalars) with every string scrubbed."""
    if isinstance(data, str):
        return scrub(data)
    if isinstance(data, dict):
        return {scrub_data(k) if isinstance(k, str) else k: scrub_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [scrub_data(v) for v in data]
    return data


def shown(value: object) -> bool:
    """True when `value` (a cell or a header from an extract) may appear in a message.

    Only short codes qualify (a status such as 'AKT' or 'Bevilget'): see SHOWN_MAX_LENGTH and
    SHOWN_MAX_DIGITS. The SQL macro `tg_shown` is the same rule.
    """
    if value is None:
        return False
    text = str(value)
    return (0 < len(text) <= SHOWN_MAX_LENGTH and _SHOWN.fullmatch(text) is not None
            and sum(c in "0123456789" for c in text) <= SHOWN_MAX_DIGITS)


def describe(value: object) -> str:
    """`'value'` when it may be shown, else NOT_SHOWN."""
    return f"'{value}'" if shown(value) else NOT_SHOWN


# Status codes are the case system's vocabulary, not personal data, and may hold spaces ('I gang');
# control and format characters are dropped, long codes cut, and a cell that looks like data
# (more than SHOWN_MAX_DIGITS digits: a CPR in the wrong column) is still not shown.
CODE_MAX_LENGTH = 24
_CODE = re.compile(r"[A-Za-z0-9ÆØÅæøåÄÖÜäöüÉé_./ -]+")
CODE_NOT_SHOWN = "(a code not shown: it may be personal data)"


def clean_code(value: object) -> str:
    """A code cell without control or format characters (tabs, bells, direction marks)."""
    text = "" if value is None else str(value)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf")).strip()


def describe_code(value: object) -> str:
    """A code from an extract for a message: `'code'` (cleaned, cut at CODE_MAX_LENGTH), or CODE_NOT_SHOWN."""
    text = clean_code(value)
    if not text or not _CODE.fullmatch(text) or sum(c.isdigit() for c in text) > SHOWN_MAX_DIGITS:
        return CODE_NOT_SHOWN
    return f"'{text}'" if len(text) <= CODE_MAX_LENGTH else f"'{text[:CODE_MAX_LENGTH]}...'"


def describe_names(names: list[str]) -> str:
    """Column names for a message: those that may be shown, and how many are not."""
    visible = [str(n) for n in names if shown(n)]
    hidden = len(names) - len(visible)
    text = ", ".join(visible)
    if hidden:
        text += (", and " if text else "") + f"{hidden} name(s) not shown (they look like data, not column names)"
    return text


def looks_like_cpr(value: object) -> bool:
    """True when `value` holds something CPR-shaped (what scrub() would mask)."""
    text = "" if value is None else str(value)
    return scrub(text) != text


def private_umask() -> None:
    """Make every file and folder this process creates owner-only (umask 077).

    Called once at process start (the CLI's entry and callback, the Prefect flows, and
    `pipeline.prepare` for library use) and never undone: the umask is process-wide, so
    changing it per operation from threads races with files other threads create at that
    moment (DuckDB's write-ahead log, Great Expectations' pages, the Excel writer's pool).
    """
    os.umask(PRIVATE_UMASK)


def current_umask() -> int | None:
    """The process umask, read without changing it (Linux /proc); None where that is unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return None


_FACTORY_MARK = "_targetgroup_scrubs"


def install_log_scrubber() -> None:
    """Scrub every logging record this process makes, whichever logger or handler it goes to.

    A record factory rather than a handler filter: Prefect adds its own handlers (the one that
    sends run logs to its database among them) and filters on a logger do not see records of
    its children. The message is rendered and scrubbed when the record is made; a traceback is
    rendered and scrubbed then too (handlers print `exc_text`). Safe to call more than once.
    """
    old = logging.getLogRecordFactory()
    if getattr(old, _FACTORY_MARK, False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = old(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return record

    setattr(factory, _FACTORY_MARK, True)
    logging.setLogRecordFactory(factory)


class ScrubbedStream(io.TextIOBase):
    """A text stream that scrubs what is written and passes it to `target()` (e.g. sys.stderr)."""

    def __init__(self, target: Callable[[], object]):
        self._target = target

    def write(self, text: str) -> int:
        self._target().write(scrub(text))
        return len(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return self._target().isatty()

    def fileno(self) -> int:
        return self._target().fileno()

    @property
    def encoding(self) -> str:  # noqa: D102 - rich and click ask for it
        return getattr(self._target(), "encoding", "utf-8")


def scrub_stderr() -> None:
    """Route the process's stderr through scrub() (the CLI's entry point; once)."""
    if not isinstance(sys.stderr, ScrubbedStream):
        real = sys.stderr
        sys.stderr = ScrubbedStream(lambda: real)
