"""Sending one alert message through one channel: a webhook (JSON), e-mail (through
``digest.email``'s server) or any chat tool apprise knows. Every failure is a DeliveryError whose
words name the channel but never its secret (a webhook's path, a bot token)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from monitor.alerts.messages import AlertMessage
from monitor.alerts.rules import CHAT, AlertChannel
from monitor.errors import DeliveryError
from monitor.labels import Labels
from monitor.settings import SmtpSettings

_ENV = re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
APPRISE_MISSING = (
    "apprise is not installed: install the monitor with its alerts extra "
    "(pip install 'film-coop-monitor[alerts]')"
)


def send(
    channel: AlertChannel,
    message: AlertMessage,
    *,
    labels: Labels,
    smtp: SmtpSettings | None,
    env: Mapping[str, str],
) -> None:
    """Send ``message`` through ``channel``. Raises DeliveryError."""
    if channel.webhook:
        from monitor.channels.webhook import post_digest

        payload = (
            {"text": message.chat_text(labels)}
            if channel.format == CHAT
            else message.stories_json()
        )
        post_digest(channel.webhook, payload, timeout=channel.timeout)
    elif channel.email:
        _email(channel, message, labels, smtp, env)
    elif channel.apprise:
        _apprise(channel.apprise, message, labels, env)
    else:  # the configuration refuses a channel without a target
        raise DeliveryError("an alert channel has no target")


def _email(
    channel: AlertChannel,
    message: AlertMessage,
    labels: Labels,
    smtp: SmtpSettings | None,
    env: Mapping[str, str],
) -> None:
    from monitor.channels.email import build_message, send_digest

    if smtp is None:  # the configuration refuses an e-mail channel without digest.email
        raise DeliveryError(f"{channel.label}: digest.email (the mail server) is not configured")
    settings = replace(smtp, recipients=channel.email)
    mail = build_message(
        message.title(labels),
        message.email_html(labels),
        message.chat_text(labels, links="plain"),
        settings.sender,
        settings.recipients,
    )
    send_digest(settings, mail, env)


def expand(url: str, env: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """``url`` with each ``{env:NAME}`` replaced from ``env``, and the values put in (to keep
    out of messages). Raises DeliveryError naming a variable that is not set, never a value."""
    secrets: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if not env.get(name):
            raise DeliveryError(f"apprise: the environment variable {name} is not set")
        secrets.append(env[name])
        return env[name]

    return _ENV.sub(value, url), tuple(secrets)


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def _apprise(template: str, message: AlertMessage, labels: Labels, env: Mapping[str, str]) -> None:
    try:
        import apprise
    except ImportError:
        raise DeliveryError(APPRISE_MISSING) from None
    url, secrets = expand(template, env)
    where = f"apprise {scheme(template)}://…"
    notifier = apprise.Apprise()
    capture = apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
    with capture as captured:
        if not notifier.add(url):
            raise DeliveryError(f"{where}: apprise does not understand this URL")
        sent = notifier.notify(
            body=message.chat_text(labels, links="plain"), title=message.title(labels)
        )
    if not sent:
        said = " ".join(captured.getvalue().split())
        for secret in secrets:
            said = said.replace(secret, "…")
        raise DeliveryError(f"{where}: sending failed" + (f": {said[:300]}" if said else ""))
