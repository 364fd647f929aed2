"""Which named countries take part in a tagged story: the cues of monitor.tag.participants."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.tag import RuleTagger, TagInput, build_tagger


@pytest.fixture(scope="module")
def tagger() -> RuleTagger:
    return build_tagger()


def countries(
    tagger: RuleTagger, title: str, text: str, language: str, country: str | None = None
) -> set[str]:
    tagging = tagger.tag(TagInput(title, text, language=language, country=country))
    assert tagging.topics == ("film_cooperation",), "the case must be a cooperation story"
    return set(tagging.countries)


def test_background_sentence_does_not_add_its_countries(tagger: RuleTagger) -> None:
    title = "Film agencies sign co-production agreement"
    body = (
        "The film agencies of Azerbaijan and Uzbekistan signed a co-production agreement in Baku "
        "on Monday.\n\nEarlier, the agency signed a film cooperation memorandum with Poland."
    )
    assert countries(tagger, title, body, "en") == {"AZ", "UZ"}
    # The same sentence not opening with "Earlier" counts.
    current = body.replace("Earlier, the agency", "The agency also")
    assert countries(tagger, title, current, "en") == {"AZ", "UZ", "PL"}


def test_nationality_of_a_person_is_not_a_party(tagger: RuleTagger) -> None:
    title = "Coproduzione tra Italia e Georgia per un nuovo film"
    body = (
        "Italia e Georgia hanno firmato un accordo di coproduzione cinematografica. Il film sarà "
        "diretto dal regista brasiliano Marco Souza."
    )
    assert countries(tagger, title, body, "it") == {"IT", "GE"}


def test_venue_counts_without_the_meeting_bonus(tagger: RuleTagger) -> None:
    title = "Two studios sign a film cooperation memorandum"
    body = (
        "Kazakhfilm and Belarusfilm signed a film cooperation memorandum at a festival in "
        "Japan's capital."
    )
    assert countries(tagger, title, body, "en") == {"KZ", "BY"}
    # Named as a party in the same sentence, the country counts.
    party = body.replace("at a festival in Japan's capital", "with Japan's film agency")
    assert countries(tagger, title, party, "en") == {"KZ", "BY", "JP"}


def test_turkic_locative_is_a_venue_but_a_name_ending_in_da_is_not(tagger: RuleTagger) -> None:
    title = "Ortak film yapım anlaşması imzalandı"
    venue = "Türkiye ve Kazakistan ortak film yapım anlaşmasını Çin'de bir festivalde imzaladı."
    assert countries(tagger, title, venue, "tr") == {"TR", "KZ"}
    party = "Türkiye ve Kazakistan ortak film yapım anlaşmasını Kanada ile birlikte imzaladı."
    assert countries(tagger, title, party, "tr") == {"TR", "KZ", "CA"}


def test_a_headline_naming_the_parties_keeps_others_out(tagger: RuleTagger) -> None:
    """A headline that names two parties names them all, unless the body names a third as
    much as a party is named (twice in meetings, or more)."""
    title = "Türkiye ve Kosova sinema anlaşması imzaladı"
    body = (
        "Türkiye ile Kosova arasında ortak film yapımı anlaşması imzalandı. Türkiye, dizi "
        "ihracatında ABD'nin ardından ikinci sırada yer alıyor ve ortak yapımlar artıyor."
    )
    assert countries(tagger, title, body, "tr") == {"TR", "XK"}
    third = "Kanada da anlaşmaya katıldı; Kanada ile ortak yapım anlaşması ayrıca imzalandı."
    assert countries(tagger, title, body + " " + third, "tr") == {"TR", "XK", "CA"}


def test_both_countries_adds_the_home_country(tagger: RuleTagger) -> None:
    title = "Nazir İran kino rəhbərliyi ilə birgə filmləri müzakirə edib"
    body = (
        "Nazir İranın kino rəhbərliyi ilə görüşüb. İki ölkənin kino sahəsində əməkdaşlığı və "
        "birgə film istehsalı müzakirə olunub."
    )
    # The pack's home country for Azerbaijani, or the source's country when it is known.
    assert countries(tagger, title, body, "az") == {"IR", "AZ"}
    assert countries(tagger, title, body, "az", country="GE") == {"IR", "GE"}
    # Without the cue, nothing is added.
    plain = body.replace("İki ölkənin", "Tərəflərin")
    assert countries(tagger, title, plain, "az") == {"IR"}


def test_a_second_party_named_once_joins_a_lone_one(tagger: RuleTagger) -> None:
    title = "Российское кино: международное сотрудничество киностудий на кинорынке"
    body = (
        "Российский кинокластер впервые представил свои возможности зарубежным партнерам на "
        "кинорынке. Рынок работал в Джидде (Саудовская Аравия) в рамках кинофестиваля."
    )
    assert countries(tagger, title, body, "ru") == {"RU", "SA"}


def test_a_platform_maps_to_its_home_country(tagger: RuleTagger) -> None:
    title = "Netflix e una casa italiana, accordo per cinque film in coproduzione"
    body = "L'accordo di coproduzione cinematografica riguarda cinque film girati in Italia."
    assert countries(tagger, title, body, "it") == {"US", "IT"}


def test_pack_with_a_bad_home_code_is_reported_with_its_line(tmp_path: Path) -> None:
    pack = tmp_path / "tr_extra.yaml"
    pack.write_text(
        "language: tr\ncountries:\n  home: TUR\n  cues:\n    roles: [kurgucu*]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        build_tagger([pack])
    message = str(info.value)
    assert "tr_extra.yaml:3" in message and "countries.home" in message and "TUR" in message


def test_user_pack_cues_add_to_the_builtin_ones(tmp_path: Path) -> None:
    pack = tmp_path / "en_extra.yaml"
    pack.write_text("language: en\ncountries:\n  cues:\n    roles: [editor]\n", encoding="utf-8")
    tagger = build_tagger([pack])
    title = "Georgia and Armenia sign a film co-production agreement"
    body = (
        "Georgia and Armenia signed a film co-production agreement. The film will be cut by "
        "French editor Anne Dupont."
    )
    assert countries(tagger, title, body, "en") == {"GE", "AM"}
