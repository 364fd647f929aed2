"""Language identification: the script first, then py3langid among the languages the rules support.

1. The sample's script (Latin, Cyrillic, Georgian, Arabic; counted on UTF-8 lead bytes, which is
   cheap) narrows the candidates to the supported languages written in it (:data:`SCRIPTS`;
   a language missing from that table may be written in any script). Georgian text is Georgian
   without asking the model; a Cyrillic text is never Azerbaijani, whatever the source declares.
2. The declared language of the source is a prior: it wins when the text is shorter than
   :data:`MIN_CHARS`, when the model agrees with it on the first :data:`MIN_CHARS` characters,
   and when the model is not confident otherwise, provided the text is written in a script of
   that language.
3. Letters that a language does not have rule it out when they are frequent enough
   (:data:`FOREIGN_LETTERS`): ə is not Turkish, ў and ҳ are not Kazakh, ә ө ұ ү і ң һ are not
   Uzbek, neither are Russian; ے ٹ ڈ ڑ ں are not Persian, and with پ چ ژ گ not Arabic. This
   settles the known confusions on short texts (uz-Cyrl/kk/ru, az/tr, ur/fa/ar) without
   letting one quoted name (Қазақфильм in a Russian story) decide.
4. py3langid, restricted to the supported languages, ranks the remaining candidates.

The py3langid model (about 70 MB in memory, ~0.5 s to load) is loaded on first use and never
pickled, so a tagger sent to a worker process stays small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

SAMPLE_CHARS = 400  # detection on the start of the text: fast (py3langid walks bytes in Python)
MIN_CHARS = 120  # below this the declared language is trusted; above, this much confirms it
MIN_CONFIDENCE = 0.9
FOREIGN_SHARE = 0.02  # foreign letters above this share of a sample's letters rule a language out

LATIN, CYRILLIC, GEORGIAN, ARABIC = "Latn", "Cyrl", "Geor", "Arab"

# The scripts each language is written in (ISO 15924). Uzbek is written in both Latin and
# Cyrillic; Kazakh in Cyrillic (its Latin alphabet is not yet in use in the news).
SCRIPTS: Mapping[str, frozenset[str]] = {
    **{code: frozenset({LATIN}) for code in ("en", "az", "tr", "it", "de", "fr", "es", "pt")},
    **{code: frozenset({CYRILLIC}) for code in ("ru", "kk", "uk", "be", "ky", "tg", "mn")},
    "uz": frozenset({LATIN, CYRILLIC}),
    "ka": frozenset({GEORGIAN}),
    **{code: frozenset({ARABIC}) for code in ("ur", "fa", "ar", "ps")},
}

_KAZAKH = "әөұүіңһ"
_UZBEK = "ўҳ"
_URDU = "ےٹڈڑں"
FOREIGN_LETTERS: Mapping[str, str] = {
    code: letters + letters.upper()
    for code, letters in {
        "tr": "ə",
        "ru": _KAZAKH + _UZBEK,  # not қ ғ: Kazakh names keep them in some Russian stories
        "kk": _UZBEK,
        "uz": _KAZAKH,
        "fa": _URDU,
        "ar": _URDU + "پچژگ",
    }.items()
}

# UTF-8 lead bytes of each script's main block: counting bytes is much faster than looking at
# characters in Python.
_LEAD_BYTES: Mapping[str, tuple[bytes, ...]] = {
    CYRILLIC: (b"\xd0", b"\xd1", b"\xd2", b"\xd3"),  # U+0400–U+04FF
    ARABIC: (b"\xd8", b"\xd9", b"\xda", b"\xdb"),  # U+0600–U+06FF
    GEORGIAN: (b"\xe1\x82", b"\xe1\x83", b"\xe1\xb2"),  # U+10A0–U+10FF, Mtavruli U+1C90
}
_NOT_LATIN = bytes(b for b in range(256) if not (chr(b).isascii() and chr(b).isalpha()))
_LATIN_LEADS = (b"\xc3", b"\xc4", b"\xc5", b"\xc6", b"\xc7", b"\xc8", b"\xc9")  # U+00C0–U+027F


def _base(code: str | None) -> str | None:
    """``en-US`` → ``en``; None for empty."""
    if not code:
        return None
    return code.strip().lower().replace("_", "-").split("-")[0] or None


def script_of(text: str) -> str | None:
    """The script most of a text's letters are written in, among Latin, Cyrillic, Georgian and
    Arabic (None when it has no letter of any of them)."""
    data = text.encode("utf-8", "surrogatepass")
    counts = {script: sum(data.count(b) for b in leads) for script, leads in _LEAD_BYTES.items()}
    counts[LATIN] = len(data.translate(None, _NOT_LATIN)) + sum(map(data.count, _LATIN_LEADS))
    script, count = max(counts.items(), key=lambda item: item[1])
    return script if count else None


def writes(language: str, script: str | None) -> bool:
    """Whether ``language`` is written in ``script`` (True for a language not in SCRIPTS)."""
    scripts = SCRIPTS.get(language)
    return scripts is None or script is None or script in scripts


def ruled_out(sample: str, languages: Sequence[str]) -> set[str]:
    """The languages among ``languages`` that the sample's letters rule out (FOREIGN_LETTERS)."""
    letters = len(sample) - sample.count(" ")  # near enough, and no loop in Python
    return {
        language
        for language in languages
        if language in FOREIGN_LETTERS
        and sum(map(sample.count, FOREIGN_LETTERS[language])) >= max(2, FOREIGN_SHARE * letters)
    }


