"""When each source is fetched next, and when the digest is due: pure functions of the clock.

``monitor run`` (from cron) and ``monitor serve`` make the same decisions from the same stored
state, so a source is never fetched more often because of how the monitor is started.

- A source's **interval** adapts to how often it publishes: about one new article per fetch,
  within ``[min_interval, max_interval]`` (5 minutes to a day by default). Until a source has a
  few days of history, or with ``adaptive: false``, the configured ``interval`` holds.
- A failing source **backs off** by the class of its error, and is never given up:

  ============ ================================================ ===============================
  class        errors                                           next attempt after
  ============ ================================================ ===============================
  temporary    time-outs, refused connections, 429, 5xx         interval × 2^(n−1), ≤ 6 h
  soft         a body that is not a feed, too large, other 4xx  interval × 2^n, ≤ 12 h
  hard         404, 410, 401, 403, a bad URL or scheme          interval × 4^n, ≤ 24 h
  ============ ================================================ ===============================

  (n consecutive failures; never sooner than the interval itself).
- **Jitter** of ±``jitter`` (10% by default) spreads sources that share an interval, so that a
  hundred sources added at once do not stay in step forever.
- The **digest** is due at ``digest.time`` (``"08:00"``) or on a crontab line, in the
  configuration's time zone; a slot missed by less than ``grace`` is caught up once.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from monitor.codes import FailureClass, lookup

HISTORY_DAYS = 7  # publishing rate measured over this many days
MIN_HISTORY = timedelta(days=2)  # adapt only once a source has been watched this long


# (factor per failure, first exponent offset, cap)
_BACKOFF: dict[FailureClass, tuple[float, int, timedelta]] = {
    FailureClass.TEMPORARY: (2.0, -1, timedelta(hours=6)),
    FailureClass.SOFT: (2.0, 0, timedelta(hours=12)),
    FailureClass.HARD: (4.0, 0, timedelta(hours=24)),
}


def failure_class(code: str | None) -> FailureClass:
    """The back-off class of a stable error code (the catalogue in ``monitor.codes``): no code
    is the network's fault, an unknown one an answer that was not usable."""
    if not code:
        return FailureClass.TEMPORARY
    entry = lookup(code)
    return entry.backoff if entry is not None else FailureClass.SOFT


@dataclass(frozen=True)
class SchedulePolicy:
    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(hours=24)
    jitter: float = 0.1  # a fraction of the interval, either way
    grace: timedelta = timedelta(hours=1)  # a missed run is caught up if this late at most
    # How long a worker's hold on a source lasts without a heartbeat (several workers on one
    # database): a dead worker's sources go back to the others after this.
    lease: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class History:
    """What the store knows of a source, for deciding its next fetch."""

    watched_for: timedelta  # since its first attempt
    items_last_days: int  # articles stored in the last HISTORY_DAYS days
    consecutive_failures: int = 0
    last_error: str | None = None


def adaptive_interval(
    configured: timedelta, history: History, policy: SchedulePolicy, adaptive: bool = True
) -> timedelta:
    """About one new article per fetch, bounded; the configured interval until the source has
    history (or when adaptation is off)."""
    if not adaptive or history.watched_for < MIN_HISTORY:
        return configured
    days = min(history.watched_for, timedelta(days=HISTORY_DAYS)) / timedelta(days=1)
    if history.items_last_days == 0:
        return policy.max_interval
    target = timedelta(days=days / history.items_last_days)
    return max(policy.min_interval, min(policy.max_interval, target))


def retry_delay(interval: timedelta, history: History) -> timedelta:
    """How long after a failed attempt the next one comes (``interval`` when none failed)."""
    n = history.consecutive_failures
    if n <= 0:
        return interval
    factor, offset, cap = _BACKOFF[failure_class(history.last_error)]
    ceiling = max(cap, interval)
    # Stop multiplying at the cap: factor ** n overflows timedelta after weeks of failures.
    delay = interval
    for _ in range(max(0, n + offset)):
        delay = delay * factor
        if delay >= ceiling:
            return ceiling
    return delay


