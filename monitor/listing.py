"""Outlets without feeds: news sitemaps and HTML section fronts to the parser's values.

Pure, like ``monitor.parse``: the caller fetches the bytes, this module only reads them.

Sitemaps (sitemaps.org ``<urlset>`` and ``<sitemapindex>``, with Google's ``news:`` extension)
are XML that anyone can write, so they are parsed with entity expansion, DTD loading and network
access switched off, and a document that declares entities is refused outright: no sitemap needs
them, and a billion-laughs or external-entity payload is the only reason to send them. Elements
are matched by local name, because generators disagree about namespaces (none, the 0.84 Google
one, the 0.9 sitemaps.org one) while the element names never vary. ``.xml.gz`` bodies are
decompressed up to the protocol's own 50 MB limit. Dates are W3C/ISO 8601; a bare day stands for
noon UTC, as in ``monitor.extract``, so that it stays the same day in every time zone.

Section fronts are HTML the outlet never meant as an interface: which links are articles is the
configuration's call (a CSS selector and/or a URL regex); this module resolves, filters and
de-duplicates them in document order. Listing items carry no date; the pipeline takes it, and the
text, from the article page.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from typing import NoReturn, TypeVar
from urllib.parse import urldefrag, urljoin

import lxml.html
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from monitor.content import decode_html, looks_like_html
from monitor.dates import plausible
from monitor.errors import ParseError
from monitor.models import FeedItem, ParsedFeed
from monitor.text import html_to_text
from monitor.urls import canonical_http, is_http_url

# sitemaps.org caps a sitemap at 50 MB uncompressed; more is a bomb, not a sitemap.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_BARE_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ROBOTS_SITEMAP = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE)
_T = TypeVar("_T")
_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(?:%\s+)?([^\s>\"']+)")
_FEED_ROOTS = {"rss": "an RSS feed", "rdf": "an RSS 1.0 (RDF) feed", "feed": "an Atom feed"}


@dataclass(frozen=True)
class Sitemap:
    """What one sitemap document lists.

    ``items`` are article pages (newest first where dated; undated ones follow in document
    order). ``sitemaps`` are the children of a ``<sitemapindex>``, newest ``lastmod`` first, so
    that a caller fetching only a few gets the current ones. ``language`` is the publication
    language most news entries state (``news:language``), if any.
    """

    items: tuple[FeedItem, ...]
    sitemaps: tuple[str, ...]
    language: str | None = None


def parse_sitemap(
    body: bytes,
    url: str,
    *,
    now: datetime,
    max_items: int = 1000,
    max_bytes: int = MAX_SITEMAP_BYTES,
) -> Sitemap:
    """Read a sitemap, a news sitemap or a sitemap index, gzip-compressed or not.

    ``url`` is where the body came from; errors name it. ``loc`` values must be absolute
    http(s) URLs, as the protocol requires, and are otherwise skipped. At most ``max_items``
    items and ``max_items`` child sitemaps are kept. ``now`` (aware) bounds plausible dates.

    Raises ParseError: ``parse.not_a_sitemap`` (empty, malformed, truncated, or another kind of
    document), ``parse.unsafe_xml`` (declares XML entities), ``parse.too_large`` (decompresses to
    more than ``max_bytes``).
    """
    try:
        if body.startswith(_GZIP_MAGIC):
            body = _gunzip(body, max_bytes)
        elif len(body) > max_bytes:
            raise ParseError("parse.too_large", f"{len(body)} bytes is over the {max_bytes} cap")
        root = _sitemap_root(body)
    except ParseError as exc:
        # An index leads to many sitemaps: the message must say which one failed.
        raise ParseError(exc.code, f"{url}: {exc.message}") from None
    kind = etree.QName(root).localname
    if kind == "sitemapindex":
        children = _dated_locs(root, "sitemap", now)
        return Sitemap(items=(), sitemaps=tuple(loc for loc, _ in children[:max_items]))
    items: dict[str, FeedItem] = {}
    languages: Counter[str] = Counter()
    for entry in _children(root, "url"):
        item, language = _url_entry(entry, now)
        if language:
            languages[language] += 1
        if item is not None:
            items[item.url] = _merge(items.get(item.url), item)
    ordered = _newest_first(items.values(), lambda i: i.published)
    common = languages.most_common(1)[0][0] if languages else None
    return Sitemap(items=tuple(ordered[:max_items]), sitemaps=(), language=common)


def sitemaps_in_robots(text: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt, in order, without duplicates.

    The field name is case-insensitive and may appear anywhere in the file (it belongs to no
    user-agent group). Relative URLs are resolved against ``base_url``; non-http(s) ones are
    dropped. URLs are otherwise kept as written: they are fetched, not compared.
    """
    found: dict[str, None] = {}
    for line in text.lstrip("\ufeff").splitlines():
        match = _ROBOTS_SITEMAP.match(line.split("#", 1)[0])
        if not match:
            continue
        try:
            absolute = urldefrag(urljoin(base_url, match.group(1))).url
        except ValueError:
            continue
        if is_http_url(absolute):
            found.setdefault(absolute, None)
    return list(found)