class LanguageDetector:
    """Detects among ``languages``; picklable, loads the model lazily."""

    __slots__ = ("_identifier", "languages")

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(sorted(set(languages)))
        self._identifier: Any = None

    def __getstate__(self) -> tuple[str, ...]:
        return self.languages

    def __setstate__(self, state: tuple[str, ...]) -> None:
        self.languages = state
        self._identifier = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LanguageDetector) and other.languages == self.languages

    def __hash__(self) -> int:
        return hash(self.languages)

    def __repr__(self) -> str:
        return f"LanguageDetector({list(self.languages)!r})"

    def detect(self, text: str, declared: str | None = None) -> str | None:
        """The text's language among the supported ones, or the declared one as a prior."""
        prior = _base(declared)
        sample = " ".join(text[:SAMPLE_CHARS].split())
        if not any(c.isalpha() for c in sample):
            return prior
        if len(self.languages) == 1:
            return self.languages[0]
        script = script_of(sample)
        in_script = [code for code in self.languages if writes(code, script)]
        if not in_script:  # a script no supported language is written in
            return prior
        if prior in in_script and len(sample) < MIN_CHARS:
            return prior
        excluded = ruled_out(sample, in_script) if len(in_script) > 1 else set()
        candidates = [code for code in in_script if code not in excluded] or in_script
        if len(candidates) == 1:
            return candidates[0]
        return self._choose(sample, candidates, prior if prior in candidates else None)

    def _choose(self, sample: str, candidates: Sequence[str], prior: str | None) -> str:
        """The model's choice among the candidates, the prior when the model is unsure."""
        # A first look at the start is enough to confirm the declared language (the usual case)
        # for less than half the cost; a disagreement gets the whole sample.
        if (
            prior is not None
            and len(sample) > MIN_CHARS
            and self._classify(sample[:MIN_CHARS], candidates)[0] == prior
        ):
            return prior
        language, confidence = self._classify(sample, candidates)
        if prior is not None and language != prior and confidence < MIN_CONFIDENCE:
            return prior
        return language

    def load(self) -> Any:
        """The model, loaded on first use."""
        if self._identifier is None:
            self._identifier = _load(self.languages)
        return self._identifier

    def _classify(self, sample: str, candidates: Sequence[str]) -> tuple[str, float]:
        """The likeliest candidate and its probability among the candidates."""
        scores = {code: p for code, p in self.load().rank(sample) if code in candidates}
        if not scores:  # candidates the model does not know
            return candidates[0], 0.0
        language = max(scores, key=scores.__getitem__)
        total = sum(scores.values())
        return str(language), float(scores[language] / total) if total else 0.0


def _load(languages: tuple[str, ...]) -> Any:
    from py3langid.langid import LanguageIdentifier

    from monitor.tag.cache import load_or_build

    def depends_on() -> list[bytes]:  # the languages kept, and how they are unpacked
        return [" ".join(languages).encode(), Path(__file__).read_bytes()]

    build = partial(_unpack, languages)
    return load_or_build("langid", build, LanguageIdentifier, depends_on)


def _unpack(languages: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    supported = [code for code in languages if code in set(identifier.nb_classes)]
    identifier.set_languages(supported or None)
    if supported and hasattr(identifier, "_full_model"):
        # py3langid keeps the table of all its languages (27 MB) to undo set_languages, which
        # is never done here: keep only the subset.
        identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
    return identifier
