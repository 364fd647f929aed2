"""Bundled sample outlets, served on 127.0.0.1, for an offline demonstration of a whole cycle.

The files under ``outlets/`` hold placeholders so that links point at the local server and dates
fall on the day the demo runs: ``{{base}}``, ``{{base:<slug>}}`` and
``{{date:<rfc822|iso|dmy>:<minutes ago>}}``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from email.utils import format_datetime
from importlib import resources
from pathlib import Path
from typing import TypedDict

from ruamel.yaml import YAML

from monitor.localserver import LocalServer, static

OUTLETS = Path(str(resources.files("monitor.demo") / "outlets"))
_PLACEHOLDER = re.compile(r"\{\{(base(?::[\w-]+)?|date:(?:rfc822|iso|dmy):\d+)\}\}")
_FEED_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


@dataclass(frozen=True)
class Outlet:
    slug: str
    name: str
    language: str
    country: str
    feed: str
    format: str
    encoding: str = "utf-8"


def load_outlets(directory: Path = OUTLETS) -> list[Outlet]:
    entries = YAML(typ="safe").load((directory / "outlets.yaml").read_text(encoding="utf-8"))
    return [Outlet(**entry) for entry in entries]


class Expected(TypedDict):
    cooperation: dict[str, list[str]]  # page -> ISO codes of the countries taking part
    unrelated: list[str]


def load_expected(directory: Path = OUTLETS) -> Expected:
    data = YAML(typ="safe").load((directory / "expected.yaml").read_text(encoding="utf-8"))
    return {
        "cooperation": {path: list(codes) for path, codes in data["cooperation"].items()},
        "unrelated": list(data["unrelated"]),
    }


def render(text: str, base_url: str, slug: str, now: datetime, tz: tzinfo) -> str:
    """Fill the placeholders. Times are clamped to today (in ``tz``) so the demo's stories
    always belong to the day it runs."""
    start_of_day = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)

    def fill(match: re.Match[str]) -> str:
        token = match.group(1)
        if token == "base":
            return f"{base_url}/{slug}"
        if token.startswith("base:"):
            return f"{base_url}/{token[5:]}"
        _, fmt, minutes = token.split(":")
        moment = max(now - timedelta(minutes=int(minutes)), start_of_day + timedelta(minutes=1))
        local = moment.astimezone(tz)
        if fmt == "rfc822":
            return format_datetime(local)
        if fmt == "iso":
            return local.isoformat(timespec="seconds")
        return local.strftime("%d.%m.%Y %H:%M")

    return _PLACEHOLDER.sub(fill, text)


def serve_outlets(
    now: datetime, tz: tzinfo, directory: Path = OUTLETS
) -> tuple[LocalServer, list[Outlet]]:
    """Start a local server with every outlet's feed and pages. The caller stops it."""
    server = LocalServer().start()
    outlets = load_outlets(directory)
    for outlet in outlets:
        folder = directory / outlet.slug
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = path.relative_to(folder).as_posix()
            text = render(path.read_text(encoding="utf-8"), server.base_url, outlet.slug, now, tz)
            if relative == outlet.feed:
                body = text.encode(outlet.encoding)
                content_type = f"{_FEED_TYPES[outlet.format]}; charset={outlet.encoding}"
            else:
                body = text.encode("utf-8")
                content_type = "text/html; charset=utf-8"
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            server.route(f"/{outlet.slug}/{relative}", static(body, content_type, etag=etag))
    return server, outlets


def sources_yaml(
    outlets: list[Outlet], base_url: str, storage: Path, reports: Path, timezone: str
) -> str:
    lines = [
        "# Written by the demo: the bundled sample outlets, served on this machine.",
        f"storage: {storage}",
        f"reports: {reports}",
        f"timezone: {timezone}",
        "fetch:",
        "  host_interval: 0s   # every sample outlet is on this machine's one address",
        "sources:",
    ]
    for o in outlets:
        lines += [
            f"  - name: {o.name}",
            f"    url: {base_url}/{o.slug}/{o.feed}",
            f"    language: {o.language}",
            f"    country: {o.country}",
            "    interval: 15m",
        ]
    return "\n".join(lines) + "\n"
