"""The Atom feed of tagged stories (``reports/feed.xml``), for a feed reader to subscribe to.
Not a format of one digest: it carries the stories of the last days."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from monitor.labels import labels_for
from monitor.models import Story
from monitor.text import xml_safe as _clean
from monitor.urls import is_http_url

ATOM_NS = "http://www.w3.org/2005/Atom"
_TAG_SCHEME = "tag:film-coop-monitor,2025:"


def story_id(story: Story, authority: str = "film-coop-monitor") -> str:
    """A stable Atom id: the story's link, or a tag: URI derived from what identifies it."""
    if is_http_url(story.url):
        return story.url
    basis = story.url or f"{story.source}\n{story.title}"
    digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]
    return f"tag:{authority},2025:story/{digest}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _atom_time(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("Atom times must be aware datetimes")
    return when.isoformat(timespec="seconds")


def render_atom(
    digest_stories: Sequence[Story],
    feed_url: str,
    updated: datetime,
    title: str,
    locale: str = "en",
) -> str:
    """An Atom 1.0 feed of tagged stories, newest first, for a feed reader to subscribe to.

    Built with ElementTree, which escapes text and attributes; characters XML forbids are
    dropped first so the document always parses.
    """
    labels = labels_for(locale)
    authority = urlsplit(feed_url).hostname or "film-coop-monitor"
    # Written with a literal xmlns attribute: register_namespace would change global state.
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": locale})
    _sub(feed, "id", feed_url)
    _sub(feed, "title", title)
    _sub(feed, "updated", _atom_time(updated))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _sub(feed, "generator", "film-coop-monitor")
    for story in sorted(digest_stories, key=lambda s: (-s.published.timestamp(), s.url)):
        entry = _sub(feed, "entry")
        _sub(entry, "id", story_id(story, authority))
        _sub(entry, "title", story.title or story.source)
        if is_http_url(story.url):
            _sub(entry, "link", rel="alternate", type="text/html", href=story.url)
        for also in story.also:
            if is_http_url(also.url):
                attrs = {"rel": "related", "type": "text/html", "href": also.url}
                if also.language:
                    attrs["hreflang"] = also.language
                _sub(entry, "link", title=also.source, **attrs)
        _sub(entry, "published", _atom_time(story.published))
        _sub(entry, "updated", _atom_time(story.published))
        author = _sub(entry, "author")
        _sub(author, "name", story.source)
        for aspect in story.aspects:
            _sub(
                entry,
                "category",
                term=aspect,
                scheme=_TAG_SCHEME + "aspect",
                label=labels.aspect(aspect),
            )
        for country in story.countries:
            _sub(entry, "category", term=country, scheme=_TAG_SCHEME + "country")
        summary = story.summary or " ".join(dict.fromkeys(e.text for e in story.evidence))
        _sub(entry, "summary", summary, type="text")
        if not is_http_url(story.url):
            # Atom requires content when an entry has no alternate link.
            _sub(entry, "content", summary, type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"
