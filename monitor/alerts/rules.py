"""Alert rules as configured (``alerts:`` in ``sources.yaml``) and the pure decisions made on
them: which stored story a rule wants, when a rule is quiet, how many stories an hour it may
send one by one, how long a failing channel waits before the next try."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from monitor.models import Article

CHAT = "chat"
STORIES = "stories"


@dataclass(frozen=True)
class AlertChannel:
    """Where a rule's alerts go: exactly one of ``webhook`` (a URL), ``email`` (recipients,
    sent through ``digest.email``'s server) or ``apprise`` (an apprise URL, ``{env:NAME}``
    replaced from the environment when sending)."""

    webhook: str | None = None
    email: tuple[str, ...] = ()
    apprise: str | None = None
    format: str = STORIES  # webhook only: stories (JSON) or chat (a short text)
    timeout: float = 15.0

    @property
    def label(self) -> str:
        """What messages call it; never the URL, which often holds a secret."""
        if self.webhook:
            from monitor.channels.webhook import redact

            return f"webhook {redact(self.webhook)}"
        if self.email:
            return f"e-mail to {', '.join(self.email)}"
        scheme = (self.apprise or "").split("://", 1)[0]
        return f"apprise {scheme}://…"

    @property
    def key(self) -> str:
        """A stable name for the channel's delivery records: the same channel keeps its key when
        the rule's channels are reordered. A hash, so a secret in the URL is not stored."""
        spec = f"{self.webhook}|{','.join(self.email)}|{self.apprise}|{self.format}"
        return hashlib.sha256(spec.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time  # may be before start: the quiet hours run over midnight

    def holds(self, moment: datetime, tz: tzinfo) -> bool:
        local = moment.astimezone(tz).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``"22:00-07:00"``. Raises ValueError saying what is wrong."""
        parts = text.replace(" ", "").split("-")
        if len(parts) != 2:
            raise ValueError(f'{text!r} is not a span of hours; write e.g. "22:00-07:00"')
        try:
            start, end = (time.fromisoformat(p) for p in parts)
        except ValueError:
            raise ValueError(f'{text!r} is not a span of hours; write e.g. "22:00-07:00"') from None
        if start == end:
            raise ValueError(f"{text!r} starts and ends at the same time")
        return cls(start, end)


@dataclass(frozen=True)
class AlertRule:
    name: str
    topic: str
    channels: tuple[AlertChannel, ...]
    min_score: float = 0.0
    countries: frozenset[str] = frozenset()  # any of; empty: any
    aspects: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()  # source names, case-insensitive
    quiet_hours: QuietHours | None = None
    max_per_hour: int | None = None

    def matches(self, article: Article) -> bool:
        tagging = article.tagging
        if self.topic not in tagging.topics or tagging.score < self.min_score:
            return False
        if self.countries and not self.countries.intersection(tagging.countries):
            return False
        if self.aspects and not self.aspects.intersection(tagging.aspects):
            return False
        if self.languages and (article.language or "") not in self.languages:
            return False
        return not self.sources or article.source.casefold() in self.sources


# A failing channel is tried again after 1, 2, 4 ... minutes, at most an hour apart: a chat
# service down for a minute delays one alert a little, one down for a day is not hammered.
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)


def retry_after(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure in a row."""
    wait: timedelta = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 12)
    return min(wait, LAST_RETRY)


HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Plan:
    """What to send through one channel now: ``single`` stories as they are, or all of them
    in one ``rollup`` message; ``hold`` keeps them pending for a later cycle."""

    send: tuple[int, ...] = ()  # alert ids
    rollup: bool = False

    @property
    def hold(self) -> bool:
        return not self.send


def plan(
    pending: tuple[int, ...],
    *,
    sent_last_hour: int,
    rollup_last_hour: bool,
    max_per_hour: int | None,
) -> Plan:
    """Up to ``max_per_hour`` stories an hour go one by one (one message a cycle with that
    cycle's stories); beyond it the rest wait for one roll-up message, at most one an hour."""
    if not pending:
        return Plan()
    if max_per_hour is None:
        return Plan(pending)
    room = max(max_per_hour - sent_last_hour, 0)
    if len(pending) <= room:
        return Plan(pending)
    if rollup_last_hour:
        return Plan()  # the next roll-up gathers them
    return Plan(pending, rollup=True)
