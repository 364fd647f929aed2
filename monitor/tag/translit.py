"""Uzbek Latin → Cyrillic, for rule terms: Uzbek is written in both scripts, rules in Latin only.

The mapping follows the official correspondence of the two alphabets (1995): one Latin letter or
digraph gives one Cyrillic letter (o' → ў, g' → ғ, sh → ш, ch → ч, h → ҳ, x → х, q → қ, j → ж,
y → й; ng stays нг). Context decides a few letters:

- ``e`` is э at the start of a word and after a vowel (ekran → экран, poeziya → поэзия), е after
  a consonant (kelishuv → келишув).
- ``ye yo yu ya`` are е ё ю я at the start of a word and after a vowel (yangi → янги, Yevropa →
  Европа); ``yo'`` is й + ў (yo'l → йўл).
- the apostrophe that is not part of o' or g' (tutuq belgisi) is ъ (ma'lum → маълум), except
  between s and h, where it only keeps them apart (Is'hoq → Исҳоқ).
- ``ss`` at the start of a word is сц (ssenariy → сценарий).

Russian loanwords keep Russian spelling in Cyrillic, which the Latin does not show. Where a
letter can go either way, both spellings are generated, the likelier first:

- ``l`` before a consonant or at the end of a word: л or ль (film → фильм, multfilm → мультфильм,
  but bilan → билан, kelmoq → келмоқ; festival → фестиваль, serial → сериал).
- ``ye yo yu ya`` after a consonant: with ь or ъ before them or without (premyera → премьера,
  obyekt → объект, kompyuter → компьютер, but prodyuser → продюсер, aktyor → актёр).
- ``ts``: ц or тс (animatsiya → анимация, but aytsa → айтса); ц first before i and e.
- ``s`` between a consonant and i + vowel: с or ц (versiya → версия, stansiya → станция).

A term yields at most :data:`MAX_SPELLINGS` spellings. Characters other than Latin letters
(``* ? ~``, spaces, hyphens, digits, Cyrillic letters) are kept, so a term's syntax survives:
``hamkorlik*`` → ``ҳамкорлик*``, ``~ikki davlat*`` → ``~икки давлат*``.
"""

from __future__ import annotations

from itertools import islice, product

from monitor.tag.normalize import normalize

MAX_SPELLINGS = 8

_LETTERS = {
    **dict(zip("abdfghijklmnopqrstuvxyz", "абдфгҳижклмнопқрстувхйз", strict=True)),
    "c": "ц",  # not an Uzbek letter: foreign names
    "w": "в",
}
_IOTATED = {"a": "я", "o": "ё", "u": "ю", "e": "е"}
_VOWELS = frozenset("aeiou" + "аеёиоуэюяўы")
_LATIN_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxyz")

# What precedes a letter, for the context rules.
_START, _VOWEL, _CONSONANT, _UNKNOWN = "start", "vowel", "consonant", "unknown"


def uz_latin_to_cyrillic(term: str) -> str:
    """The likeliest Cyrillic spelling of a Latin Uzbek term (lower-cased)."""
    return uz_cyrillic_spellings(term)[0]


def uz_cyrillic_spellings(term: str) -> tuple[str, ...]:
    """Cyrillic spellings of a Latin Uzbek term, the likeliest first (see the module docstring)."""
    choices = _choices(normalize(term, "uz"))
    spellings = ("".join(parts) for parts in product(*choices))
    return tuple(dict.fromkeys(islice(spellings, MAX_SPELLINGS)))


def _choices(text: str) -> list[tuple[str, ...]]:
    """For each letter or digraph of ``text``, its possible Cyrillic spellings."""
    out: list[tuple[str, ...]] = []
    before = _START
    i = 0
    while i < len(text):
        options, used, after = _one(text, i, before)
        out.append(options)
        before = after
        i += used
    return out


def _one(text: str, i: int, before: str) -> tuple[tuple[str, ...], int, str]:
    """Spellings of the letter(s) at ``i``, how many characters they use, and what the next
    letter follows (start of a word, vowel, consonant)."""
    char = text[i]
    following = text[i + 1 : i + 3]
    if char in "og" and following[:1] == "'":
        return ("ў" if char == "o" else "ғ",), 2, _VOWEL if char == "o" else _CONSONANT
    if char == "'":
        return ("" if text[i - 1 : i] == "s" and following[:1] == "h" else "ъ",), 1, before
    if char in "sc" and following[:1] == "h":
        return ("ш" if char == "s" else "ч",), 2, _CONSONANT
    if char == "t" and following[:1] == "s" and following[1:2] != "h":
        likely_ts = following[1:2] in ("i", "e")
        return (("ц", "тс") if likely_ts else ("тс", "ц")), 2, _CONSONANT
    if char == "s" and before == _START and following[:1] == "s":
        return ("сц",), 2, _CONSONANT
    if char == "s" and before == _CONSONANT and following[:1] == "i" and _iotating(text, i + 2):
        return ("с", "ц"), 1, _CONSONANT
    if char == "y" and following[:1] in _IOTATED and following != "o'":
        return _iotated(_IOTATED[following[0]], before), 2, _VOWEL
    if char == "e":
        options = {_START: ("э",), _VOWEL: ("э",), _CONSONANT: ("е",)}.get(before, ("е", "э"))
        return options, 1, _VOWEL
    if char == "l" and _soft_l(text, i):
        return (("ль", "л") if following[:1] == "m" else ("л", "ль")), 1, _CONSONANT
    if char in _LETTERS:
        return (_LETTERS[char],), 1, _VOWEL if char in _VOWELS else _CONSONANT
    if char.isalpha():
        return (char,), 1, _VOWEL if char in _VOWELS else _CONSONANT
    return (char,), 1, _UNKNOWN if char == "*" else _START


def _iotated(letter: str, before: str) -> tuple[str, ...]:
    if before in (_START, _VOWEL):
        return (letter,)
    if letter == "е":  # a plain е after a consonant is Latin e: ye needs a sign
        return ("ье", "ъе")
    return (letter, "ь" + letter, "ъ" + letter)


def _soft_l(text: str, i: int) -> bool:
    """An l that Russian loanwords may soften: before a consonant, or ending a word."""
    following = text[i + 1 : i + 2]
    if following in ("", " ", "-"):
        return i > 0 and text[i - 1] in _VOWELS
    return following in _LATIN_CONSONANTS and following != "y"


def _iotating(text: str, i: int) -> bool:
    """A vowel or y at ``i``: -siya, -sion (versiya, stansiya, aksiya)."""
    return text[i : i + 1] in _VOWELS or text[i : i + 1] == "y"