def check_selector(selector: str) -> None:
    """Raise ValueError, naming the selector, unless it is a CSS selector lxml can use."""
    _compile_selector(selector)


def check_pattern(pattern: str) -> None:
    """Raise ValueError, naming the pattern, unless it is a valid, non-empty regular expression."""
    _compile_pattern(pattern)


def html_document(body: bytes, content_type: str | None) -> lxml.html.HtmlElement:
    """The HTML document of a fetched body, decoded as a browser would. Raises ParseError
    ``parse.empty`` for an empty body or one that holds no document."""
    if not body.strip():
        raise ParseError("parse.empty", "the server sent an empty body")
    text = decode_html(body, content_type)
    # Parsed from UTF-8 bytes with the encoding forced: lxml refuses str input that carries an
    # XML declaration, and must not re-read a <meta charset> we already applied.
    parser = lxml.html.HTMLParser(encoding="utf-8", no_network=True)
    try:
        return lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except etree.ParserError as exc:
        raise ParseError("parse.empty", f"no HTML document in the body: {exc}") from None


def parse_listing(
    body: bytes,
    url: str,
    *,
    selector: str | None = None,
    pattern: str | None = None,
    headers: Mapping[str, str] | None = None,
    max_items: int = 200,
) -> ParsedFeed:
    """The article links of an HTML listing page (a section front), in document order.

    ``selector`` picks ``<a>`` elements, or elements whose first ``a[href]`` descendant is the
    link; ``pattern`` is searched (``re.search``) in each candidate's canonical absolute URL.
    Without a selector every link of the page is a candidate; at least one of the two is
    required. ``url`` is the page's final URL; ``<base href>`` overrides it for relative links.
    A URL found twice is kept once, at its first place, with the first non-empty title. A page
    where nothing matched yields no items and a warning, since that usually means the layout
    changed.

    Raises ValueError for a missing, empty or invalid selector/pattern, ParseError
    ``parse.empty`` for an empty body.
    """
    if selector is None and pattern is None:
        raise ValueError("a listing needs a CSS selector, a URL pattern, or both")
    select = _compile_selector(selector) if selector is not None else None
    regex = _compile_pattern(pattern) if pattern is not None else None
    content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    doc = html_document(body, content_type)
    base = _base_url(doc, url)
    page = canonical_http(url, None)
    anchors = select(doc) if select is not None else doc.iter("a")
    titles: dict[str, str] = {}
    for anchor in _links(anchors):
        link = canonical_http(anchor.get("href", ""), base)
        # A link back to the page itself (#top, #comments, the logo) is never an article.
        if link is None or link == page or (regex is not None and not regex.search(link)):
            continue
        if not titles.get(link):
            titles[link] = _link_title(anchor)
    items = tuple(FeedItem(url=link, title=title) for link, title in titles.items())[:max_items]
    warning = None
    if not items:
        rules = " and ".join(
            f"{name} {value!r}"
            for name, value in (("selector", selector), ("pattern", pattern))
            if value is not None
        )
        warning = f"no article links matched {rules}; the page layout may have changed"
    title = " ".join(" ".join(doc.xpath("//head/title//text()")).split())
    return ParsedFeed(title=title, items=items, version="html", warning=warning)


