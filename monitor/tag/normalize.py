"""Text normalisation, word and sentence splitting: pure functions shared by terms and text.

Two steps, so that evidence can be quoted as written:

- :func:`clean` applies Unicode NFKC, then removes invisible characters (soft hyphen, zero-width
  spaces and joiners, BOM, bidi marks), the Arabic tatweel (ـ, a stretching stroke) and
  Arabic-script diacritics (harakat U+064B–U+065F, superscript alef U+0670, Quranic marks
  U+06D6–U+06ED). Vowel marks are optional in Arabic, Persian and Urdu and rarely written; being
  combining marks, they would also split a word in two for a regex. They are removed after NFKC
  has composed the letters with a hamza (أ ؤ ئ ۀ), which keep it. The result is the
  *display text*: offsets in it are the offsets evidence is cut from.
- :func:`fold` is length-preserving (one character in, one character out), so an offset in the
  folded text is the same offset in the display text. It unifies apostrophes (’ ' ʼ ‘ ` ´ ʻ) and
  hyphens, maps Russian ё to е, handles the Turkic dotted/dotless I before lower-casing (İ→i, and
  I→ı for Turkish and Azerbaijani) and lower-cases. Full ``str.casefold`` is not used because it
  is not length-preserving (ß→ss); ``lower`` plus final sigma folded to σ is the same for every
  language the monitor reads.

Arabic-script letters (Urdu, Persian, Arabic) that are written one way or another for the same
word, depending on keyboard and habit, are folded to one form (see ``_ARABIC``):

- yeh: Arabic ي and alef maksura ى → Farsi ی. Urdu yeh barree ے stays: it is a letter of its
  own (کی "ki" and کے "ke" are different words), not a spelling of ی.
- kaf: Arabic ك → keheh ک.
- heh: heh goal ہ (Urdu), ae ە, heh with hamza ۀ ۂ, and teh marbuta ة ۃ → Arabic heh ه.
  Teh marbuta is folded because Arabic writers use ة and ه interchangeably at the end of a word
  (the usual normalisation in Arabic retrieval); Persian and Urdu only meet it in loanwords.
- Heh doachashmee ھ marks aspiration in Urdu (بھ bh, کھ kh: کھا "eat" and کہا "said" are different
  words), so it stays distinct in Urdu (and Punjabi, Sindhi); in Arabic and Persian text it is
  only a glyph variant of heh and is folded to ه.
- alef with hamza أ إ and alef wasla ٱ → alef ا (hamza on alef is often left out); alef with
  madda آ → ا in Arabic only, since Persian and Urdu always write آ as a letter of its own.
- yeh barree with hamza ۓ → ے. Arabic-Indic and Persian digits stay as they are.

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

# Tatweel and Arabic diacritics, removed by clean with the invisible characters (see the module
# docstring).
_ARABIC_MARKS = "\u0640" + "".join(
    map(chr, [*range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE)])
)
_REMOVED_RE = re.compile(f"[{_INVISIBLE}{_ARABIC_MARKS}]")

# Languages in which heh doachashmee ھ marks aspiration and is not a variant of heh.
ASPIRATING_HEH = frozenset({"ur", "pa", "pnb", "sd"})
_ARABIC: tuple[tuple[str, str], ...] = (
    *(("ي", "ی"), ("ى", "ی"), ("ك", "ک")),
    *((c, "ه") for c in "ہەۀۂةۃ"),
    *((c, "ا") for c in "أإٱ"),
    ("ۓ", "ے"),
)

# Replacements made before lower-casing (İ must not become "i̇"), then after it. str.translate
# is slow on non-ASCII text; a handful of `in` tests and str.replace calls on the characters
# present is not (a test is a fast scan).
_BEFORE: tuple[tuple[str, str], ...] = (("İ", "i"), *((c, "'") for c in APOSTROPHES))
_BEFORE += tuple((c, "-") for c in _HYPHENS)
_TURKIC_BEFORE = (*_BEFORE, ("I", "ı"))
_AFTER = (("ё", "е"), ("ς", "σ"), *_ARABIC)
_AFTER_OTHERS = (*_AFTER, ("ھ", "ه"))  # heh doachashmee, outside Urdu, Punjabi, Sindhi
_AFTER_ARABIC = (*_AFTER_OTHERS, ("آ", "ا"))  # alef with madda, in Arabic

WORD = re.compile(r"\w+")

# A paragraph break is a blank line: two or more line breaks, with only white space between.
# A single line break is ordinary white space, since plain text (feeds, YAML blocks) is often
# hard-wrapped inside a paragraph; headings in extracted text are separated by blank lines.
PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
# A sentence ends at . ! ? … ۔ ؟ (possibly followed by closing quotes/brackets) before white space,
# or at a paragraph break. Whether a full stop really ends a sentence is decided by _is_boundary.
_END = re.compile(r"[.!?…۔؟]+[\"'»”’)\]]*(?=\s)|" + PARAGRAPH_BREAK.pattern)
_FINAL = "!?…۔؟"  # marks that always end a sentence (۔ is the Urdu full stop, ؟ the Arabic ?)
_MKHEDRULI_FIRST, _MKHEDRULI_LAST = "\u10d0", "\u10ff"  # Georgian letters (ა to ჿ)
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
    """NFKC applied, invisible characters, Arabic tatweel and diacritics removed: the display
    text."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    if _REMOVED_RE.search(text):
        # NFKC again: a letter and a mark that an invisible character kept apart may compose.
        text = unicodedata.normalize("NFKC", _REMOVED_RE.sub("", text))
    return text


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
    for old, new in _after(language):
        if old in text:
            text = text.replace(old, new)
    return text


