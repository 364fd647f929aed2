"""Plain-text helpers shared by the stages: HTML fragments to text, whitespace, sentences."""

from __future__ import annotations

import html
import re

_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "pre",
    ]
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'»”)]?\s+(?=[\"'«“(]?[A-ZА-ЯЁƏÇĞİÖŞÜ0-9\u10a0-\u10ff])")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def squash(text: str) -> str:
    """Collapse runs of spaces, keep paragraph breaks as one blank line."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment; block elements become line breaks.

    Plain text passes through with entities decoded. Scripts and styles are dropped.
    """
    if not fragment or "<" not in fragment:
        return squash(html.unescape(fragment or ""))
    # Imported here: the rest of this module serves commands that read no HTML.
    import lxml.html
    from lxml import etree

    # Control characters (other than tab and newlines) are not text, and lxml refuses them.
    fragment = _CONTROL.sub(" ", fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return squash(html.unescape(re.sub(r"<[^>]*>", " ", fragment)))
    for bad in root.xpath(".//script|.//style|.//noscript|.//template"):
        bad.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            # a paragraph break, as in extracted article text; a <br> is a line break
            element.tail = ("\n" if element.tag.lower() == "br" else "\n\n") + (element.tail or "")
    return squash(root.text_content())


MAX_TITLE = 400  # characters; a longer "title" is a feed's mistake or an attack


def short_title(title: str, limit: int = MAX_TITLE) -> str:
    """A title cut at a word boundary when it is longer than ``limit``."""
    if len(title) <= limit:
        return title
    cut = title[:limit].rsplit(" ", 1)[0] if " " in title[:limit] else title[:limit]
    return cut.rstrip(",;:-–— ") + "…"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_sentences(text: str, count: int = 3, max_chars: int = 400) -> str:
    """The opening sentences of a text, for a summary; cut at a word boundary if too long."""
    paragraph = next((p for p in text.split("\n\n") if p.strip()), "").replace("\n", " ")
    sentences = _SENTENCE_END.split(paragraph.strip())
    summary = " ".join(sentences[:count]).strip()
    if len(summary) > max_chars:
        summary = summary[:max_chars].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return summary


def plural(n: int, word: str) -> str:
    """An English count for the command line and the log: "1 source", "3 sources"."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# Characters XML 1.0 forbids (and HTML treats as parse errors); feeds do carry them.
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str | None) -> str:
    """``text`` without the characters XML 1.0 forbids; None as empty."""
    return _INVALID_CHARS.sub("", text or "")
