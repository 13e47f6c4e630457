"""Small-cell suppression for published counts: primary (1-4) and secondary (complementary).

A *cell* is one published count, named by a key. A *relation* is a set of cells that are
linked by a known equation, for example a total and its parts (total = sum of parts), or a
run's size with the previous size, new and ended (size = previous + new - ended). If exactly
one cell of a relation is hidden, the others give it away, whatever the signs.

Algorithm:
1. Primary: every cell with 0 < n < 5 is hidden ("<5"). Zero reveals nobody and stays.
2. Secondary: while some relation has exactly one hidden cell, hide one more cell of that
   relation: the smallest visible one (ties: the first in the relation's order), but a cell
   named in `keep` (headline figures such as totals) only when nothing else is left. A hidden
   zero protects too: the reader only learns the sum of the hidden cells, not how it splits.
   Hidden cells are marked "•" so a reader can tell a protective hide from a small count.
3. Repeat until no relation has exactly one hidden cell. Every hide is permanent, so this ends.

The same cell keyed once is hidden everywhere it is shown: renderers read from the result,
never from the raw counts, so a figure is suppressed consistently across tables and charts.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

SMALL = 5
PRIMARY = "<5"
SECONDARY = "•"


@dataclass(frozen=True)
class Suppressed:
    """The outcome: which cells are hidden and why; `show(key)` gives the text to publish."""

    counts: Mapping[Hashable, int]
    primary: frozenset
    secondary: frozenset

    def hidden(self, key: Hashable) -> bool:
        """True if the cell must not be shown."""
        return key in self.primary or key in self.secondary

    def show(self, key: Hashable) -> str:
        """The published text of a cell: the count, '<5' or '•'."""
        if key in self.primary:
            return PRIMARY
        if key in self.secondary:
            return SECONDARY
        return str(self.counts[key])

    def value(self, key: Hashable) -> int | None:
        """The publishable number, or None when hidden (charts draw no bar)."""
        return None if self.hidden(key) else self.counts[key]


def suppress(counts: Mapping[Hashable, int], relations: Iterable[Iterable[Hashable]] = (),
             keep: Iterable[Hashable] = ()) -> Suppressed:
    """Apply primary and secondary suppression to `counts` under `relations` (see module doc)."""
    keep = set(keep)
    rels = [list(dict.fromkeys(r)) for r in relations]
    for rel in rels:
        unknown = [k for k in rel if k not in counts]
        if unknown:
            raise KeyError(f"relation names cells that have no count: {unknown[:3]}")
    primary = {k for k, n in counts.items() if 0 < n < SMALL}
    secondary: set = set()
    changed = True
    while changed:
        changed = False
        for rel in rels:
            hidden = [k for k in rel if k in primary or k in secondary]
            if len(hidden) != 1:
                continue
            visible = [k for k in rel if k not in primary and k not in secondary]
            if not visible:
                continue
            pick = min(visible, key=lambda k: (k in keep, counts[k], visible.index(k)))
            secondary.add(pick)
            changed = True
    return Suppressed(counts=dict(counts), primary=frozenset(primary), secondary=frozenset(secondary))
