"""SIGINT and SIGTERM during a run: stop cleanly before the commit, never during it.

    with guard() as g:          # installs handlers for SIGINT and SIGTERM (main thread only)
        ...                     # a signal raises Interrupted here: the run rolls back
        g.hold()                # from now on (the commit has been sent) a signal is only recorded
        ...                     # the commit finishes; g.received says a signal came

A signal is turned into `Interrupted` (a KeyboardInterrupt, so DuckDB stops a running query at
once) until `hold()`; after it, or after the first signal, further signals are only recorded,
so the clean-up that follows (rollback, the run folder's marker) is not itself interrupted.
DuckDB turns an interrupt inside a query into its own exception (RuntimeError 'Query
interrupted'), and a stage may wrap that again: whoever handles a failure asks `received`, not
the exception's type.

Exit codes of `targetgroup run` and `targetgroup deliver` (EXIT_*; README "Exit codes").
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

EXIT_OK = 0
EXIT_ERROR = 1                    # the run failed; nothing was stored
EXIT_INTERRUPTED = 3              # SIGINT/SIGTERM before the commit: rolled back, nothing was stored
EXIT_INTERRUPTED_COMMITTED = 4    # SIGINT/SIGTERM once the commit was sent: the run IS stored and published
EXIT_DELIVERY_PENDING = 5         # the run IS stored, but some deliveries are pending (`targetgroup deliver`)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a run was working (raised by the guard's handler)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@dataclass
class Guard:
    """What the handlers saw: the first signal (`received`) and whether they may still raise."""

    received: int | None = None
    held: bool = False

    @property
    def name(self) -> str | None:
        """'SIGINT' or 'SIGTERM' once a signal came, else None."""
        return signal.Signals(self.received).name if self.received else None

    def hold(self) -> None:
        """The commit is about to be sent: from now on signals are recorded, never raised."""
        self.held = True

    def _handle(self, signum: int, frame: object) -> None:
        first = self.received is None
        if first:
            self.received = signum
        if first and not self.held:
            raise Interrupted(signum)


@contextmanager
def guard() -> Iterator[Guard]:
    """Handle SIGINT and SIGTERM while the block runs, then restore the previous handlers.

    Outside the main thread (e.g. a Prefect worker thread) Python cannot install handlers: the
    guard then only tells `received is None`, and the ledger check in `warehouse.commit` still
    settles an interrupt that lands in the commit.
    """
    g = Guard()
    if threading.current_thread() is not threading.main_thread():
        yield g
        return
    previous = {s: signal.signal(s, g._handle) for s in SIGNALS}
    try:
        yield g
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