def next_attempt(
    attempted_at: datetime,
    configured: timedelta,
    history: History,
    policy: SchedulePolicy,
    *,
    adaptive: bool = True,
    rng: random.Random | None = None,
) -> datetime:
    """When a source attempted at ``attempted_at`` is due again."""
    interval = adaptive_interval(configured, history, policy, adaptive)
    delay = retry_delay(interval, history)
    if policy.jitter:
        spread = (rng or random).uniform(-policy.jitter, policy.jitter)
        delay = delay * (1 + spread)
    return attempted_at + delay


def is_due(next_due: datetime | None, now: datetime) -> bool:
    return next_due is None or next_due <= now


# -- the digest's slots -----------------------------------------------------------------------

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_TOKEN = re.compile(r"^(\*|\w+)(?:-(\w+))?(?:/(\d+))?$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day; write e.g. 08:00")
    return time(int(match.group(1)), int(match.group(2)))


def digest_trigger(when: str, tz: tzinfo) -> CronTrigger:
    """``"08:00"`` or a five-field crontab line (``"30 7 * * mon-fri"``) as a trigger in ``tz``.

    Crontab's day-of-week numbers count from Sunday = 0 (and 7); APScheduler 3 counts them from
    Monday, so numbers are translated to day names before APScheduler sees them.
    Raises ValueError with a message for the configuration file."""
    text = when.strip()
    if _TIME.match(text):
        at = parse_time(text)
        return CronTrigger(hour=at.hour, minute=at.minute, timezone=tz)
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(
            f"{when!r} is neither a time (08:00) nor a crontab line of five fields "
            "(minute hour day month weekday)"
        )
    if not fields[2].startswith("*") and not fields[4].startswith("*"):
        # Both restricted: cron fires when either matches, APScheduler only when both do.
        # Refused rather than read differently from what the line means to its author.
        raise ValueError(
            f"{when!r} restricts both the day of the month and the weekday; give one of them"
        )
    try:
        fields[4] = _weekdays(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=tz)
    except ValueError as exc:
        raise ValueError(f"{when!r} is not a valid crontab line ({exc})") from None


def _weekdays(field: str) -> str:
    """A crontab weekday field (numbers, names, ranges, steps, lists) as a list of day names,
    which APScheduler reads the same way cron does. Ranges are expanded: ``0-2`` is Sunday to
    Tuesday in cron but would be an empty range in APScheduler's Monday-first numbering."""
    if field == "*":
        return field
    days: set[int] = set()
    for token in field.split(","):
        match = _DAY_TOKEN.match(token.strip().lower())
        if not match:
            raise ValueError(f"weekday {token!r} is not understood")
        first, last, step = match.groups()
        start, end = (0, 6) if first == "*" else (_day(first), _day(last or first))
        if first != "*" and last is None and step:
            end = 6  # "1/2": from Monday, every second day
        if end < start:
            raise ValueError(f"weekday range {token!r} runs backwards")
        days.update(d % 7 for d in range(start, end + 1, int(step or 1)))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _day(text: str) -> int:
    if text.isdigit():
        number = int(text)
        if number > 7:
            raise ValueError(f"weekday {number} is out of range (0-7, 0 and 7 are Sunday)")
        return number
    if text[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(text[:3])
    raise ValueError(f"weekday {text!r} is not a number 0-7 or a day name")


def next_slot(trigger: CronTrigger, after: datetime) -> datetime | None:
    """The trigger's first fire time strictly after ``after``."""
    # get_next_fire_time returns ``now`` itself when it matches; step past it.
    slot: datetime | None = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    return slot


def last_slot(trigger: CronTrigger, now: datetime, horizon: timedelta) -> datetime | None:
    """The trigger's latest fire time at or before ``now``, looking back at most ``horizon``."""
    slot = trigger.get_next_fire_time(None, now - horizon)
    latest = None
    while slot is not None and slot <= now:
        latest = slot
        slot = next_slot(trigger, slot)
    return latest


def missed_slot(
    trigger: CronTrigger, now: datetime, last_done: datetime | None, grace: timedelta
) -> datetime | None:
    """A slot that passed less than ``grace`` ago and was not served (``last_done`` is the slot
    of the last digest delivered on schedule); it is caught up once."""
    slot = last_slot(trigger, now, grace)
    if slot is None or (last_done is not None and last_done >= slot):
        return None
    return slot