def _after(language: str | None) -> tuple[tuple[str, str], ...]:
    """Replacements after lower-casing: the shared ones, plus those that depend on the language."""
    if language in ASPIRATING_HEH:
        return _AFTER
    return _AFTER_ARABIC if language == "ar" else _AFTER_OTHERS


def normalize(text: str, language: str | None = None) -> str:
    """What matching sees: ``fold(clean(text))``."""
    return fold(clean(text), language)


def words(text: str) -> list[str]:
    """The words of a (normalised) text, split on anything that is not a letter or digit."""
    return WORD.findall(text)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of display text, white space trimmed, empty ones dropped.

    Splits on . ! ? … and paragraph breaks (a blank line), not after abbreviations (``Mr.``, ``им.``), initials
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


def has_paragraph_break(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` contains a blank line."""
    return "\n" in text[start:end] and PARAGRAPH_BREAK.search(text, start, end) is not None


def sentence_index(starts: list[int], offset: int) -> int:
    """Index of the sentence containing ``offset``, given the sorted sentence starts."""
    return max(bisect_right(starts, offset) - 1, 0)


def _is_boundary(text: str, mark: int, end: int) -> bool:
    if text[mark] in _FINAL:
        return True
    following = text[end : end + 3].lstrip()
    if following and (_starts_lower(following[0]) or following[0].isdigit()):
        return False
    # The word before the mark, found by stepping back (a regex anchored at the end would be
    # tried at every position before it).
    stop = max(0, mark - 40)
    i = mark
    while i > stop and not is_word_char(text[i - 1]):
        i -= 1
    j = i
    while j > stop and is_word_char(text[j - 1]):
        j -= 1
    if j == i:
        return True
    word = text[j:i]
    return not (len(word) == 1 and word.isalpha()) and word.lower() not in _ABBREVIATIONS


def _starts_lower(char: str) -> bool:
    """A lower-case letter of a script that begins sentences with capitals. Georgian's Mkhedruli
    letters are lower-case to Unicode (Mtavruli capitals exist) but Georgian has no capital at a
    sentence's start: every sentence begins with what Python calls a lower-case letter."""
    return char.islower() and not _MKHEDRULI_FIRST <= char <= _MKHEDRULI_LAST


def is_word_char(char: str) -> bool:
    """A letter, a digit or an underscore: what ``\\w`` matches."""
    return char.isalnum() or char == "_"


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
