"""Telegram's public web preview of a channel (``https://t.me/s/<channel>``), read into messages.

Pure, like ``monitor.listing``: the caller fetches the bytes, this module only reads them.

The preview is the page Telegram shows browsers without an account: the channel's header, then
its latest messages (about twenty), oldest first. Each message is a ``.tgme_widget_message``
whose ``data-post`` is ``<channel>/<id>``; inside it the text (``.tgme_widget_message_text``),
the time it was posted (``.tgme_widget_message_date time[datetime]``), a "Forwarded from"
header (``.tgme_widget_message_forwarded_from_name``), the card of a linked page
(``a.tgme_widget_message_link_preview`` with ``.link_preview_title``), and photos; an album is
one message with several photos and one caption. A quoted message it replies to carries a text
of its own, which is not this message's. Service messages (a new channel photo, a pinned
message), with the class ``service_message``, are left out. Above the messages, a "load more" link
(``a.tme_messages_more[data-before]``, ``?before=<id>``) leads to the older ones; it is absent
at the channel's beginning.

A name that is no public channel (no such name, a private channel, a person, a channel whose
owner hid the preview) is redirected to its ``t.me/<name>`` page, which has no message history
(``.tgme_channel_history``): that is an error of its own, ``parse.no_channel``, since retrying
soon cannot help.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html

from monitor.dates import plausible
from monitor.errors import ParseError
from monitor.listing import html_document
from monitor.text import squash
from monitor.urls import canonical_http

_BREAKS = frozenset({"br", "div", "p", "blockquote", "pre", "li"})


@dataclass(frozen=True)
class Message:
    """One message of a channel, as its preview shows it."""

    channel: str
    id: int
    link: str  # https://t.me/<channel>/<id>, the message's public address
    published: datetime | None
    text: str  # plain text, lines kept
    text_with_links: str  # the same, each link's address after its words when they hide it
    links: tuple[str, ...]  # absolute http(s) links of the text and the card, canonical, in order
    forwarded_from: str | None = None  # the channel or person the message was forwarded from
    card_url: str | None = None  # the linked page whose card the message shows
    card_title: str = ""


@dataclass(frozen=True)
class Preview:
    """One page of a channel's preview: its messages newest first, and where the older ones
    are (None at the channel's beginning)."""

    title: str
    messages: tuple[Message, ...]
    older: str | None


def parse_preview(
    body: bytes, url: str, *, channel: str, now: datetime, content_type: str | None = None
) -> Preview:
    """Read a preview page fetched from ``url`` (the final URL) for ``channel``.

    Raises ParseError ``parse.empty`` for an empty body, ``parse.no_channel`` for a page without
    a channel's message history.
    """
    doc = html_document(body, content_type)
    wrappers = _having_class(doc, "tgme_widget_message")
    if not _having_class(doc, "tgme_channel_history") and not wrappers:
        raise ParseError("parse.no_channel", _not_a_channel(doc, channel))
    messages = [
        replace(m, published=plausible(m.published, now))
        for m in map(_message, wrappers)
        if m is not None
    ]
    messages.sort(key=lambda m: m.id, reverse=True)
    title = _text(_first(_having_class(doc, "tgme_channel_info_header_title")))
    return Preview(title=title, messages=tuple(messages), older=_older(doc, url))


def _not_a_channel(doc: lxml.html.HtmlElement, channel: str) -> str:
    """Why a name shows no messages: a channel (or person) that exists shows its title on its
    t.me page; a name nobody holds shows only an invitation to contact it."""
    title = _text(_first(_having_class(doc, "tgme_page_title")))
    if title:
        return (
            f"@{channel} ({title}) shows no messages on the web: it is a private channel, a "
            "person or a group, or its owner has turned off the public preview; only public "
            "channels with a preview at t.me/s/ can be followed"
        )
    return f"there is no public Telegram channel @{channel}: the name is unused or was deleted"


def _message(element: lxml.html.HtmlElement) -> Message | None:
    """The message in a ``.tgme_widget_message``; None for a service message or one without a
    ``data-post`` of the form ``<channel>/<id>``."""
    post = element.get("data-post", "")
    match = re.fullmatch(r"([A-Za-z0-9_]+)/(\d+)", post.strip())
    if match is None or "service_message" in _classes(element):
        return None
    channel, number = match.group(1), int(match.group(2))
    plain: list[str] = []
    shown: list[str] = []
    links: list[str] = []
    for block in _own_texts(element):
        _render(block, plain, shown, links)
        plain.append("\n\n")
        shown.append("\n\n")
    card = _first(element.xpath(f".//a{_class_test('tgme_widget_message_link_preview')}[@href]"))
    card_url = canonical_http(_href(card)) if card is not None else None
    if card_url:
        links.append(card_url)
    forwarded = _text(_first(_having_class(element, "tgme_widget_message_forwarded_from_name")))
    return Message(
        channel=channel,
        id=number,
        link=f"https://t.me/{channel}/{number}",
        published=_time(element),
        text=squash("".join(plain)),
        text_with_links=squash("".join(shown)),
        links=tuple(dict.fromkeys(links)),
        forwarded_from=forwarded or None,
        card_url=card_url,
        card_title=_text(_first(_having_class(card, "link_preview_title"))),
    )


def _own_texts(element: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    """The message's text blocks, not those of the message it quotes or of a link's card."""
    for block in _having_class(element, "tgme_widget_message_text"):
        outer = {c for a in block.iterancestors() for c in _classes(a)}
        if not outer & {"tgme_widget_message_reply", "tgme_widget_message_link_preview"}:
            yield block


def _render(
    element: lxml.html.HtmlElement, plain: list[str], shown: list[str], links: list[str]
) -> None:
    """Append the element's text to ``plain``, and to ``shown`` with each link's address after
    its words unless they show it already; collect the links' absolute addresses."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in ("script", "style"):
        return
    if tag == "br":
        plain.append("\n")
        shown.append("\n")
        return
    if tag in _BREAKS:
        plain.append("\n")
        shown.append("\n")
    if element.text:
        plain.append(element.text)
        shown.append(element.text)
    for child in element:
        _render(child, plain, shown, links)
        if child.tail:
            plain.append(child.tail)
            shown.append(child.tail)
    if tag == "a":
        # Hashtags and other links within the preview are relative: they are not the message's.
        href = _href(element)
        link = canonical_http(href) if urlsplit(href).scheme else None
        if link:
            links.append(link)
            words = " ".join(element.text_content().split())
            if not _shows(words, link):
                shown.append(f" ({link})")
    elif tag in _BREAKS:
        plain.append("\n")
        shown.append("\n")


def _shows(words: str, link: str) -> bool:
    """Whether a link's words are its address, as typed: perhaps without the scheme or "www.",
    or cut short with an ellipsis; or the @name it stands for."""
    if words.startswith("@"):  # a mention of a channel or person: t.me/<name>
        return _bare(link).endswith("/" + words[1:].casefold())
    typed = _bare(words.rstrip("…."))
    return bool(typed) and _bare(link).startswith(typed)


def _bare(address: str) -> str:
    lowered = address.strip().casefold()
    for prefix in ("https://", "http://", "www."):
        lowered = lowered.removeprefix(prefix)
    return lowered.rstrip("/")


def _href(element: lxml.html.HtmlElement) -> str:
    # The preview writes the & of some links' queries as "&amp;" inside the attribute, which
    # reads back as a literal "&amp;"; no real address contains that.
    return str(element.get("href", "")).strip().replace("&amp;", "&")


def _time(element: lxml.html.HtmlElement) -> datetime | None:
    stamp = _first(element.xpath(f".//*{_class_test('tgme_widget_message_date')}//time[@datetime]"))
    if stamp is None:
        return None
    try:
        value = datetime.fromisoformat(stamp.get("datetime", "").strip())
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _older(doc: lxml.html.HtmlElement, url: str) -> str | None:
    """The address of the page of older messages, from the "load more" link."""
    for more in _having_class(doc, "tme_messages_more"):
        before = (
            more.get("data-before")
            or parse_qs(urlsplit(more.get("href", "")).query).get("before", [""])[0]
        )
        if before.strip().isdigit():
            return urljoin(url, f"?before={before.strip()}")
    return None


def _class_test(name: str) -> str:
    return f"[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


def _having_class(element: lxml.html.HtmlElement | None, name: str) -> list[lxml.html.HtmlElement]:
    if element is None:
        return []
    found: list[lxml.html.HtmlElement] = element.xpath(f".//*{_class_test(name)}")
    return found


def _classes(element: lxml.html.HtmlElement) -> set[str]:
    return set((element.get("class") or "").split())


def _first(elements: list[lxml.html.HtmlElement]) -> lxml.html.HtmlElement | None:
    return elements[0] if elements else None


def _text(element: lxml.html.HtmlElement | None) -> str:
    return " ".join(element.text_content().split()) if element is not None else ""
