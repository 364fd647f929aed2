"""``monitor.schedule``: back-off classes and delays, the adaptive interval, jitter, and the
digest's slots. Pure functions of the clock: no I/O, no sleeping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.codes import FailureClass
from monitor.schedule import (
    History,
    SchedulePolicy,
    adaptive_interval,
    digest_trigger,
    failure_class,
    is_due,
    last_slot,
    missed_slot,
    next_attempt,
    next_slot,
    parse_time,
    retry_delay,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
UTC_ZONE = ZoneInfo("UTC")
BAKU = ZoneInfo("Asia/Baku")  # UTC+4 all year, no DST
POLICY = SchedulePolicy()  # 5 min .. 24 h, jitter 10 %, grace 1 h


def failing(n: int, code: str | None) -> History:
    return History(
        watched_for=timedelta(0), items_last_days=0, consecutive_failures=n, last_error=code
    )


def watched(days: float, items: int) -> History:
    return History(watched_for=timedelta(days=days), items_last_days=items)


# -- failure classes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["fetch.http_404", "fetch.http_410", "fetch.http_401", "fetch.http_403"]
)
def test_gone_or_forbidden_is_hard(code: str) -> None:
    assert failure_class(code) is FailureClass.HARD


@pytest.mark.parametrize("code", ["fetch.bad_url", "fetch.bad_scheme", "fetch.bad_redirect"])
def test_bad_addresses_are_hard(code: str) -> None:
    assert failure_class(code) is FailureClass.HARD


@pytest.mark.parametrize(
    "code",
    [
        "fetch.http_429",
        "fetch.http_500",
        "fetch.http_502",
        "fetch.http_503",
        "fetch.timeout",
        "fetch.dns",
        "fetch.refused",
        "fetch.connect",
        "fetch.network",
        "internal.error",
    ],
)
def test_overload_and_network_trouble_is_temporary(code: str) -> None:
    assert failure_class(code) is FailureClass.TEMPORARY


@pytest.mark.parametrize(
    "code",
    ["parse.not_a_feed", "fetch.too_large", "fetch.http_400", "fetch.http_418", "parse.empty"],
)
def test_bodies_we_cannot_use_and_other_4xx_are_soft(code: str) -> None:
    assert failure_class(code) is FailureClass.SOFT


def test_no_code_counts_as_temporary() -> None:
    assert failure_class(None) is FailureClass.TEMPORARY
    assert failure_class("") is FailureClass.TEMPORARY


# -- retry delays -----------------------------------------------------------------------------


def test_no_failure_means_the_interval() -> None:
    assert retry_delay(HOUR, failing(0, None)) == HOUR
    assert retry_delay(HOUR, failing(0, "fetch.http_404")) == HOUR


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, HOUR), (2, 2 * HOUR), (3, 4 * HOUR), (4, 6 * HOUR), (10, 6 * HOUR)],
)
def test_temporary_doubles_from_the_interval_up_to_6_hours(n: int, expected: timedelta) -> None:
    assert retry_delay(HOUR, failing(n, "fetch.timeout")) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, 2 * HOUR), (2, 4 * HOUR), (3, 8 * HOUR), (4, 12 * HOUR), (10, 12 * HOUR)],
)
def test_soft_doubles_from_twice_the_interval_up_to_12_hours(n: int, expected: timedelta) -> None:
    assert retry_delay(HOUR, failing(n, "parse.not_a_feed")) == expected


@pytest.mark.parametrize(("n", "expected"), [(1, 4 * HOUR), (2, 16 * HOUR), (3, DAY), (12, DAY)])
def test_hard_quadruples_up_to_a_day(n: int, expected: timedelta) -> None:
    assert retry_delay(HOUR, failing(n, "fetch.http_404")) == expected


def test_short_intervals_grow_by_the_same_factors() -> None:
    ten = timedelta(minutes=10)
    assert retry_delay(ten, failing(3, "fetch.http_503")) == 40 * timedelta(minutes=1)
    assert retry_delay(ten, failing(3, "fetch.http_400")) == 80 * timedelta(minutes=1)
    assert retry_delay(ten, failing(2, "fetch.http_410")) == 160 * timedelta(minutes=1)


@pytest.mark.parametrize("code", ["fetch.timeout", "parse.not_a_feed", "fetch.http_404"])
def test_never_sooner_than_an_interval_longer_than_the_cap(code: str) -> None:
    interval = 2 * DAY
    for n in (1, 2, 5):
        assert retry_delay(interval, failing(n, code)) == interval


@pytest.mark.parametrize(
    ("code", "cap"),
    [("fetch.timeout", 6 * HOUR), ("parse.not_a_feed", 12 * HOUR), ("fetch.http_404", DAY)],
)
def test_delays_grow_monotonically_to_the_cap(code: str, cap: timedelta) -> None:
    delays = [retry_delay(HOUR, failing(n, code)) for n in range(1, 15)]
    assert delays == sorted(delays)
    assert all(HOUR <= d <= cap for d in delays)
    assert delays[-1] == cap


@pytest.mark.parametrize(
    ("code", "cap", "n"),
    [
        ("fetch.http_404", DAY, 18),
        ("fetch.http_404", DAY, 1000),
        ("parse.not_a_feed", 12 * HOUR, 35),
        ("parse.not_a_feed", 12 * HOUR, 1000),
        ("fetch.timeout", 6 * HOUR, 36),
        ("fetch.timeout", 6 * HOUR, 1000),
    ],
    ids=["hard-18", "hard-1000", "soft-35", "soft-1000", "temporary-36", "temporary-1000"],
)
def test_back_off_never_gives_up_even_after_many_failures(
    code: str, cap: timedelta, n: int
) -> None:
    assert retry_delay(HOUR, failing(n, code)) == cap


def test_next_attempt_for_a_source_down_for_three_weeks() -> None:
    # A daily source that has answered 404 every day for three weeks.
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    due = next_attempt(now, DAY, failing(21, "fetch.http_404"), POLICY, rng=random.Random(1))
    assert now + 0.9 * DAY <= due <= now + 1.1 * DAY


# -- adaptive interval ------------------------------------------------------------------------


def test_configured_interval_until_two_days_of_history() -> None:
    configured = 3 * HOUR
    for days in (0, 0.5, 1.99):
        assert adaptive_interval(configured, watched(days, 500), POLICY) == configured


def test_about_one_item_per_fetch() -> None:
    # 7 days, 168 items: one an hour.
    assert adaptive_interval(3 * HOUR, watched(7, 168), POLICY) == HOUR
    # 2 days, 96 items: one every 30 minutes.
    assert adaptive_interval(3 * HOUR, watched(2, 96), POLICY) == 30 * timedelta(minutes=1)
    # Watched for a month: the rate is measured over the last 7 days only.
    assert adaptive_interval(3 * HOUR, watched(30, 84), POLICY) == 2 * HOUR


def test_a_source_that_publishes_nothing_is_fetched_at_the_maximum() -> None:
    assert adaptive_interval(HOUR, watched(7, 0), POLICY) == POLICY.max_interval
    custom = SchedulePolicy(min_interval=timedelta(minutes=10), max_interval=6 * HOUR)
    assert adaptive_interval(HOUR, watched(3, 0), custom) == 6 * HOUR


def test_bounded_by_min_and_max() -> None:
    assert adaptive_interval(HOUR, watched(7, 100_000), POLICY) == POLICY.min_interval
    assert adaptive_interval(HOUR, watched(7, 1), POLICY) == POLICY.max_interval
    custom = SchedulePolicy(min_interval=20 * timedelta(minutes=1), max_interval=4 * HOUR)
    assert adaptive_interval(HOUR, watched(7, 7 * 24 * 6), custom) == custom.min_interval
    assert adaptive_interval(HOUR, watched(7, 7), custom) == custom.max_interval


def test_adaptive_false_keeps_the_configured_interval() -> None:
    for history in (watched(7, 0), watched(7, 100_000), watched(7, 168)):
        assert adaptive_interval(3 * HOUR, history, POLICY, adaptive=False) == 3 * HOUR


# -- next attempt and jitter -----------------------------------------------------------------


def test_next_attempt_without_jitter_is_exact() -> None:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    policy = SchedulePolicy(jitter=0)
    assert next_attempt(now, HOUR, watched(0, 0), policy) == now + HOUR
    assert next_attempt(now, HOUR, failing(2, "fetch.http_404"), policy) == now + 16 * HOUR
    assert next_attempt(now, HOUR, watched(7, 336), policy) == now + 30 * timedelta(minutes=1)


@pytest.mark.parametrize("jitter", [0.1, 0.25, 0.5])
def test_jitter_stays_within_its_bounds_and_spreads(jitter: float) -> None:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    policy = SchedulePolicy(jitter=jitter)
    rng = random.Random(20261126)
    times = [next_attempt(now, HOUR, watched(0, 0), policy, rng=rng) for _ in range(500)]
    low, high = now + HOUR * (1 - jitter), now + HOUR * (1 + jitter)
    assert all(low <= t <= high for t in times)
    # Spread over the whole range, both sides of the interval.
    assert min(times) < now + HOUR * (1 - jitter / 2)
    assert max(times) > now + HOUR * (1 + jitter / 2)
    assert len(set(times)) > 400


def test_jitter_applies_to_the_back_off_delay() -> None:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    rng = random.Random(7)
    for _ in range(100):
        due = next_attempt(now, HOUR, failing(2, "fetch.http_404"), POLICY, rng=rng)
        assert now + 16 * HOUR * 0.9 <= due <= now + 16 * HOUR * 1.1


def test_same_seed_same_schedule() -> None:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    first = [next_attempt(now, HOUR, watched(0, 0), POLICY, rng=random.Random(3))]
    again = [next_attempt(now, HOUR, watched(0, 0), POLICY, rng=random.Random(3))]
    assert first == again


def test_is_due() -> None:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert is_due(None, now)
    assert is_due(now, now)
    assert is_due(now - timedelta(seconds=1), now)
    assert not is_due(now + timedelta(seconds=1), now)


# -- the digest's trigger ---------------------------------------------------------------------


def test_time_of_day_in_the_configured_zone() -> None:
    trigger = digest_trigger("08:00", BAKU)
    after = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    slot = next_slot(trigger, after)
    assert slot is not None
    assert slot.astimezone(UTC) == datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    assert slot.astimezone(BAKU).hour == 8
    # Past today's slot: tomorrow's.
    later = next_slot(trigger, datetime(2026, 11, 26, 4, 0, 1, tzinfo=UTC))
    assert later is not None and later.astimezone(UTC) == datetime(2026, 11, 27, 4, tzinfo=UTC)


def test_next_slot_is_strictly_after() -> None:
    trigger = digest_trigger("08:00", UTC_ZONE)
    at = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert next_slot(trigger, at) == at + DAY


def test_parse_time() -> None:
    assert (parse_time("8:05").hour, parse_time("8:05").minute) == (8, 5)
    assert (parse_time(" 23:59 ").hour, parse_time("23:59").minute) == (23, 59)
    with pytest.raises(ValueError, match="08:00"):
        parse_time("24:00")


def _weekdays(when: str, start: datetime, count: int = 7) -> list[str]:
    trigger = digest_trigger(when, UTC_ZONE)
    days = []
    slot: datetime | None = start
    for _ in range(count):
        assert slot is not None
        slot = next_slot(trigger, slot)
        assert slot is not None
        days.append(slot.strftime("%a"))
    return days


SATURDAY = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 2026-11-21 is a Saturday


@pytest.mark.parametrize("when", ["0 8 * * 0", "0 8 * * 7", "0 8 * * sun"])
def test_crontab_sunday_is_0_and_7(when: str) -> None:
    trigger = digest_trigger(when, UTC_ZONE)
    slot = next_slot(trigger, SATURDAY)
    assert slot == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert slot.weekday() == 6  # Sunday
    assert _weekdays(when, SATURDAY, 3) == ["Sun", "Sun", "Sun"]


def test_crontab_numbers_count_from_sunday() -> None:
    # 1 is Monday in crontab (APScheduler alone would read it as Tuesday).
    assert _weekdays("0 8 * * 1", SATURDAY, 2) == ["Mon", "Mon"]
    assert _weekdays("0 8 * * 6", SATURDAY, 2) == ["Sat", "Sat"]
    assert _weekdays("0 8 * * 1-5", SATURDAY) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]
    assert _weekdays("0 8 * * 5-7", SATURDAY, 4) == ["Sun", "Fri", "Sat", "Sun"]


def test_weekdays_only_skips_the_weekend() -> None:
    friday = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    trigger = digest_trigger("30 7 * * mon-fri", UTC_ZONE)
    slot = next_slot(trigger, friday)
    assert slot == datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # Monday, not Saturday
    assert _weekdays("30 7 * * mon-fri", SATURDAY) == [
        "Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue",
    ]  # fmt: skip


def test_crontab_in_the_configured_zone() -> None:
    trigger = digest_trigger("30 7 * * mon-fri", BAKU)
    slot = next_slot(trigger, datetime(2026, 11, 20, 0, 0, tzinfo=UTC))
    assert slot is not None and slot.astimezone(UTC) == datetime(2026, 11, 20, 3, 30, tzinfo=UTC)


def test_crontab_range_starting_on_sunday() -> None:
    assert _weekdays("0 8 * * 0-2", SATURDAY, 3) == ["Sun", "Mon", "Tue"]


def test_crontab_weekday_step() -> None:
    assert _weekdays("0 8 * * 1-5/2", SATURDAY, 4) == ["Mon", "Wed", "Fri", "Mon"]


@pytest.mark.parametrize(
    ("when", "hint"),
    [
        ("25:00", "neither a time"),
        ("0 8 * *", "five fields"),
        ("0 8 * * 9", "out of range"),
        ("61 8 * * *", "not a valid crontab line"),
        ("0 8 * * funday", "not a valid crontab line"),
        ("", "neither a time"),
    ],
)
def test_bad_schedules_are_refused_with_a_helpful_message(when: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint) as info:
        digest_trigger(when, UTC_ZONE)
    message = str(info.value)
    if when.strip() and "out of range" not in hint:
        assert repr(when) in message
    if hint == "out of range":
        assert "9" in message and "0-7" in message


# -- slots: last, next, missed ----------------------------------------------------------------

EIGHT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_last_slot_at_or_before_now_within_the_horizon() -> None:
    trigger = digest_trigger("08:00", UTC_ZONE)
    assert last_slot(trigger, EIGHT, HOUR) == EIGHT
    assert last_slot(trigger, EIGHT + timedelta(minutes=59), HOUR) == EIGHT
    assert last_slot(trigger, EIGHT - timedelta(minutes=1), HOUR) is None
    assert last_slot(trigger, EIGHT + 2 * HOUR, HOUR) is None
    assert last_slot(trigger, EIGHT + 2 * HOUR, 3 * HOUR) == EIGHT
    # Several slots inside the horizon: the latest.
    assert last_slot(trigger, EIGHT + 2 * HOUR, 3 * DAY) == EIGHT


def test_missed_by_less_than_grace_is_caught_up() -> None:
    trigger = digest_trigger("08:00", UTC_ZONE)
    now = EIGHT + 40 * timedelta(minutes=1)
    assert missed_slot(trigger, now, None, HOUR) == EIGHT
    yesterday = EIGHT - DAY
    assert missed_slot(trigger, now, yesterday, HOUR) == EIGHT


def test_missed_by_more_than_grace_is_dropped() -> None:
    trigger = digest_trigger("08:00", UTC_ZONE)
    assert missed_slot(trigger, EIGHT + 61 * timedelta(minutes=1), None, HOUR) is None
    assert missed_slot(trigger, EIGHT + 5 * HOUR, EIGHT - DAY, HOUR) is None


def test_a_served_slot_is_not_served_again() -> None:
    trigger = digest_trigger("08:00", UTC_ZONE)
    now = EIGHT + 10 * timedelta(minutes=1)
    assert missed_slot(trigger, now, EIGHT, HOUR) is None
    assert missed_slot(trigger, now, EIGHT + timedelta(minutes=5), HOUR) is None


def test_before_the_slot_nothing_is_missed() -> None:
    trigger = digest_trigger("08:00", UTC_ZONE)
    assert missed_slot(trigger, EIGHT - timedelta(minutes=1), EIGHT - DAY, HOUR) is None


def test_missed_slot_in_baku() -> None:
    trigger = digest_trigger("08:00", BAKU)
    now = datetime(2026, 11, 26, 4, 30, tzinfo=UTC)  # 08:30 in Baku
    slot = missed_slot(trigger, now, None, HOUR)
    assert slot is not None and slot.astimezone(UTC) == datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
