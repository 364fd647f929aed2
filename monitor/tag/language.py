"""Language identification with py3langid, restricted to the languages the rules support.

The declared language of the source is a prior: it wins when the text is short or the detection
is not confident. The py3langid model (about 70 MB in memory, ~0.8 s to load) is loaded on first
use and never pickled, so a tagger sent to a worker process stays small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SAMPLE_CHARS = 400  # detection on the start of the text: fast (py3langid walks bytes in Python)
MIN_CHARS = 120  # below this the declared language is trusted
MIN_CONFIDENCE = 0.9


def _base(code: str | None) -> str | None:
    """``en-US`` → ``en``; None for empty."""
    if not code:
        return None
    return code.strip().lower().replace("_", "-").split("-")[0] or None


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
        known = prior in self.languages
        if known and len(sample) < MIN_CHARS:
            return prior
        language, confidence = self._classify(sample)
        if known and language != prior and confidence < MIN_CONFIDENCE:
            return prior
        return language

    def _classify(self, sample: str) -> tuple[str, float]:
        if self._identifier is None:
            self._identifier = _load(self.languages)
        language, confidence = self._identifier.classify(sample)
        return str(language), float(confidence)


def _load(languages: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    supported = [code for code in languages if code in set(identifier.nb_classes)]
    identifier.set_languages(supported or None)
    return identifier
