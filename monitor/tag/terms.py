"""Rule terms: their syntax, and a compiled lexicon that finds all of them in one regex pass.

Term syntax (what a press officer writes in a rule file)::

    film            the word "film" (also "film's", "Film", "FILM")
    film*           a word starting with "film": films, filmmaker, filmlərin
    *film*          a word containing "film": Kazakhfilm, Мосфильма (one-word terms only)
    *film           a word ending in "film"
    film festival*  a phrase: words in this order, separated by spaces or hyphens
    co-produc*      a hyphen inside a term may be written as a hyphen, a space or nothing:
                    co-production, co production, coproduction
    تفاهم‌نامه*      a zero-width non-joiner (the Persian half-space) is a hyphen: it also
                    matches تفاهم نامه and تفاهمنامه
    days of ? cinema  "?" stands for any one word: days of Uzbek cinema
    ~partners       a weak term (leading ~): it counts half in a meeting of concepts; for
                    common words that are not always about the concept

:func:`parse_term` ignores the ``~``; :func:`is_weak` tells whether a term has it.

Terms are normalised with the same function as the text (:mod:`monitor.tag.normalize`), so case,
ё/е, İ/I and apostrophe variants do not matter. :func:`variants` gives a term's spellings in the
other scripts of its language (Uzbek Latin terms also match Uzbek Cyrillic text).

A :class:`Lexicon` compiles many terms, each with one or more labels, into a single regex shaped as
a trie (shared prefixes are tested once). Every term ends in an empty capturing group; the group
that took part in a match tells which term matched, without a second lookup. At a given position
the longest term wins (see ``_render``), so an exclusion such as ``plastic film`` hides the
``film*`` inside it, and ``accord* di pace`` wins over ``accordo`` in "accordo di pace".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from monitor.tag.normalize import clean, is_word_char, normalize
from monitor.tag.translit import uz_cyrillic_spellings

GAP = "?"
WEAK = "~"
ZWNJ = "\u200c"  # zero-width non-joiner: Persian and Urdu half-space, a hyphen in a term
_ALLOWED = re.compile(r"^[\w'’‘ʼʻ`.&*?\- ]+$")
_MIN_STEM = 3

# Rendered regex fragments.
_SEP_SPACE = r"[\s\-]+"
_SEP_HYPHEN = r"[\s\-]?"
_GAP_WORD = r"\w+"
_STEM = r"\w*"
_END = r"(?!\w)"
_WORD_START = re.compile(r"(?<!\w)\w")


def _inner_starts(text: str, start: int, end: int) -> tuple[int, ...]:
    """Where the words after the first one of ``text[start:end]`` start."""
    return tuple(w.start() for w in _WORD_START.finditer(text, start + 1, end))


def word_starts(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, ...]]:
    """For each span, where its words after the first one start (see Lexicon.find_within)."""
    return [_inner_starts(text, start, end) for start, end in spans]


def check_term(text: str) -> str:
    """Validate a term's syntax; returns it stripped and cleaned like text (invisible characters
    and Arabic vowel marks removed), with a zero-width non-joiner made a hyphen. Raises
    ValueError with a readable message."""
    term = " ".join(clean(text.replace(ZWNJ, "-")).split())
    if term.startswith(WEAK):
        return WEAK + check_term(term[1:])
    if not term:
        raise ValueError("empty term")
    if not _ALLOWED.match(term):
        raise ValueError(f"{text!r}: only letters, digits, spaces, hyphens, apostrophes, * and ?")
    parts = _split(term)
    if parts[0][0] == GAP or parts[-1][0] == GAP:
        raise ValueError(f"{text!r}: '?' (any word) cannot start or end a term")
    for word, _ in parts:
        core = word.strip("*")
        if word == GAP:
            continue
        if "*" in core or "?" in core:
            raise ValueError(f"{text!r}: '*' goes at the start or end of a word, '?' alone")
        if not any(c.isalnum() for c in core):
            raise ValueError(f"{text!r}: a word needs at least one letter or digit")
        if (word.endswith("*") or word.startswith("*")) and len(core) < _MIN_STEM:
            raise ValueError(f"{text!r}: a stem needs at least {_MIN_STEM} letters before '*'")
    if len(parts) > 1 and parts[0][0].startswith("*"):
        raise ValueError(f"{text!r}: a leading '*' is allowed in one-word terms only")
    return term


@dataclass(frozen=True)
class Word:
    """One word of a parsed term: its normalised letters and what may surround them."""

    literal: str
    any_start: bool = False
    tail: str = ""  # regex after the letters: "" (exact), r"\w*" (stem), or inflection endings
    gap: bool = False


@dataclass(frozen=True)
class Term:
    """A parsed term. ``joins[i]`` is " " or "-" between ``words[i]`` and ``words[i + 1]``."""

    words: tuple[Word, ...]
    joins: tuple[str, ...]

    @property
    def key(self) -> tuple[object, ...]:
        return (self.words, self.joins)


def parse_term(text: str, language: str | None, tail: str = "") -> Term:
    """Parse a checked term and normalise it for ``language``.

    ``tail`` (a regex fragment) is appended to the last word when the term has no trailing ``*``:
    the country tables use it for inflectional endings.
    """
    parts = _split(check_term(text).lstrip(WEAK))
    words: list[Word] = []
    for i, (raw, _) in enumerate(parts):
        if raw == GAP:
            words.append(Word("", gap=True))
            continue
        any_start = raw.startswith("*")
        stem = raw.endswith("*")
        literal = normalize(raw.strip("*"), language)
        word_tail = _STEM if stem else (tail if i == len(parts) - 1 else "")
        words.append(Word(literal, any_start=any_start, tail=word_tail))
    return Term(tuple(words), tuple(join for _, join in parts[1:]))


def is_weak(text: str) -> bool:
    return text.strip().startswith(WEAK)


# Spellings of a term in the other scripts of a language written in more than one: rules are
# written in one script (Uzbek: Latin), texts come in either.
SCRIPT_SPELLINGS: Mapping[str, Callable[[str], tuple[str, ...]]] = {"uz": uz_cyrillic_spellings}


def variants(text: str, language: str | None) -> tuple[str, ...]:
    """A term as written, then its spellings in the language's other scripts (checked terms;
    one that breaks a rule there, such as a stem shorter than 3 letters, is left out)."""
    spell = SCRIPT_SPELLINGS.get(language or "")
    if spell is None:
        return (text,)
    out = [text]
    for spelling in spell(text):
        try:
            out.append(check_term(spelling))
        except ValueError:
            continue
    return tuple(dict.fromkeys(out))


def _split(term: str) -> list[tuple[str, str]]:
    """Words with the join that precedes each (" " or "-"; the first gets "")."""
    out: list[tuple[str, str]] = []
    for i, chunk in enumerate(term.split(" ")):
        pieces = [p for p in chunk.split("-") if p] if not chunk.startswith("-") else [chunk]
        for j, piece in enumerate(pieces or [chunk]):
            join = "" if i == 0 and j == 0 else ("-" if j > 0 else " ")
            out.append((piece, join))
    return out


@dataclass(frozen=True)
class Found:
    """A term found in a text: offsets in the text and the labels of the term."""

    start: int
    end: int
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Affix:
    """A one-word term with a leading ``*``: found by substring search, then widened to its word
    (a regex with a leading ``\\w*`` would be tried at every word of every text)."""

    core: str
    any_end: bool
    labels: tuple[str, ...]

    def find(self, text: str) -> list[Found]:
        out: list[Found] = []
        i = text.find(self.core)
        while i != -1:
            start, end = i, i + len(self.core)
            while start > 0 and is_word_char(text[start - 1]):
                start -= 1
            word_end = end
            while word_end < len(text) and is_word_char(text[word_end]):
                word_end += 1
            if self.any_end or word_end == end:
                out.append(Found(start, word_end, self.labels))
            i = text.find(self.core, word_end)
        return out


@dataclass(frozen=True)
class Lexicon:
    """Terms with labels, as one regex. Picklable.

    The regex is compiled on first use and not pickled: the country lexicons of agglutinative
    languages are regexes of a few hundred kilobytes, and compiling them all takes seconds that
    a run reading two languages, or a worker process, need not spend.
    """

    source: str | None
    leaves: tuple[tuple[str, ...], ...]  # labels of the term behind each capturing group
    affixes: tuple[Affix, ...] = ()

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        return None if self.source is None else re.compile(self.source)

    def __getstate__(self) -> dict[str, object]:
        return {"source": self.source, "leaves": self.leaves, "affixes": self.affixes}

    def find(self, text: str) -> list[Found]:
        """Non-overlapping terms of a normalised text, left to right, longest first."""
        found: list[Found] = []
        if self.pattern is not None:
            leaves = self.leaves
            found = [
                Found(m.start(), m.end(), leaves[(m.lastindex or 1) - 1])
                for m in self.pattern.finditer(text)
            ]
        return self._with_affixes(text, found)

    def find_within(
        self,
        text: str,
        spans: Sequence[tuple[int, int]],
        starts: Sequence[Sequence[int]] | None = None,
    ) -> list[Found]:
        """What :meth:`find` returns, when every term of this lexicon that occurs in ``text``
        starts inside one of ``spans`` (sorted, not overlapping): those of a lexicon holding all
        of this one's terms, found in ``text`` once for several smaller lexicons. Only the
        positions inside the spans are tried, as the scan over the whole text would try them.
        ``starts``, from :func:`word_starts` of the same spans, saves finding the words' starts
        again when several lexicons look in the same spans."""
        found: list[Found] = []
        pattern = self.pattern
        if pattern is not None:
            leaves = self.leaves
            done = 0  # where the last match ended: the scan goes on from there
            for n, (start, end) in enumerate(spans):
                # Terms start at a word's start: the other positions cannot match.
                inside = starts[n] if starts is not None else _inner_starts(text, start, end)
                for i in (done if start < done else start, *inside):
                    if i < done:
                        continue
                    m = pattern.match(text, i)
                    if m is not None:
                        found.append(Found(m.start(), m.end(), leaves[(m.lastindex or 1) - 1]))
                        done = m.end()
        return self._with_affixes(text, found)

    def _with_affixes(self, text: str, found: list[Found]) -> list[Found]:
        """``found`` and the terms with a leading ``*`` that do not overlap them."""
        if not self.affixes:
            return found
        extra: dict[tuple[int, int], tuple[str, ...]] = {}
        for affix in self.affixes:
            if affix.core not in text:
                continue
            for f in affix.find(text):
                if any(g.start < f.end and f.start < g.end for g in found):
                    continue
                labels = extra.get((f.start, f.end), ())
                extra[(f.start, f.end)] = labels + tuple(x for x in f.labels if x not in labels)
        if not extra:
            return found
        found.extend(Found(s, e, labels) for (s, e), labels in extra.items())
        return sorted(found, key=lambda f: f.start)


def compile_lexicon(entries: Iterable[tuple[Term, str]]) -> Lexicon:
    """Build a lexicon from (term, label) pairs; a term listed under several labels gets all."""
    labels: dict[tuple[object, ...], list[str]] = {}
    terms: dict[tuple[object, ...], Term] = {}
    for term, label in entries:
        bucket = labels.setdefault(term.key, [])
        terms.setdefault(term.key, term)
        if label not in bucket:
            bucket.append(label)
    trie: _Node = {}
    affixes: list[Affix] = []
    for key, term in terms.items():
        leaf = tuple(labels[key])
        word = term.words[0]
        if word.any_start:
            affixes.append(Affix(word.literal, word.tail == _STEM, leaf))
        else:
            _insert(trie, _units(term), leaf)
    if not trie:
        return Lexicon(None, (), tuple(affixes))
    leaves: list[tuple[str, ...]] = []
    source = _start(trie) + _render(trie, leaves, {})
    return Lexicon(source, tuple(leaves), tuple(affixes))


# A trie node maps a unit (a literal character, or a regex fragment marked by a leading NUL) to
# its child; the key None holds the labels of a term ending there.
_Node = dict[object, object]
_REGEX = "\0"


def _start(trie: _Node) -> str:
    """A term starts where no word character precedes it. When every term starts with a word
    character, ``\\b`` says the same and is faster to test at every position of a text."""
    if all(isinstance(k, str) and is_word_char(k) for k in trie):
        return r"\b"
    return r"(?<!\w)"


def _units(term: Term) -> list[str]:
    units: list[str] = []
    for i, word in enumerate(term.words):
        if i:
            units.append(_REGEX + (_SEP_HYPHEN if term.joins[i - 1] == "-" else _SEP_SPACE))
        if word.gap:
            units.append(_REGEX + _GAP_WORD)
            continue
        units.extend(word.literal)
        if word.tail:
            units.append(_REGEX + word.tail)
    return units


def _insert(node: _Node, units: Sequence[str], leaf: tuple[str, ...]) -> None:
    for unit in units:
        child = node.setdefault(unit, {})
        assert isinstance(child, dict)
        node = child
    node[None] = leaf


def _fragment_order(unit: str) -> tuple[int, int]:
    """Separators (a longer phrase) first, then inflection tails (longest first), then stems."""
    body = unit[1:]
    rank = (
        0
        if body in (_SEP_SPACE, _SEP_HYPHEN)
        else 1
        if body == _GAP_WORD
        else 3
        if body == _STEM
        else 2
    )
    return (rank, -len(body))


# Word counts below each trie node, by id (the node is kept so that its id stays its own).
_Lengths = dict[int, tuple[_Node, frozenset[int]]]


def _render(node: _Node, leaves: list[tuple[str, ...]], memo: _Lengths) -> str:
    """Regex for a trie node, its alternatives in the order that makes the longest term win.

    Python's regex takes the first alternative that matches, not the longest. Two literal
    children never compete (they start with different characters), but a fragment (a stem's
    ``\\w*``, an inflection tail, a separator) may match where a literal does: after ``accord``,
    ``accordo`` and ``accord* di pace`` both fit "accordo di pace". Where a node has fragments,
    each child is therefore split by the number of words of the terms below it, and the paths
    to longer terms are tried first; ties keep literals first (the more specific term), then
    fragments (longest continuations first). The end of a term comes last."""
    literals = sorted(k for k in node if isinstance(k, str) and not k.startswith(_REGEX))
    fragments = sorted(
        (k for k in node if isinstance(k, str) and k.startswith(_REGEX)), key=_fragment_order
    )
    units = literals + fragments
    if fragments and len(units) > 1:
        branches = _by_length(node, units, memo)
    else:
        branches = [(unit, _child(node, unit)) for unit in units]
    alternatives: list[str] = []
    for unit, child in branches:
        head = unit[1:] if unit.startswith(_REGEX) else re.escape(unit)
        alternatives.append(head + _render(child, leaves, memo))
    leaf = node.get(None)
    if isinstance(leaf, tuple):
        leaves.append(leaf)
        alternatives.append(_END + "()")
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


def _child(node: _Node, unit: str) -> _Node:
    child = node[unit]
    assert isinstance(child, dict)
    return child


def _by_length(node: _Node, units: list[str], memo: _Lengths) -> list[tuple[str, _Node]]:
    """(unit, child pruned to terms of one length), longest terms first, stable otherwise."""
    branches: list[tuple[int, int, str, _Node]] = []
    for rank, unit in enumerate(units):
        child = _child(node, unit)
        step = 1 if _is_separator(unit) else 0
        for words in sorted(_lengths(child, memo)):
            branches.append((-(words + step), rank, unit, _pruned(child, words, memo)))
    branches.sort(key=lambda b: b[:2])
    return [(unit, child) for _, _, unit, child in branches]


def _is_separator(unit: str) -> bool:
    return unit[1:] in (_SEP_SPACE, _SEP_HYPHEN)


def _lengths(node: _Node, memo: _Lengths) -> frozenset[int]:
    """Word counts (separators crossed) from a node to the ends of the terms below it."""
    known = memo.get(id(node))
    if known is not None:
        return known[1]
    out = {0} if None in node else set()
    for unit, child in node.items():
        if isinstance(unit, str):
            assert isinstance(child, dict)
            step = 1 if _is_separator(unit) else 0
            out.update(n + step for n in _lengths(child, memo))
    memo[id(node)] = (node, frozenset(out))
    return memo[id(node)][1]


def _pruned(node: _Node, words: int, memo: _Lengths) -> _Node:
    """A copy of a trie node keeping only the terms that end ``words`` separators below it."""
    out: _Node = {}
    if words == 0 and None in node:
        out[None] = node[None]
    for unit, child in node.items():
        if not isinstance(unit, str):
            continue
        assert isinstance(child, dict)
        rest = words - (1 if _is_separator(unit) else 0)
        if rest >= 0 and rest in _lengths(child, memo):
            out[unit] = _pruned(child, rest, memo)
    memo[id(out)] = (out, frozenset({words}))
    return out
