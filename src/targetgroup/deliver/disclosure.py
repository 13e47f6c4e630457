"""Statistical disclosure control of the leadership figures: keyed random rounding to base 5.

    rounding_key(warehouse, environ)          -> bytes (secret; created beside the warehouse once)
    rounded(key, cell, n)                     -> int, a multiple of 5
    protect(counts, key, same_as, hide=())    -> Published

Every published count is rounded on its own to a multiple of BASE (5): down to 5*floor(n/5) or
up to the next multiple, up with probability (n mod 5)/5, so the rounding is unbiased and a
multiple of 5 stays as it is. The coin is not random at run time but HMAC-SHA256(key,
"<cell>|<n>"): the same true value of the same cell rounds the same way in every report, so a
figure that is re-published night after night (the size series, a department combination that
does not change) shows the same number and cannot be averaged out. The key is secret: with it a
reader could tell which true values round to the published one.

A reader who sees R knows only that the true value is in R-4 .. R+4 (0 .. 4 for R = 0): nine
possible values, five for a published 0. Totals are rounded independently of their parts, so
the parts need not add up to the total; targetgroup.deliver.audit checks, with every margin
and total of the report (and the previous report) as constraints, that no figure is pinned to
fewer than five values. Cells that the audit finds pinned are hidden ("•") by the caller
(deliver.figures) until the audit passes. `same_as` names cells that are the same number by
construction (a department with one combination, the only rule and the total): they share a
rounding coin, so two roundings of one number never narrow it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from targetgroup.errors import ConfigError

BASE = 5
HIDDEN = "•"
ENV_KEY_FILE = "TARGETGROUP_DISCLOSURE_KEY_FILE"
KEY_FILE = "disclosure.key"
MIN_KEY_LENGTH = 32


def rounding_key(warehouse: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """The secret rounding key: from $TARGETGROUP_DISCLOSURE_KEY_FILE, else `disclosure.key`
    beside the warehouse, created (mode 600, 32 random bytes as hex) the first time."""
    env = os.environ if environ is None else environ
    if env.get(ENV_KEY_FILE):
        path = Path(env[ENV_KEY_FILE]).expanduser()
        if not path.is_file():
            raise ConfigError(f"{ENV_KEY_FILE} names {path}, which is not a file; create it with "
                              "`python -c \"import secrets; print(secrets.token_hex(32))\" > FILE`")
    else:
        path = Path(warehouse).parent / KEY_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it between the check and the open
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32) + "\n")
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"the disclosure rounding key in {path} is shorter than {MIN_KEY_LENGTH} characters; "
                          "use 32 random bytes as hex")
    return key


def cell_name(cell: Hashable) -> str:
    """The text a cell's coin is drawn from: its key parts joined with '|'."""
    return "|".join(str(p) for p in cell) if isinstance(cell, tuple) else str(cell)


def rounded(key: bytes, cell: Hashable, n: int) -> int:
    """`n` rounded to a multiple of BASE, up with probability (n mod BASE)/BASE, keyed per (cell, n)."""
    if n < 0:
        raise ValueError("counts are never negative")
    low, rest = divmod(n, BASE)
    digest = hmac.new(key, f"{cell_name(cell)}|{n}".encode(), hashlib.sha256).digest()
    coin = int.from_bytes(digest[:8], "big") / 2**64
    return BASE * (low + (1 if coin * BASE < rest else 0))


@dataclass(frozen=True)
class Published:
    """The outcome: the true counts, their rounded values and the hidden cells; renderers read
    `show`/`value`, never the true counts."""

    counts: Mapping[Hashable, int]
    published: Mapping[Hashable, int]
    hidden_cells: frozenset = field(default_factory=frozenset)

    def hidden(self, key: Hashable) -> bool:
        """True if the cell is not shown at all."""
        return key in self.hidden_cells

    def show(self, key: Hashable) -> str:
        """The published text of a cell: the rounded count or '•'."""
        return HIDDEN if key in self.hidden_cells else str(self.published[key])

    def value(self, key: Hashable) -> int | None:
        """The published (rounded) number, or None when hidden (charts draw no bar)."""
        return None if key in self.hidden_cells else self.published[key]


def protect(counts: Mapping[Hashable, int], key: bytes, same_as: Mapping[Hashable, Hashable] | None = None,
            hide: Iterable[Hashable] = ()) -> Published:
    """Round every count of `counts` (keyed per cell; a cell in `same_as` draws the coin of the
    cell it names) and hide the cells in `hide`."""
    same_as = same_as or {}
    published = {cell: rounded(key, same_as.get(cell, cell), int(n)) for cell, n in counts.items()}
    return Published(counts=dict(counts), published=published, hidden_cells=frozenset(hide))
