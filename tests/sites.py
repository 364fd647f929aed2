"""Building blocks for tests that serve outlets on 127.0.0.1: feeds and article pages with the
navigation, sidebars, comments and footers of real news sites; a sources.yaml for them, the
``monitor`` command run in-process on it, and what it stored."""

from __future__ import annotations

import functools
import html
import socket
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from monitor import cli
from monitor.tag import load_tagger

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime = field(default_factory=lambda: datetime.now(UTC))
    link: str | None = None  # overrides the page URL in the feed (e.g. another outlet's page)
    guid: str | None = None


def page(title: str, paragraphs: tuple[str, ...], site: str = "Test Daily") -> str:
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(12))
    side = "".join(
        f'<li><a href="/latest/{i}">Latest headline number {i} about the economy</a></li>'
        for i in range(8)
    )
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | {site}</title>
<script>window.dataLayer=[];function track(){{return 1;}}</script><style>nav li{{display:inline}}</style></head>
<body><header><div class="logo">{site}</div><nav><ul>{nav}</ul></nav><div class="ticker">Breaking: markets open higher</div></header>
<main><article><h1>{html.escape(title)}</h1><div class="byline">By Staff Reporter</div>{body}</article>
<aside class="sidebar"><h3>Most read</h3><ul>{side}</ul></aside>
<section class="comments"><h3>Comments</h3><div class="comment"><p>Reader comment: this is wonderful news for our country and for everyone who loves good things.</p></div></section></main>
<footer><p>© 2026 {site}. All rights reserved.</p><p>Contacts · Advertising · Privacy policy · Terms of use</p></footer></body></html>"""


def rss(title: str, base_url: str, stories: list[Story], language: str = "en") -> str:
    items = []
    for s in stories:
        link = s.link or f"{base_url}/articles/{s.slug}.html"
        guid = f'<guid isPermaLink="false">{html.escape(s.guid)}</guid>' if s.guid else ""
        items.append(
            f"<item><title>{html.escape(s.title)}</title><link>{html.escape(link)}</link>{guid}"
            f"<description>{html.escape(s.paragraphs[0])}</description>"
            f"<pubDate>{format_datetime(s.published)}</pubDate></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{html.escape(title)}</title>'
        f"<link>{base_url}/</link><description>News</description><language>{language}</language>"
        + "".join(items)
        + "</channel></rss>"
    )


def write_config(folder: Path, sources: list[dict[str, str]], extra: str = "") -> Path:
    """A sources.yaml with short limits fit for tests; storage and reports inside ``folder``."""
    lines = [
        "storage: storage/monitor.db",
        "reports: reports/",
        "timezone: Asia/Baku",
        "fetch:",
        "  timeout: 3s",
        "  connect_timeout: 2s",
        "  retries: 0",
        "  max_body_mb: 1",
        "  host_interval: 0s",
    ]
    if extra:
        lines.append(extra)
    lines.append("sources:")
    for source in sources:
        lines.append(f"  - name: {source['name']}")
        for key, value in source.items():
            if key != "name":
                lines.append(f"    {key}: {value}")
    path = folder / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def database(folder: Path) -> Path:
    """The database of a configuration written by :func:`write_config` into ``folder``."""
    return folder / "storage" / "monitor.db"


def rows(folder: Path, query: str) -> list[tuple[Any, ...]]:
    """Every row ``query`` returns from the database in ``folder``."""
    with sqlite3.connect(database(folder)) as conn:
        return conn.execute(query).fetchall()


# -- the CLI in-process -----------------------------------------------------------------------


def monitor(config: Path, *args: str) -> int:
    """``monitor --config CONFIG ARGS...``, in this process; its exit status."""
    return cli.main(["--config", str(config), *args])


def run_all(config: Path) -> int:
    """``monitor run --all --no-digest``: every enabled source, due or not, and no digest."""
    return monitor(config, "run", "--all", "--no-digest")


# The tagger loaded once per rule-file tuple for the whole session (it is pure, so sharing it
# between tests is safe); stands in for ``load_tagger`` in the ``quick_cli`` fixture.
cached_tagger = functools.cache(load_tagger)


def free_port() -> int:
    """A port free on 127.0.0.1 now (for servers that cannot be asked to pick one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
