"""The webhook channel: a digest sent as a JSON POST.

``post_digest`` sends any JSON payload: the digest's full JSON for other tools, or the chat
format (``monitor.formats.chat``) for a chat channel (Slack, Mattermost and their
incoming-webhook clones read its ``text``). Every failure becomes a ``DeliveryError``. Webhook URLs usually carry their secret in
the path (``https://hooks.slack.com/services/T…/B…/secret``), so messages name only the scheme,
host and port.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from monitor import __version__, formats
from monitor.errors import DeliveryError
from monitor.formats import View
from monitor.models import Digest
from monitor.settings import Webhook
from monitor.text import clip

USER_AGENT = f"film-coop-monitor/{__version__} (digest webhook)"
_SNIPPET = 300  # characters of an error response worth showing (Slack answers "invalid_payload")


def post_digest(
    url: str,
    payload: Mapping[str, Any] | str,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
) -> None:
    """POST ``payload`` as UTF-8 JSON (a string is JSON already); any answer but 2xx is a
    ``DeliveryError``.

    Redirects are not followed: a webhook that moved should be reconfigured, and following a
    redirect of a POST could resend the digest somewhere unexpected.
    """
    where = redact(url)
    problem = _url_problem(url)
    if problem:
        raise DeliveryError(f"webhook {where}: {problem}")
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    body = text.encode("utf-8")
    sent = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("POST", url, content=body, headers=sent) as response,
        ):
            if response.is_success:
                return
            snippet = _read_snippet(response)
            status, reason = response.status_code, response.reason_phrase
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"webhook {where}: no answer within {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {where}: {_describe(exc)}") from exc
    except httpx.InvalidURL as exc:
        raise DeliveryError(f"webhook {where}: invalid URL: {exc}") from exc
    detail = f": {snippet}" if snippet else ""
    raise DeliveryError(f"webhook {where}: HTTP {status} {reason}{detail}".rstrip())


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number
    except ValueError as exc:
        return f"invalid URL: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return "the URL must start with http:// or https://"
    if not parts.hostname:
        return "the URL has no host"
    return None


def redact(url: str) -> str:
    """``https://hooks.example.com/services/T1/B2/secret`` → ``https://hooks.example.com/…``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if not parts.scheme or not host:
        return "<invalid URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}/…" if parts.path.strip("/") else f"{parts.scheme}://{netloc}"


def _read_snippet(response: httpx.Response) -> str:
    """The start of an error body, without reading a huge one whole."""
    data = b""
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= _SNIPPET * 4:
                break
    except httpx.HTTPError:
        pass  # the status already says what went wrong
    return clip(" ".join(data.decode("utf-8", "replace").split()), _SNIPPET)


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc) or "connection failed"
        return f"cannot connect: {reason}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "the URL must start with http:// or https://"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class WebhookChannel:
    """The digest POSTed to one webhook, in the format it asks for (a chat message or the whole
    JSON)."""

    label = "webhook"

    def __init__(self, hook: Webhook) -> None:
        self.hook = hook

    def send(self, digest: Digest, view: View, env: Mapping[str, str]) -> None:
        payload = formats.get(self.hook.digest_format).render(digest, view)
        post_digest(self.hook.url, payload, timeout=self.hook.timeout)
