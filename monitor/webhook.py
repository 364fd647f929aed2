"""Sending a digest to a webhook as a JSON POST.

``post_digest`` sends any JSON payload: the digest's full JSON for other tools, or
``chat_payload(...)`` for a chat channel (Slack, Mattermost and their incoming-webhook clones read
its ``text``). Every failure becomes a ``DeliveryError``. Webhook URLs usually carry their secret in
the path (``https://hooks.slack.com/services/T…/B…/secret``), so messages name only the scheme,
host and port.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from monitor import __version__
from monitor.coverage import banner, cause_lines, coverage_from_json
from monitor.errors import DeliveryError
from monitor.labels import Labels, labels_for

USER_AGENT = f"film-coop-monitor/{__version__} (digest webhook)"
_SNIPPET = 300  # characters of an error response worth showing (Slack answers "invalid_payload")


@dataclass(frozen=True)
class Webhook:
    """A configured webhook: ``format`` "chat" posts :func:`chat_payload`, "digest" the whole
    digest JSON."""

    url: str
    format: str = "chat"
    timeout: float = 15.0


def post_digest(
    url: str,
    payload: Mapping[str, Any],
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
) -> None:
    """POST ``payload`` as UTF-8 JSON; any answer but 2xx is a ``DeliveryError``.

    Redirects are not followed: a webhook that moved should be reconfigured, and following a
    redirect of a POST could resend the digest somewhere unexpected.
    """
    where = redact(url)
    problem = _url_problem(url)
    if problem:
        raise DeliveryError(f"webhook {where}: {problem}")
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
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


def chat_payload(
    digest_json: Mapping[str, Any], labels: Labels | None = None, max_stories: int = 10
) -> dict[str, Any]:
    """A short message for a chat channel from the digest's JSON (the contract in the README),
    in ``labels``' language (English by default).

    ``text`` uses Slack's ``<url|title>`` links, which Mattermost also converts; ``stories``
    repeats the shown stories as data for bots that build their own message. A day on which
    many sources could not be checked says so before the stories, with the causes.
    """
    labels = labels or labels_for("en")
    stories = list(digest_json.get("stories") or [])
    shown = stories[: max(max_stories, 0)]
    coverage = coverage_from_json(digest_json.get("coverage"))
    lines = [labels.digest_title.format(date=digest_json.get("date", ""))]
    note = banner(coverage, labels) if coverage else None
    if note:
        lines.append(f"⚠ {_escape(note)}")
    counts = [labels.count_stories(len(stories))]
    if coverage and coverage.sources:
        counts.append(labels.coverage_checked.format(ok=coverage.ok, n=coverage.sources))
    lines.append(" · ".join(counts))
    if coverage:
        lines.extend(f"• {_escape(line)}" for line in cause_lines(coverage, labels, names=3))
    if shown:
        lines.append("")
        lines.extend(_story_line(s) for s in shown)
    if len(stories) > len(shown):
        lines.append(f"… (+{len(stories) - len(shown)})")
    return {
        "text": "\n".join(lines),
        "stories": [
            {
                "title": s.get("title", ""),
                "url": s.get("url"),
                "source": s.get("source", ""),
                "language": s.get("language"),
                "published": s.get("published"),
                "countries": list(s.get("countries") or []),
                "aspects": list(s.get("aspects") or []),
            }
            for s in shown
        ],
    }


def _story_line(story: Mapping[str, Any]) -> str:
    title = _escape(_clip(" ".join(str(story.get("title") or "(untitled)").split()), 200))
    url = story.get("url")
    head = f"<{_link_url(url)}|{title}>" if isinstance(url, str) and url else title
    meta = _escape(str(story.get("source") or ""))
    if story.get("language"):
        meta += f" ({story['language']})"
    countries = story.get("countries") or []
    if countries:
        meta += " · " + ", ".join(str(c) for c in countries)
    also = len(story.get("also") or [])
    if also:
        meta += f" · also in {also} more"
    return f"• {head} — {meta}"


def _escape(text: str) -> str:
    # The three characters Slack's message format reserves; Mattermost reads the same escapes.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link_url(url: str) -> str:
    # "|" and ">" end a Slack link early; spaces and other unsafe characters become %XX.
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    return _clip(" ".join(data.decode("utf-8", "replace").split()), _SNIPPET)


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc) or "connection failed"
        return f"cannot connect: {reason}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "the URL must start with http:// or https://"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
