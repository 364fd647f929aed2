"""Alerts in the cycle: look at the tagged articles stored since each rule last looked, record
each new story a rule wants (a version of a story it already alerted on joins that alert), then
send what is pending through each of the rule's channels.

At least once: an alert is recorded before it is sent and marked sent only after its channel
took it, so a failing channel keeps it pending for a later cycle (after a back-off) and a kill
between sending and recording repeats that one message, never loses it. The rule's cursor moves
in the same transaction as the alerts it recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.alerts.messages import AlertMessage
from monitor.alerts.rules import HOUR, AlertRule, plan, retry_after
from monitor.alerts.send import send
from monitor.errors import DeliveryError
from monitor.labels import labels_for
from monitor.models import Story
from monitor.settings import SmtpSettings
from monitor.store import Store, StoredArticle

log = logging.getLogger(__name__)

SCAN_BATCH = 200  # tagged articles read at a time when a rule catches up


@dataclass(frozen=True)
class AlertReport:
    new: int = 0  # stories a rule alerted on for the first time
    joined: int = 0  # other versions of stories already alerted on
    sent: int = 0  # stories sent, counted once a channel
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertContext:
    rules: tuple[AlertRule, ...]
    timezone: ZoneInfo
    locale: str
    smtp: SmtpSettings | None
    env: Mapping[str, str]


def run_alerts(ctx: AlertContext, store: Store, now: datetime) -> AlertReport:
    """Record the new stories of every rule, then send what is due."""
    new = joined = sent = 0
    failures: list[str] = []
    # Where several workers store articles, one with a lower id may commit after one with a
    # higher: the cursors move only as far as every article is committed.
    ceiling = store.article_ceiling()
    for rule in ctx.rules:
        made, versions = _record(rule, store, ctx.timezone, now, ceiling)
        new, joined = new + made, joined + versions
    for rule in ctx.rules:
        count, failed = _deliver(rule, ctx, store, now)
        sent += count
        failures.extend(failed)
    return AlertReport(new, joined, sent, tuple(failures))


def _record(
    rule: AlertRule, store: Store, tz: ZoneInfo, now: datetime, ceiling: int
) -> tuple[int, int]:
    cursor = store.alert_cursor(rule.name)
    if cursor is None:
        store.start_alert_cursor(rule.name)
        log.info("alert %r: watching stories stored from now on", rule.name)
        return 0, 0
    made = joined = 0
    keys = [c.key for c in rule.channels]
    while batch := store.tagged_after(cursor, SCAN_BATCH, ceiling):
        for stored in batch:
            if not rule.matches(stored.article):
                continue
            # One transaction a matching story: a version later in this batch must see it.
            joins = _alert_of_versions(rule, stored, store, tz)
            store.record_alerts(rule.name, [(stored.id, joins)], stored.id, keys, now)
            if joins is None:
                made += 1
                log.info("alert %r: %s", rule.name, stored.article.url or stored.article.title)
            else:
                joined += 1
        cursor = batch[-1].id
        store.record_alerts(rule.name, [], cursor, keys, now)
    return made, joined


def _alert_of_versions(
    rule: AlertRule, stored: StoredArticle, store: Store, tz: ZoneInfo
) -> int | None:
    """The alert of ``rule`` on another version of ``stored``'s story (the same story in
    another outlet or language, as the digest groups them), if there is one."""
    from monitor.digest import versions_of
    from monitor.grouping import WINDOW

    article = stored.article
    if not article.url:
        return None
    dated = article.published or article.fetched_at
    around = store.tagged_between(dated - WINDOW, dated + WINDOW)
    ids = {s.article.url: s.id for s in around}
    versions = [ids[v.url] for v in versions_of(article.url, around, tz) if v.url in ids]
    found = store.alerted(rule.name, versions)
    return min(found.values()) if found else None


def _deliver(
    rule: AlertRule, ctx: AlertContext, store: Store, now: datetime
) -> tuple[int, list[str]]:
    sent = 0
    failures: list[str] = []
    labels = labels_for(ctx.locale)
    for channel in rule.channels:
        pending = store.pending_alerts(rule.name, channel.key, now)
        if not pending:
            continue
        if rule.quiet_hours and rule.quiet_hours.holds(now, ctx.timezone):
            continue  # held: sent by the first cycle after the quiet hours
        count, rolled = store.alerts_sent_since(rule.name, channel.key, now - HOUR)
        chosen = plan(
            tuple(a for a, _ in pending),
            sent_last_hour=count,
            rollup_last_hour=rolled,
            max_per_hour=rule.max_per_hour,
        )
        if chosen.hold:
            continue
        lead = dict(pending)
        stories = _stories([lead[a] for a in chosen.send], store, ctx.timezone)
        if not stories:  # their articles were deleted from the archive: nothing left to say
            store.alerts_sent(chosen.send, channel.key, now, rollup=False)
            continue
        message = AlertMessage(rule.name, stories, rollup=chosen.rollup)
        try:
            send(channel, message, labels=labels, smtp=ctx.smtp, env=ctx.env)
        except DeliveryError as exc:
            store.alerts_failed(chosen.send, channel.key, str(exc), lambda n: now + retry_after(n))
            failures.append(f"alert {rule.name!r}: {exc}")
            log.warning("alert %r not sent (kept, tried again later): %s", rule.name, exc)
            continue
        store.alerts_sent(chosen.send, channel.key, now, rollup=chosen.rollup)
        sent += len(chosen.send)
    return sent, failures


def _stories(article_ids: Sequence[int], store: Store, tz: ZoneInfo) -> tuple[Story, ...]:
    from monitor.digest import story_of

    found = {s.id: s for s in store.stored_articles(article_ids)}
    return tuple(story_of(found[i], tz) for i in article_ids if i in found)
