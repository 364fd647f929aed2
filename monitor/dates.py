"""Which publication dates are believed: one window for feeds and sitemaps alike.

A date before the web's news feeds, or more than a day ahead (a feed in a time zone it does not
state, at most 14 hours; a scheduled post), is not the story's date: the story is then dated by
when it was fetched, and the digest says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


def plausible(value: datetime | None, now: datetime) -> datetime | None:
    """``value`` when it can be a story's publication date as of ``now``, else None."""
    if value is None or value < EARLIEST or value > now + FUTURE_SLACK:
        return None
    return value
