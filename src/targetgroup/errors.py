"""Every error targetgroup raises on purpose.

    TargetGroupError            base: message says what, where and what to do next
    ├── ConfigError             a sources or settings file is wrong (file, key)
    ├── InputError              an extract cannot be read or has the wrong shape (file, line)
    ├── ValidationError         the quality gate stopped the run (source, expectation)
    ├── RulesError              a rule file is wrong (file, line, field)
    └── RunError                the run itself was refused (lock held, as-of before last run)
        └── RunInterrupted      SIGINT/SIGTERM stopped the run before its commit; nothing stored

Messages never contain a CPR number: rows are referred to by source, line and a masked CPR
(see `targetgroup.cpr.mask`), and the rendered text goes through `targetgroup.privacy.scrub`
as well. An exception of another kind (DuckDB's quote the cell they could not convert) leaves
the pipeline as a RunError naming only its type (`internal`). The CLI turns these into
`Error: ...` and exit code 1 (RunInterrupted: 3, see targetgroup.interrupts).
"""

from __future__ import annotations

from pathlib import Path

from targetgroup.privacy import scrub


class TargetGroupError(Exception):
    """Base class: a problem the user can fix; `str()` is the full message."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return scrub(text)   # defence in depth: messages are worded without cells already

    def __reduce__(self):
        # Pickled (Prefect stores a failed flow's exception in its result storage): the rendered,
        # scrubbed text only, none of the parts it was made from.
        return _unpickle, (type(self), str(self))


def _unpickle(cls: type, text: str) -> TargetGroupError:
    exc = cls.__new__(cls)
    TargetGroupError.__init__(exc, text)
    return exc


def location(file: str | Path | None, line: int | None = None, key: str | None = None) -> str | None:
    """Format a 'file:line: key' location; parts that are None are left out."""
    if file is None and key is None:
        return None
    parts = [str(file)] if file is not None else []
    if line is not None:
        parts[-1:] = [f"{parts[-1]}:{line}"] if parts else [f"line {line}"]
    if key:
        parts.append(key)
    return ": ".join(parts)


class ConfigError(TargetGroupError):
    """A configuration file (sources, settings) is missing, malformed or inconsistent."""

    def __init__(self, message: str, *, file: str | Path | None = None, key: str | None = None,
                 line: int | None = None, hint: str | None = None):
        self.file, self.key, self.line = file, key, line
        super().__init__(message, where=location(file, line, key), hint=hint)


class InputError(TargetGroupError):
    """An extract cannot be read, or its content breaks the contract of its source."""

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 source: str | None = None, hint: str | None = None):
        self.file, self.line, self.source = file, line, source
        where = location(file, line)
        if source:
            where = f"{where} (source {source})" if where else f"source {source}"
        super().__init__(message, where=where, hint=hint)


class ValidationError(TargetGroupError):
    """The quality gate found an error-level problem; nothing was stored."""


class RulesError(TargetGroupError):
    """A rule file is invalid; carries every problem found, each with file, line and field."""

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 field: str | None = None, hint: str | None = None,
                 problems: list["RulesError"] | None = None):
        self.file, self.line, self.field = file, line, field
        self.problems = problems or []
        super().__init__(message, where=location(file, line, field), hint=hint)


class RunError(TargetGroupError):
    """The run was refused before it changed anything (lock held, as-of in the past, ...)."""


def internal(exc: BaseException, stage: str | None = None) -> RunError:
    """A RunError for an unexpected exception: its type (and the stage) only, never its text,
    which may quote an input row."""
    where = f" in {stage}" if stage else ""
    return RunError(f"internal error{where} ({type(exc).__name__})",
                    hint="rerun with --debug to see the traceback (CPR numbers masked)")


class RunInterrupted(RunError):
    """SIGINT or SIGTERM stopped the run before its commit: it rolled back, nothing was stored."""