# --- sitemaps --------------------------------------------------------------------------------


def _gunzip(data: bytes, limit: int) -> bytes:
    out = bytearray()
    while data.startswith(_GZIP_MAGIC):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            # max_length keeps a bomb from inflating past the cap in memory (0 would mean "no cap").
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise ParseError("parse.not_a_sitemap", f"found corrupt gzip data: {exc}") from None
        if len(out) > limit:
            raise ParseError("parse.too_large", f"gzip data inflates to more than {limit} bytes")
        if not inflater.eof:
            raise ParseError("parse.not_a_sitemap", "found truncated gzip data")
        # Several gzip members concatenated are one file; anything else after the end is padding.
        data = inflater.unused_data
    return bytes(out)


def _sitemap_root(body: bytes) -> etree._Element:
    # Generators often emit a blank line before the XML declaration, which XML forbids.
    body = body.lstrip(b" \t\r\n")
    if not body:
        raise ParseError("parse.not_a_sitemap", "found an empty body, not a sitemap")
    # Refused before parsing, so that libxml2 never starts expanding them; the check after parsing
    # catches declarations this byte scan cannot see (a UTF-16 document).
    declared = [m.group(1).decode("ascii", "replace") for m in _ENTITY_DECL.finditer(body)]
    if declared:
        _refuse_entities(declared)
    try:
        root = etree.fromstring(body, _xml_parser())
    except etree.XMLSyntaxError as exc:
        if looks_like_html(body):
            raise ParseError("parse.not_a_sitemap", "found an HTML page, not a sitemap") from None
        raise ParseError(
            "parse.not_a_sitemap", f"found malformed or truncated XML, not a sitemap: {exc}"
        ) from None
    dtd = root.getroottree().docinfo.internalDTD
    entities = [entity.name for entity in dtd.iterentities()] if dtd is not None else []
    if entities:
        _refuse_entities(entities)
    name = etree.QName(root).localname if isinstance(root.tag, str) else ""
    if name in ("urlset", "sitemapindex"):
        return root
    if name.lower() == "html":
        found = "an HTML page"
    else:
        found = _FEED_ROOTS.get(name.lower(), f"an XML document with root <{name}>")
    raise ParseError("parse.not_a_sitemap", f"found {found}, not a sitemap")


def _refuse_entities(names: list[str]) -> NoReturn:
    shown = ", ".join(dict.fromkeys(names[:5]))
    raise ParseError(
        "parse.unsafe_xml",
        f"the document declares XML entities ({shown}), which no sitemap needs; refused",
    )


