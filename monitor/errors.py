"""The monitor's exceptions, one tree::

MonitorError
├── ConfigError          bad sources.yaml or rule file: stops the run, exit status 2
├── SourceError          one source failed: recorded with a stable code, the run goes on
│   ├── FetchError       fetch.timeout, fetch.http_404, fetch.too_large, ...
│   ├── ParseError       parse.not_a_feed, ...
│   └── ExtractError     extract.no_text, ...
├── StorageError         the database cannot be used: stops the run
├── RunLockedError       another cycle holds the storage lock
└── DeliveryError        a digest could not be written or sent
"""

from __future__ import annotations

from dataclasses import dataclass


class MonitorError(Exception):
    """Base of every error the monitor raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a configuration or rule file."""

    file: str
    line: int | None
    field: str
    message: str
    column: int | None = None  # where the YAML parser stopped, for syntax errors

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        if self.line is not None and self.column is not None:
            where += f":{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigError(MonitorError):
    """A configuration or rule file is invalid. Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in problems))


class SourceError(MonitorError):
    """A failure confined to one source or one article, identified by a stable ``code``."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str]]:
        # Raised in extraction worker processes and pickled back to the parent.
        return (type(self), (self.code, self.message))


class FetchError(SourceError):
    """HTTP-level failure: time-out, refused connection, bad status, body too large, ...
    ``status`` is the HTTP status of a ``fetch.http_<status>`` failure (see monitor.codes)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(code, message)
        self.status = status

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str, int | None]]:  # type: ignore[override]
        return (type(self), (self.code, self.message, self.status))


class ParseError(SourceError):
    """The body could not be read as a feed."""


class ExtractError(SourceError):
    """No article text could be extracted from a page."""


class StorageError(MonitorError):
    """The database could not be opened, migrated or written."""


class RunLockedError(MonitorError):
    """Another cycle is running on the same storage."""


class DeliveryError(MonitorError):
    """A digest could not be written or delivered."""


class AccountError(MonitorError):
    """A workspace account could not be created, changed or used as asked (a bad name, role or
    password, an unknown or duplicate user)."""


class AlertNotFound(MonitorError):
    """``monitor alerts test NAME`` names no configured rule."""
