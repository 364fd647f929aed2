"""``monitor alerts status`` (each rule: alerts made, last sent, pending, failing) and
``monitor alerts test NAME`` (a sample story through every channel of a rule)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TextIO

from monitor.alerts.messages import AlertMessage, sample_story
from monitor.alerts.send import send
from monitor.config import Config
from monitor.errors import AlertNotFound, DeliveryError
from monitor.labels import labels_for
from monitor.store import Store


def status(config: Config, out: TextIO) -> None:
    if not config.alerts:
        print(f"no alert rules in {config.path}: add them under alerts:", file=out)
        return
    tz = config.timezone
    with Store(config.storage_url) as store:
        for rule in config.alerts:
            state = store.alert_status(rule.name)
            watching = store.alert_cursor(rule.name) is not None
            last = state["last_sent"]
            print(f"{rule.name}", file=out)
            print(
                f"  {len(rule.channels)} channel(s): " + "; ".join(c.label for c in rule.channels),
                file=out,
            )
            if not watching:
                print("  not run yet: it starts with the next cycle", file=out)
            print(
                f"  {state['alerts']} alerted, {state['versions'] - state['alerts']} other "
                f"versions joined; last sent: "
                + (last.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if last else "never"),
                file=out,
            )
            print(f"  pending deliveries: {state['pending']}", file=out)
            if state["failing"]:
                when = state["next_try"].astimezone(tz).strftime("%H:%M %Z")
                print(
                    f"  failing: {state['failing']} (next try {when}): {state['last_error']}",
                    file=out,
                )


def test(config: Config, name: str, out: TextIO) -> int:
    """Send a sample through every channel of rule ``name``; the number that failed."""
    rule = next((r for r in config.alerts if r.name.casefold() == name.casefold()), None)
    if rule is None:
        known = ", ".join(repr(r.name) for r in config.alerts) or "none"
        raise AlertNotFound(f"no alert rule named {name!r} in {config.path} (rules: {known})")
    now = datetime.now(UTC).astimezone(config.timezone)
    message = AlertMessage(rule.name, (sample_story(now),), sample=True)
    labels = labels_for(config.digest.locale)
    failed = 0
    for channel in rule.channels:
        try:
            send(channel, message, labels=labels, smtp=config.digest.email, env=os.environ)
        except DeliveryError as exc:
            failed += 1
            print(f"failed: {exc}", file=out)
        else:
            print(f"sent: {channel.label}", file=out)
    return failed