def _xml_parser() -> etree.XMLParser:
    """A parser that substitutes no entity, loads no DTD and opens no URL or file, so that
    hostile documents stay inert even without the entity checks around it."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    for child in element:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            yield child


def _text(element: etree._Element, *path: str) -> str:
    """Text of the first element at ``path`` (local names) below ``element``, or ""."""
    for name in path:
        found = next(_children(element, name), None)
        if found is None:
            return ""
        element = found
    return _plain_text(element).strip()


def _plain_text(element: etree._Element) -> str:
    # Only text nodes: an entity reference is skipped, never expanded (XPath string() would
    # expand a declared one) nor rendered as "&name;" (as itertext() does).
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(_plain_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _url_entry(entry: etree._Element, now: datetime) -> tuple[FeedItem | None, str]:
    language = _text(entry, "news", "publication", "language").lower()
    link = canonical_http(_text(entry, "loc"), None)  # absolute only: no base
    if link is None:
        return None, language
    # lastmod is when the page last changed, not when it appeared; for news it is close enough
    # when the news extension gives no publication date.
    raws = [r for r in (_text(entry, "news", "publication_date"), _text(entry, "lastmod")) if r]
    dated = [(raw, when) for raw in raws if (when := _w3c_date(raw, now)) is not None]
    raw, published = dated[0] if dated else (raws[0] if raws else None, None)
    title = " ".join(html_to_text(_text(entry, "news", "title")).split())
    return (
        FeedItem(url=link, title=title, published=published, published_raw=raw),
        language,
    )


def _merge(first: FeedItem | None, again: FeedItem) -> FeedItem:
    """The first entry for a URL, completed with what a repeated entry adds."""
    if first is None:
        return again
    return FeedItem(
        url=first.url,
        title=first.title or again.title,
        published=first.published or again.published,
        published_raw=first.published_raw or again.published_raw,
    )


def _dated_locs(
    root: etree._Element, name: str, now: datetime
) -> list[tuple[str, datetime | None]]:
    seen: dict[str, datetime | None] = {}
    for entry in _children(root, name):
        try:
            loc = urldefrag(_text(entry, "loc")).url
        except ValueError:
            continue
        if is_http_url(loc) and loc not in seen:
            seen[loc] = _w3c_date(_text(entry, "lastmod"), now)
    return _newest_first(seen.items(), lambda pair: pair[1])


def _newest_first(values: Iterable[_T], when: Callable[[_T], datetime | None]) -> list[_T]:
    def key(value: _T) -> tuple[int, float]:
        stamp = when(value)
        return (1, 0.0) if stamp is None else (0, -stamp.timestamp())

    # sorted() is stable: undated entries keep their document order, after the dated ones.
    return sorted(values, key=key)


def _w3c_date(raw: str, now: datetime) -> datetime | None:
    """A W3C datetime (ISO 8601 profile) as UTC; RFC 822, which some generators emit, too."""
    text = raw.strip()
    if not text:
        return None
    try:
        if _BARE_DAY.fullmatch(text):
            value = datetime.combine(date.fromisoformat(text), time(12, 0), tzinfo=UTC)
        else:
            value = _iso_or_rfc822(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return plausible(value, now)


def _iso_or_rfc822(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return parsedate_to_datetime(text)  # ValueError too when it is neither


# --- HTML listings ---------------------------------------------------------------------------


def _compile_selector(selector: str) -> CSSSelector:
    if not selector.strip():
        raise ValueError("the CSS selector is empty")
    try:
        return CSSSelector(selector, translator="html")
    except SelectorError as exc:
        raise ValueError(f"invalid CSS selector '{selector}': {exc}") from None


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    if not pattern:
        # An empty pattern matches every URL: almost certainly a configuration slip.
        raise ValueError("the URL pattern is empty")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid URL pattern '{pattern}': {exc}") from None


def _base_url(doc: lxml.html.HtmlElement, url: str) -> str:
    for href in doc.xpath("//base/@href"):
        resolved = canonical_http(str(href), url)
        if resolved is not None:
            return resolved
    return url


def _links(elements: Iterable[lxml.html.HtmlElement]) -> Iterator[lxml.html.HtmlElement]:
    """Each element's link: itself when it is an ``a[href]``, else its first ``a[href]``."""
    for element in elements:
        if element.tag == "a" and element.get("href") is not None:
            yield element
            continue
        anchor = next((a for a in element.iter("a") if a.get("href") is not None), None)
        if anchor is not None:
            yield anchor


def _link_title(anchor: lxml.html.HtmlElement) -> str:
    # Through html_to_text so that block children (a card's <h3> and <p>) are separated by a
    # space instead of glued together, and scripts inside the link are dropped.
    fragment = etree.tostring(anchor, encoding="unicode", with_tail=False)
    title = " ".join(html_to_text(fragment).split())
    return title or " ".join(anchor.get("title", "").split())
