"""The catalogue of error codes: every stable code a source or an article can fail with, what
it means, how long the scheduler backs off after it, and under which cause the digest sums it up.

Codes are stored (``sources.last_error_code``), shown in the digest and in ``sources status``,
and read back by the scheduler and the digest: this is their one home. An HTTP status is a
field of its ``FetchError`` (``status``) and of its entry here; ``fetch.http_<status>`` is only
its stored spelling, parsed back in :func:`status_of` alone. A test checks that every code the
code base raises is in the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class FailureClass(StrEnum):
    """How the scheduler backs off (see ``monitor.schedule``)."""

    TEMPORARY = "temporary"  # the network or an overloaded server: try again soon
    SOFT = "soft"  # an answer that is not usable: later
    HARD = "hard"  # gone, refused, a wrong address: much later


class Cause(StrEnum):
    """Why sources failed, grouped by what the reader (or the admin) can do about it."""

    DNS = "dns"  # host names do not resolve: this machine is offline, or its DNS is
    REFUSED = "refused"  # connection refused: the site is down, or a firewall rejects us
    TIMEOUT = "timeout"  # no answer in time: slow network, or a firewall that drops
    TLS = "tls"  # certificate or handshake
    NETWORK = "network"  # the connection broke otherwise
    BLOCKED = "blocked"  # HTTP 401/403/451: the site refuses the monitor
    MOVED = "moved"  # HTTP 404/410: the feed's address changed
    SERVER = "server"  # HTTP 429/5xx: the site's server is overloaded or failing
    HTTP = "http"  # another HTTP status
    NOT_A_FEED = "not_a_feed"  # the address answers, but not with a feed or a sitemap
    POLICY = "policy"  # robots.txt or a private address: the monitor chose not to fetch
    OTHER = "other"


@dataclass(frozen=True)
class Code:
    code: str
    meaning: str
    backoff: FailureClass
    cause: Cause
    status: int | None = None  # for fetch.http_<status>


_T, _S, _H = FailureClass.TEMPORARY, FailureClass.SOFT, FailureClass.HARD
CATALOGUE: dict[str, Code] = {
    c.code: c
    for c in (
        Code("fetch.bad_url", "the address is not a valid URL", _H, Cause.OTHER),
        Code("fetch.bad_scheme", "the address is not http(s)", _H, Cause.OTHER),
        Code("fetch.bad_redirect", "a redirect to an invalid or non-http address", _H,
             Cause.OTHER),
        Code("fetch.too_many_redirects", "redirects that do not end", _S, Cause.OTHER),
        Code("fetch.timeout", "no complete answer in time", _T, Cause.TIMEOUT),
        Code("fetch.dns", "the host name does not resolve", _T, Cause.DNS),
        Code("fetch.refused", "the connection was refused", _T, Cause.REFUSED),
        Code("fetch.tls", "the TLS handshake failed (certificate)", _S, Cause.TLS),
        Code("fetch.connect", "the connection could not be made", _T, Cause.NETWORK),
        Code("fetch.network", "the connection broke", _T, Cause.NETWORK),
        Code("fetch.too_large", "the answer is larger than fetch.max_body_mb", _S,
             Cause.OTHER),
        Code("fetch.decode", "the answer's compression is broken", _S, Cause.OTHER),
        Code("fetch.private_address", "a private or loopback address, not followed", _S,
             Cause.POLICY),
        Code("fetch.robots_disallowed", "the site's robots.txt disallows the page", _S,
             Cause.POLICY),
        Code("parse.empty", "an empty answer", _S, Cause.NOT_A_FEED),
        Code("parse.not_a_feed", "no RSS or Atom feed in the answer", _S, Cause.NOT_A_FEED),
        Code("parse.not_a_sitemap", "no sitemap in the answer", _S, Cause.NOT_A_FEED),
        Code("parse.no_sitemap", "robots.txt names no sitemap", _S, Cause.NOT_A_FEED),
        Code("parse.too_large", "a feed or sitemap too large to read", _S, Cause.NOT_A_FEED),
        Code("parse.unsafe_xml", "XML with entity declarations, refused", _S,
             Cause.NOT_A_FEED),
        Code("parse.no_channel", "no public Telegram channel at the address (none by that "
             "name, private, or its preview turned off)", _H, Cause.NOT_A_FEED),
        Code("extract.no_link", "an item without a usable link", _S, Cause.OTHER),
        Code("extract.not_html", "the article page is not HTML", _S, Cause.OTHER),
        Code("extract.no_text", "no article text found in the page", _S, Cause.OTHER),
        Code("extract.failed", "the extractor failed on the page", _S, Cause.OTHER),
        Code("extract.crashed", "the extractor process died on the page", _S, Cause.OTHER),
        Code("extract.timeout", "the page was not extracted in time", _S, Cause.OTHER),
        Code("internal.error", "a fault of the monitor's own (the log has the trace)", _T,
             Cause.OTHER),
    )
}  # fmt: skip

HTTP_PREFIX = "fetch.http_"
_HTTP = re.compile(r"^fetch\.http_(\d{3})$")
_HARD_STATUSES = frozenset({401, 403, 404, 410, 451})


def http_code(status: int) -> str:
    """The stored spelling of an HTTP status failure: ``fetch.http_404``."""
    return f"{HTTP_PREFIX}{status}"


def status_of(code: str | None) -> int | None:
    """The HTTP status a stored code carries, or None."""
    match = _HTTP.match(code or "")
    return int(match.group(1)) if match else None


def lookup(code: str | None) -> Code | None:
    """The catalogue's entry for a code, HTTP statuses included; None for an unknown code."""
    if not code:
        return None
    status = status_of(code)
    if status is not None:
        return _http(status)
    return CATALOGUE.get(code)


def _http(status: int) -> Code:
    if status == 429 or status >= 500:
        backoff, cause = FailureClass.TEMPORARY, Cause.SERVER
    else:
        backoff = FailureClass.HARD if status in _HARD_STATUSES else FailureClass.SOFT
        cause = (
            Cause.BLOCKED
            if status in (401, 403, 451)
            else Cause.MOVED
            if status in (404, 410)
            else Cause.HTTP
        )
    return Code(http_code(status), f"HTTP status {status}", backoff, cause, status)
