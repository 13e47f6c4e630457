"""Server-side sessions, CSRF tokens and the log-in lock-out, all in the server's memory.

    Sessions(idle_seconds)      new(user) -> Session, get(token) -> Session | None, drop(token)
    LockOut(attempts, window_seconds, lock_seconds)   locked(keys), failed(keys), succeeded(keys)

A session is a random token (the cookie) pointing at the user and a per-session CSRF token;
nothing about the user is in the cookie. A session not used for `idle_seconds` is gone; a
restart of the server ends every session. Every form carries the session's CSRF token and the
server compares it with hmac.compare_digest.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class Session:
    """One browser's session: anonymous (user None: only the log-in form) or a logged-in user."""

    token: str
    csrf: str
    last_seen: float
    user: str | None = None
    role: str | None = None
    departments: list[str] = field(default_factory=list)

    def csrf_ok(self, sent: str | None) -> bool:
        """Whether `sent` is this session's CSRF token (constant-time comparison)."""
        return bool(sent) and hmac.compare_digest(self.csrf.encode(), str(sent).encode())


class Sessions:
    """The live sessions by token; `clock` is injectable so tests can let time pass."""

    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, user: str | None = None, role: str | None = None, departments: list[str] | None = None) -> Session:
        """A fresh session with new random token and CSRF token."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock(), user, role,
                          list(departments or []))
        with self._lock:
            self._expire()
            self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The session for `token` if it exists and was used within the idle timeout (then touched)."""
        if not token:
            return None
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None
            now = self.clock()
            if now - session.last_seen > self.idle_seconds:
                del self._by_token[token]
                return None
            session.last_seen = now
            return session

    def drop(self, token: str | None) -> None:
        """End a session (log-out); its token is worth nothing afterwards."""
        with self._lock:
            self._by_token.pop(token or "", None)

    def _expire(self) -> None:
        now = self.clock()
        for token in [t for t, s in self._by_token.items() if now - s.last_seen > self.idle_seconds]:
            del self._by_token[token]


class LockOut:
    """After `attempts` failed log-ins within `window_seconds` for a key (a user name, an
    address), that key is locked for `lock_seconds`. Unknown and known names are treated alike."""

    def __init__(self, attempts: int = 5, window_seconds: float = 900, lock_seconds: float = 300,
                 clock: Callable[[], float] = time.monotonic):
        self.attempts, self.window_seconds, self.lock_seconds = attempts, window_seconds, lock_seconds
        self.clock = clock
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def locked(self, keys: Iterable[str]) -> bool:
        """Whether any of `keys` is locked now."""
        now = self.clock()
        with self._lock:
            return any(self._locked_until.get(k, 0) > now for k in keys)

    def failed(self, keys: Iterable[str]) -> None:
        """Count a failed log-in against every key; lock the keys that reach `attempts`."""
        now = self.clock()
        with self._lock:
            for key in keys:
                recent = [t for t in self._failures.get(key, []) if now - t < self.window_seconds] + [now]
                self._failures[key] = recent
                if len(recent) >= self.attempts:
                    self._locked_until[key] = now + self.lock_seconds
                    self._failures[key] = []

    def succeeded(self, keys: Iterable[str]) -> None:
        """A successful log-in clears the failures of its keys."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
