"""Text normalisation, word and sentence splitting: pure functions shared by terms and text.

Two steps, so that evidence can be quoted as written:

- :func:`clean` removes invisible characters (soft hyphen, zero-width spaces and joiners, BOM,
  bidi marks) and applies Unicode NFKC. Its result is the *display text*: offsets in it are the
  offsets evidence is cut from.
- :func:`fold` is length-preserving (one character in, one character out), so an offset in the
  folded text is the same offset in the display text. It unifies apostrophes (’ ' ʼ ‘ ` ´ ʻ) and
  hyphens, maps Russian ё to е, handles the Turkic dotted/dotless I before lower-casing (İ→i, and
  I→ı for Turkish and Azerbaijani) and lower-cases. Full ``str.casefold`` is not used because it
  is not length-preserving (ß→ss); ``lower`` plus final sigma folded to σ is the same for every
  language the monitor reads.

:func:`normalize` is both steps; rule terms go through the very same function as the text.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right

# Languages whose capital I is dotless (Turkish, Azerbaijani, and the Latin-script Turkic
# languages that follow the same convention).
TURKIC_I = frozenset({"tr", "az", "crh", "gag", "tt"})

APOSTROPHES = "’‘ʼʻ`´′ʹ‛"
_HYPHENS = "‐‑‒"  # NFKC already maps most others; the minus sign and dashes stay punctuation
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
_INVISIBLE += "\u2066\u2067\u2068\u2069\u180e"

_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
# Replacements made before lower-casing (İ must not become "i̇"), then after it. str.translate
# is slow on non-ASCII text; a handful of str.replace calls on the characters present is not.
_BEFORE: tuple[tuple[str, str], ...] = (("İ", "i"), *((c, "'") for c in APOSTROPHES))
_BEFORE += tuple((c, "-") for c in _HYPHENS)
_TURKIC_BEFORE = (*_BEFORE, ("I", "ı"))
_AFTER = (("ё", "е"), ("ς", "σ"))

WORD = re.compile(r"\w+")

# A sentence ends at . ! ? … (possibly followed by closing quotes/brackets) before white space,
# or at a line break. Whether a full stop really ends a sentence is decided by _is_boundary.
_END = re.compile(r"[.!?…]+[\"'»”’)\]]*(?=\s)|\n+")
_LAST_WORD = re.compile(r"(\w+)\W*$")
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "inc", "ltd", "co"),
        *("corp", "no", "nos", "approx", "dept", "gen", "gov", "sen", "rep", "fig", "vol"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
        *("г", "гг", "т", "е", "им", "ул", "пр", "просп", "д", "др", "см", "тыс", "млн", "млрд"),
        *("руб", "коп", "проф", "акад", "доц", "ст", "н", "э", "св", "кв", "обл", "məs", "b"),
    }
)


def clean(text: str) -> str:
    """Invisible characters removed, NFKC applied: the display text."""
    if _INVISIBLE_RE.search(text):
        text = _INVISIBLE_RE.sub("", text)
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def fold(text: str, language: str | None = None) -> str:
    """Length-preserving case and variant folding of display text (see the module docstring)."""
    if text.isascii():
        if "`" in text:
            text = text.replace("`", "'")
        if language in TURKIC_I and "I" in text:
            text = text.replace("I", "ı")
        return text.lower()
    for old, new in _TURKIC_BEFORE if language in TURKIC_I else _BEFORE:
        if old in text:
            text = text.replace(old, new)
    text = text.lower()
    for old, new in _AFTER:
        if old in text:
            text = text.replace(old, new)
    return text


def normalize(text: str, language: str | None = None) -> str:
    """What matching sees: ``fold(clean(text))``."""
    return fold(clean(text), language)


def words(text: str) -> list[str]:
    """The words of a (normalised) text, split on anything that is not a letter or digit."""
    return WORD.findall(text)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of display text, white space trimmed, empty ones dropped.

    Splits on . ! ? … and line breaks, not after abbreviations (``Mr.``, ``им.``), initials
    (``S. A. Gerasimov``) or before a lower-case letter or a digit; ``2.5`` never splits.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        if match.group()[0] != "\n" and not _is_boundary(text, match.start(), end):
            continue
        _add_span(text, start, end, spans)
        start = end
    _add_span(text, start, len(text), spans)
    return spans


def sentence_index(starts: list[int], offset: int) -> int:
    """Index of the sentence containing ``offset``, given the sorted sentence starts."""
    return max(bisect_right(starts, offset) - 1, 0)


def _is_boundary(text: str, mark: int, end: int) -> bool:
    if text[mark] in "!?…":
        return True
    following = text[end : end + 3].lstrip()
    if following and (following[0].islower() or following[0].isdigit()):
        return False
    last = _LAST_WORD.search(text, max(0, mark - 40), mark + 1)
    if last is None:
        return True
    word = last.group(1)
    return not (len(word) == 1 and word.isalpha()) and word.lower() not in _ABBREVIATIONS


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
