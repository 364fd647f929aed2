"""Canonical form of article links, so that the same story is recognised under any decoration."""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived; they never select different content.
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "_hs")
_TRACKING_NAMES = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ocid", "cmpid", "at_medium", "at_campaign",
    }
)  # fmt: skip

HTTP_SCHEMES = frozenset({"http", "https"})


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    # A host of dots or spaces alone ("http://./") names no machine.
    return parts.scheme.lower() in HTTP_SCHEMES and any(c.isalnum() for c in host)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def canonical_http(href: str | None, base: str | None = None) -> str | None:
    """``href`` resolved against ``base`` and made canonical when it is an http(s) link; None
    for anything else (empty, unparsable, javascript:, mailto:, ftp:)."""
    if not href or not href.strip():
        return None
    try:
        url = canonical_url(href, base)
    except ValueError:
        return None
    return url if is_http_url(url) else None


def canonical_or_same(url: str) -> str:
    """The canonical form of ``url``, or the URL as written (trimmed) when it cannot be parsed:
    for comparing addresses, where an odd one must still compare equal to itself."""
    try:
        return canonical_url(url)
    except ValueError:
        return url.strip()


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute URL with lower-case scheme and host, no default port, no fragment and no
    tracking parameters; the path and the remaining query are kept as they were.

    Raises ValueError for a URL that cannot be parsed.
    """
    url = url.strip()
    absolute = urljoin(base, url) if base else url
    parts = urlsplit(absolute)
    scheme = parts.scheme.lower()
    if scheme not in HTTP_SCHEMES:
        return absolute
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    else:
        # A host IDNA cannot encode is left as it is; it fails at fetch time, visibly.
        with suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    port = parts.port  # raises ValueError for a non-numeric port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        auth = parts.username or ""
        if parts.password:
            auth += f":{parts.password}"
        host = f"{auth}@{host}"
    # Parameters are dropped as written, never decoded and encoded again: a value in another
    # encoding than UTF-8 (cp1251 search links) must survive byte for byte.
    fields = parts.query.split("&") if parts.query else []
    kept = [f for f in fields if not _is_tracking(unquote_plus(f.split("=", 1)[0]))]
    query = (parts.query if len(kept) == len(fields) else "&".join(kept)).rstrip()
    return urlunsplit((scheme, host, parts.path.rstrip() or "/", query, ""))


def host_of(url: str) -> str:
    """The site a URL is on, for politeness across workers: its host name, lower case, without
    the port (one server, whatever the port)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
