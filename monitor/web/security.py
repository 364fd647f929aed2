"""The workspace's defences, apart from the pages: signed session cookies with a CSRF token
inside, the sign-in throttle, safe redirect targets and the response headers.

A session is a cookie signed with the workspace's secret (itsdangerous), holding the user's id,
a random CSRF token and when it was issued; nothing is kept on the server, so a restart keeps
everyone signed in and several ``monitor web`` processes share sessions through the secret.
Signing out (in any browser) or removing the user ends it: the user, with the time of their last
sign-out, is looked up on every request. Failed sign-ins are counted in the database, so every
process counts the same attempts.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "fm_session"
SESSION_SECONDS = 12 * 3600  # a working day; then sign in again
SECRET_ENV = "MONITOR_WEB_SECRET"

# No script anywhere; inline styles only (the digest's look, no remote resources).
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


if TYPE_CHECKING:
    from monitor.store import Store


def load_secret(folder: Path, env: dict[str, str] | None = None) -> str:
    """The secret that signs sessions: ``$MONITOR_WEB_SECRET``, else ``web-secret`` in the
    storage folder, created on first use readable by its owner only."""
    env = dict(os.environ) if env is None else env
    if env.get(SECRET_ENV):
        return env[SECRET_ENV]
    path = folder / "web-secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret


@dataclass(frozen=True)
class Session:
    user_id: int
    csrf: str
    issued_at: float = 0.0  # Unix time, to the microsecond

    def void_after(self, signed_out_at: datetime | None) -> bool:
        """Whether the user signed out after this session was issued."""
        return signed_out_at is not None and self.issued_at < signed_out_at.timestamp()


class Sessions:
    def __init__(self, secret: str) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="film-monitor session")

    def issue(self, user_id: int) -> str:
        # The issue time to the microsecond (the signature's own has whole seconds): a sign-out
        # voids the sessions issued before it, not one signed in a moment after.
        return self._signer.dumps({"u": user_id, "c": secrets.token_urlsafe(24), "t": time.time()})

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:  # tampered, signed with another secret, or expired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), int):
            return None
        issued = data.get("t")
        return Session(
            data["u"],
            str(data.get("c", "")),
            float(issued) if isinstance(issued, int | float) else 0.0,
        )


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf, submitted or "")


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


class FailureLog(Protocol):
    """Where a Throttle keeps the times of failed sign-ins, by key."""

    def recent(self, key: str, since: float) -> list[float]: ...

    def add(self, keys: Sequence[str], at: float) -> None: ...

    def clear(self, key: str) -> None: ...


@dataclass
class MemoryFailures:
    """Failures in this process only (a single-process server, tests)."""

    _times: dict[str, list[float]] = field(default_factory=dict)

    def recent(self, key: str, since: float) -> list[float]:
        kept = [t for t in self._times.get(key, []) if t > since]
        self._times[key] = kept
        return kept

    def add(self, keys: Sequence[str], at: float) -> None:
        for key in keys:
            self._times.setdefault(key, []).append(at)
        if len(self._times) > 10_000:  # bounded memory under a spray of names
            oldest = sorted(self._times, key=lambda k: self._times[k][-1] if self._times[k] else 0)
            for key in oldest[:5_000]:
                del self._times[key]

    def clear(self, key: str) -> None:
        self._times.pop(key, None)


@dataclass
class StoredFailures:
    """Failures in the database: every worker process of ``monitor web --workers N`` counts
    the same attempts, so N processes do not allow N times as many guesses."""

    store: Store
    window: float

    def recent(self, key: str, since: float) -> list[float]:
        return self.store.sign_in_failures(key, since)

    def add(self, keys: Sequence[str], at: float) -> None:
        self.store.add_sign_in_failures(keys, at, forget_before=at - self.window)

    def clear(self, key: str) -> None:
        self.store.clear_sign_in_failures(key)


@dataclass
class Throttle:
    """Failed sign-ins counted per client address and per user name: after ``free`` failures
    within ``window`` seconds, each further attempt waits twice as long as the one before,
    from ``base`` seconds up to ``longest``. A success clears the name's count."""

    free: int = 5
    window: float = 900.0
    base: float = 2.0
    longest: float = 900.0
    clock: Callable[[], float] = time.time
    failures: FailureLog = field(default_factory=MemoryFailures)

    def wait(self, *keys: str) -> float:
        """Seconds before another attempt with these keys is heard (0: now)."""
        now = self.clock()
        longest = 0.0
        for key in keys:
            recent = sorted(self.failures.recent(key, now - self.window))
            if len(recent) >= self.free:
                pause = min(self.longest, self.base * 2 ** (len(recent) - self.free))
                longest = max(longest, recent[-1] + pause - now)
        return max(0.0, longest)

    def failed(self, *keys: str) -> None:
        self.failures.add(keys, self.clock())

    def succeeded(self, key: str) -> None:
        self.failures.clear(key)
