"""Language packs: one language's vocabulary in one file, merged into the topics it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.tag import TagInput, load_tagger
from monitor.tag.packs import builtin_pack_files, load_pack

EXTRA_PACK = """\
language: en
topics:
  film_cooperation:
    concepts:
      film: [kinematics*]
      cooperation: [handshake deal*]
countries:
  names:
    AZ: [Land of Fire]
"""


def write(tmp_path: Path, text: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_pack_is_valid() -> None:
    for path in builtin_pack_files():
        pack = load_pack(path)
        assert pack.language == path.stem
        assert "film_cooperation" in pack.topics


def test_a_user_pack_adds_terms_and_country_names(tmp_path: Path) -> None:
    tagger = load_tagger([write(tmp_path, EXTRA_PACK)])
    result = tagger.tag(
        TagInput(
            "Kinematics studios from the Land of Fire and Italy strike handshake deal",
            "",
            language="en",
        )
    )
    assert result.tagged
    assert result.countries == ("AZ", "IT")
    # The built-in English terms are still there.
    assert tagger.tag(
        TagInput("Georgia and Armenia sign film co-production agreement", "", language="en")
    ).tagged


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            EXTRA_PACK.replace("film_cooperation:", "widgets:"),
            ":3: topics.widgets: no topic with this id",
        ),
        (
            EXTRA_PACK.replace("      film:", "      movies:"),
            ":5: topics.film_cooperation.concepts.movies: topic 'film_cooperation' has no such concept",
        ),
        (
            EXTRA_PACK.replace("language: en", "language: English"),
            ":1: language: 'English' is not a language code",
        ),
        (
            EXTRA_PACK.replace("AZ: [Land", "AZE: [Land"),
            ":8: countries.names: 'AZE' is not an ISO 3166-1",
        ),
        (
            EXTRA_PACK.replace("[kinematics*]", "[k*]"),
            ":5: topics.film_cooperation.concepts.film[entry 1]:",
        ),
        (EXTRA_PACK + "colour: red\n", ":10: colour: unknown key"),
        (
            EXTRA_PACK + "numbers: {counts: {one: 1}}\n",
            ":10: numbers.counts: counts are from 2 to 100: one",
        ),
        (
            EXTRA_PACK + "numbers: {scales: {half: 0.5}}\n",
            ":10: numbers.scales: a scale multiplies by 10 or more: half",
        ),
    ],
)
def test_pack_problems_name_file_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_tagger([path])
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith(str(path)) and expected in m for m in messages), messages
