"""The settings the configuration gives the stages that fetch and deliver: plain frozen
dataclasses, apart from the stages, so that reading ``sources.yaml`` (which every command does)
imports neither httpx nor smtplib."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from monitor import __version__


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for every request a ``Fetcher`` makes."""

    connect_timeout: float = 10.0
    total_timeout: float = 30.0  # whole request per attempt: connect + headers + body
    max_body_bytes: int = 8 * 1024 * 1024  # holds for the raw AND the decompressed body
    max_redirects: int = 5
    per_host: int = 2  # concurrent requests to one host (scheme+host+port)
    # Requests in flight at once over all hosts. httpcore rescans its whole queue on every
    # event, so a cycle that starts a thousand sources at once must queue here, not there.
    connections: int = 64
    host_interval: float = 0.0  # seconds between the starts of two requests to one host
    retries: int = 2  # extra attempts after the first
    backoff: float = 1.0  # seconds before retry 1; doubled each retry
    max_retry_after: float = 120.0  # a Retry-After longer than this fails now instead of waiting
    allow_private: bool = False  # follow links to private, loopback and link-local addresses
    user_agent: str = (
        f"film-coop-monitor/{__version__} (news monitor for film-industry cooperation)"
    )

    def __post_init__(self) -> None:
        # per_host=0 would block every fetch forever; catch such values where they are made.
        if min(self.connect_timeout, self.total_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        if min(self.max_body_bytes, self.per_host, self.connections) < 1:
            raise ValueError("max_body_bytes, per_host and connections must be at least 1")
        if min(self.max_redirects, self.retries) < 0 or min(self.backoff, self.max_retry_after) < 0:
            raise ValueError("max_redirects, retries, backoff and max_retry_after must be >= 0")
        if self.host_interval < 0:
            raise ValueError("host_interval must be >= 0")


Security = Literal["starttls", "tls", "none"]


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. The password is read from the environment variable named by
    ``password_env`` at send time, so it never sits in ``sources.yaml`` or in this object."""

    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int = 587
    security: Security = "starttls"
    user: str | None = None
    password_env: str | None = None
    timeout: float = 30.0

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Webhook:
    """A configured webhook: ``format`` "chat" posts a short message, "digest" the whole digest
    JSON."""

    url: str
    format: str = "chat"
    timeout: float = 15.0

    @property
    def digest_format(self) -> str:
        """The name of the digest format it posts (``monitor.formats``)."""
        return "json" if self.format == "digest" else self.format
