"""The tagging stage: normalisation, term syntax, countries, rule files, verdicts."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from monitor.errors import ConfigError
from monitor.models import Tagging
from monitor.tag import RuleTagger, TagInput, build_tagger, load_tagger
from monitor.tag.normalize import clean, fold, normalize, sentence_spans
from monitor.tag.packs import builtin_pack_files, load_packs
from monitor.tag.rules import builtin_rule_files, load_topic, load_topics
from monitor.tag.terms import check_term, compile_lexicon, parse_term

DATA = Path(__file__).parent / "data" / "tag"
# cases.yaml and one cases_<lang>.yaml per language pack: hand-written, never from eval sets.
CASES: list[dict[str, Any]] = [
    case
    for path in sorted(DATA.glob("cases*.yaml"))
    for case in YAML(typ="safe").load(path.read_text("utf-8")) or []
]


@pytest.fixture(scope="module")
def tagger() -> RuleTagger:
    return build_tagger()


def tag(tagger: RuleTagger, title: str, text: str = "", language: str | None = None) -> Tagging:
    return tagger.tag(TagInput(title=title, text=text, language=language))


# --- normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("FİLMİ", "az", "filmi"),
        ("FİLMİ", "tr", "filmi"),
        ("FİLM", "en", "film"),  # İ is never "i̇" with a combining dot
        ("KINO", "az", "kıno"),  # dotless I in Turkic languages
        ("KINO", "ru", "kino"),
        ("Azərbaycan’ın", "az", "azərbaycan'ın"),
        ("Azərbaycanʼın", "az", "azərbaycan'ın"),
        ("O‘zbekiston", "uz", "o'zbekiston"),
        ("Ёлка и ёж", "ru", "елка и еж"),
        ("ки\u200bно\u00adтеатр", "ru", "кинотеатр"),
        ("\ufb01lm", "en", "film"),  # NFKC: the fi ligature
        ("ΟΔΟΣ", "el", "οδοσ"),  # final sigma folded
    ],
)
def test_normalize(text: str, language: str, expected: str) -> None:
    assert normalize(text, language) == expected


@pytest.mark.parametrize("text", ["FİLMİ Azərbaycan’ın", "Ёж ΟΔΟΣ İI", "plain ascii `quote`"])
@pytest.mark.parametrize("language", ["az", "ru", "en", None])
def test_fold_keeps_offsets(text: str, language: str | None) -> None:
    display = clean(text)
    assert len(fold(display, language)) == len(display)


def test_sentences_respect_abbreviations_initials_and_numbers() -> None:
    text = (
        "Mr. Smith met Dr. Jones on Monday. Growth was 2.5 percent!\n"
        "ВГИК имени С. А. Герасимова подписал соглашение. Оно вступит в силу в 2025 г. осенью."
    )
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "Mr. Smith met Dr. Jones on Monday.",
        "Growth was 2.5 percent!",
        "ВГИК имени С. А. Герасимова подписал соглашение.",
        "Оно вступит в силу в 2025 г. осенью.",
    ]


# --- terms -----------------------------------------------------------------------------------


def found(terms: list[str], text: str, language: str) -> list[str]:
    lexicon = compile_lexicon([(parse_term(t, language), t) for t in terms])
    norm = normalize(text, language)
    return [norm[f.start : f.end] for f in lexicon.find(norm)]


@pytest.mark.parametrize(
    ("term", "text", "language", "expected"),
    [
        ("кинематограф*", "Союз кинематографистов России", "ru", ["кинематографистов"]),
        (
            "co-produc*",
            "two co-productions and a coproduction",
            "en",
            ["co-productions", "coproduction"],
        ),
        ("co-produc*", "a co production deal", "en", ["co production"]),
        ("film*", "Azərbaycan FİLMLƏRİNİN nümayişi, filmlərin", "az", ["filmlərinin", "filmlərin"]),
        ("ortaq*", "ortaq layihələr", "az", ["ortaq"]),
        ("*фильм*", "студия «Мосфильм», мультфильмов", "ru", ["мосфильм", "мультфильмов"]),
        ("*kino", "Özbəkkino agentliyi, kinoteatr", "az", ["özbəkkino"]),
        ("film festival*", "the Baku Film Festival's jury", "en", ["film festival"]),
        ("days of ? cinema", "Days of Uzbek Cinema open", "en", ["days of uzbek cinema"]),
        ("film", "a filmmaker's film's poster", "en", ["film"]),
        ("кино", "кинолог", "ru", []),
    ],
)
def test_term_matching(term: str, text: str, language: str, expected: list[str]) -> None:
    assert found([term], text, language) == expected


def test_longest_term_wins_so_exclusions_hide_false_friends() -> None:
    terms = ["кино*", "кинолог*", "film*", "thin film*"]
    assert found(terms, "Кинолог и кинофестиваль", "ru") == ["кинолог", "кинофестиваль"]
    assert found(terms, "thin film and a film", "en") == ["thin film", "film"]


@pytest.mark.parametrize(
    "bad", ["", "ki*", "fi*lm", "? film", "film ?", "*two words", "film;", "*ab*"]
)
def test_bad_terms_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        check_term(bad)


# --- the built-in topic: labeled cases ----------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_labeled_cases(tagger: RuleTagger, case: dict[str, Any]) -> None:
    result = tag(tagger, case["title"], case["text"], case["lang"])
    assert result.tagged is case["label"], result
    assert result.language == case["lang"]
    if case["label"]:
        assert result.topics == ("film_cooperation",)
        assert 0.5 <= result.score <= 1
        assert list(result.countries) == case["countries"]
        assert result.evidence
        assert set(result.aspects) <= {
            "co_production",
            "financing",
            "agreement",
            "festival_market",
            "diplomacy",
            "education",
            "digital",
            "policy",
        }
    else:
        assert result == Tagging(language=case["lang"])


@pytest.mark.parametrize(
    ("title", "language"),
    [
        # the country's name in the possessive, or of two words, stands by the event
        ("Kazakhstan's cinema days open in Moscow", "en"),
        ("Kazakhstan’s cinema days open in Moscow", "en"),
        ("South Korean film week opens in Tashkent", "en"),
        ("Georgian cinema showcase opens in Rome", "en"),
        ("В Москве пройдет День казахского кино", "ru"),  # one day, not Дни
        ("ლონდონში ქართული ფილმების მეხუთე ფესტივალი გაიმართება", "ka"),  # an ordinal between
        ("ქართული კინო ტრიესტეს კინოფესტივალის ფოკუსშია", "ka"),  # a festival's focus
        # one day of a country's cinema
        ("A day of Uzbek cinema in Rome", "en"),
        ("В Казани пройдет День кино Кыргызстана", "ru"),
        ("Moskova'da Kırgızistan Sinema Günü düzenlenecek", "tr"),
        ("Anqarada O‘zbek kinosi kuni bo‘lib o‘tdi", "uz"),
        ("Ташкентте қазақ киносының күні өтті", "kk"),
        ("Tbilisidə Azərbaycan kinosu günü keçirilib", "az"),
    ],
)
def test_a_country_s_film_event_abroad_in_a_headline(
    tagger: RuleTagger, title: str, language: str
) -> None:
    assert tag(tagger, title, "Nothing else here.", language).tagged


def test_a_workshop_for_filmmakers_of_two_countries(tagger: RuleTagger) -> None:
    assert tag(tagger, "Italian directors give a film workshop in Tbilisi", "", "en").tagged
    assert not tag(tagger, "A film workshop for students opens in Rome", "", "en").tagged


def test_state_money_for_foreign_producers(tagger: RuleTagger) -> None:
    assert tag(tagger, "Subsidies for foreign film productions shot in Uzbekistan", "", "en").tagged
    assert tag(tagger, "Шетелдік киножобаларға субсидия беріледі", "", "kk").tagged
    assert not tag(tagger, "State subsidies for a national film studio", "", "en").tagged


def test_a_rebate_for_whoever_films_has_one_party(tagger: RuleTagger) -> None:
    """The producers a cash rebate serves are unnamed by nature: a country they came from
    once is an example, not a second party joined to make two."""
    text = (
        "The film rebate is paid to producers who shoot in the country. "
        "Crews from India came last spring."
    )
    result = tag(tagger, "Georgia offers a 25 per cent cash rebate for filming", text, "en")
    assert result.tagged and result.countries == ("GE",)
    deal = tag(tagger, "Georgia and India sign a film co-production agreement", text, "en")
    assert set(deal.countries) == {"GE", "IN"}


def test_news_named_in_passing_does_not_veto_a_broadcasters_programme_deal(
    tagger: RuleTagger,
) -> None:
    """A broadcasters' deal is film cooperation when they exchange programmes, not news. News
    named once, beside the programmes, vetoes only the sentence it stands in; a deal about news
    (named as often as the programmes) stays untagged."""
    title = "Turkish and Azerbaijani state broadcasters sign a cooperation agreement"
    drama = (
        "The two broadcasters will exchange drama series and documentaries. "
        "The news agencies reported that the programmes will be dubbed."
    )
    assert tag(tagger, title, drama, "en").tagged
    news = (
        "The two broadcasters will exchange news and news programmes. "
        "Their newsrooms will share reporters; one series of documentaries is planned."
    )
    assert not tag(tagger, title, news, "en").tagged


def test_a_country_named_once_beside_two_parties_is_an_example(tagger: RuleTagger) -> None:
    """Where two parties stand out, a filming location named once, even in a sentence about
    the joint film, is not a third party."""
    body = (
        "The war film Kazbek, made jointly by Uzbekistan and Belarus, will reach cinemas in May. "
        "Belarusfilm called it the first film project shared by Uzbekistan and Belarus. "
        "The joint film was shot in Uzbekistan, Belarus and Germany."
    )
    result = tag(tagger, "Belarusfilm: war drama Kazbek to reach cinemas by May", body, "en")
    assert result.tagged and set(result.countries) == {"UZ", "BY"}


def test_a_workshop_for_filmmakers_from_abroad(tagger: RuleTagger) -> None:
    body = "The residency brings together {} screenwriters and mentors to develop film scripts."
    title = "Film workshop in Tbilisi gathers screenwriters"
    assert tag(tagger, title, body.format("foreign"), "en").tagged
    assert not tag(tagger, title, body.format("young Georgian"), "en").tagged


def test_a_russian_headline_may_say_a_film_is_shot_with_a_verb(tagger: RuleTagger) -> None:
    """снимать is to shoot a film (and to lift sanctions, to rent a flat): a weak film term,
    enough beside a joint project in a headline of a story about film."""
    body = "Российские и кыргызские кинематографисты работают над фильмом совместно."
    shot = "В Оше снимают первый совместный российско-кыргызский проект"
    assert tag(tagger, shot, body, "ru").tagged
    assert not tag(tagger, shot.replace("снимают", "готовят"), body, "ru").tagged
    assert not tag(
        tagger, "Россия и Турция сняли ограничения на совместные проекты", "", "ru"
    ).tagged


def test_hollywood_films_supplied_to_another_country_s_cinemas(tagger: RuleTagger) -> None:
    """Hollywood stands for the United States in any form of its name (голливудские), so the
    sentence names two countries, and films supplied to cinemas abroad are distribution;
    supplies of gas are not. (A party named only by a city weighs too little to be listed.)"""
    films = tag(
        tagger, "Голливудские студии будут поставлять фильмы в узбекские кинотеатры", "", "ru"
    )
    assert films.tagged and films.countries == ("UZ",)
    assert not tag(tagger, "Россия увеличит поставки газа в Узбекистан", "", "ru").tagged


def test_a_european_film_festival_held_by_embassies(tagger: RuleTagger) -> None:
    """A festival of a group of countries' films ("European"), next to the event's name, in a
    country the sentence names and a story naming the embassies that hold it."""
    title = "European Film Festival opens in Baku"
    held = "It is organised by the EU Delegation and the embassies of member states with a cinema."
    assert tag(tagger, title, held, "en").tagged
    assert not tag(tagger, title, "It is organised by a Baku cinema.", "en").tagged
    international = tag(tagger, "International film festival opens in Baku", held, "en")
    assert not international.tagged


def test_platforms_and_broadcasters_are_named_alike_in_every_language(tagger: RuleTagger) -> None:
    """A streaming platform's name is film business, and a broadcaster written in Latin
    letters (CCTV) is a broadcaster, in a text of any script."""
    deal = tag(tagger, "Netflix signs a licensing deal with a Chinese platform", "", "en")
    assert deal.tagged and set(deal.countries) >= {"CN"}
    broadcasters = dict(tagger.topics[0].lexicons("ur").concepts)["broadcaster"]
    for text in ("CCTV اور PTV", "سی سی ٹی وی"):
        assert broadcasters.find(normalize(text, "ur")), text


def test_a_country_named_two_words_away_is_not_the_event_s(tagger: RuleTagger) -> None:
    assert not tag(tagger, "Kazakhstan and the cinema days of Moscow", "", "en").tagged


def test_false_friends_do_not_make_a_story(tagger: RuleTagger) -> None:
    result = tag(tagger, "Кинолог и киноварь: совместный проект геологов и кинологов", "", "ru")
    assert not result.tagged


def test_a_passing_mention_in_a_long_article_is_not_enough(tagger: RuleTagger) -> None:
    filler = "The ministers discussed energy, trade and transport corridors in detail. " * 30
    text = filler + "Azerbaijan and Uzbekistan also signed an agreement on film co-production. "
    text += filler
    assert not tag(tagger, "Ministers meet in Baku", text, "en").tagged
    assert tag(tagger, "Ministers sign film co-production agreement", text, "en").tagged


def test_evidence_holds_term_as_written_and_its_sentence(tagger: RuleTagger) -> None:
    result = tag(
        tagger,
        "Uzbekistan and Türkiye plan films together",
        "The weather was fine. The studios signed a MEMORANDUM on Co-Production of two films. "
        "Tickets are sold out.",
        "en",
    )
    assert result.tagged
    terms = {(e.term, e.concept) for e in result.evidence}
    assert ("MEMORANDUM", "cooperation") in terms
    assert ("Co-Production", "film") in terms
    sentence = "The studios signed a MEMORANDUM on Co-Production of two films."
    assert all(e.text == sentence for e in result.evidence if e.term == "MEMORANDUM")
    assert {"agreement", "co_production"} <= set(result.aspects)


def test_long_sentences_are_trimmed_in_evidence(tagger: RuleTagger) -> None:
    padding = " ".join(["and many other guests from the region"] * 20)
    sentence = f"Kazakhfilm signed a cooperation memorandum with Belarusfilm {padding}."
    result = tag(tagger, "Studios sign film cooperation memorandum", sentence, "en")
    body = [e for e in result.evidence if e.text != "Studios sign film cooperation memorandum"]
    assert body
    assert all(len(e.text) <= 302 and "memorandum" in e.text.casefold() for e in body)


# --- countries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Azerbaijan, Kazakhstan's and Türkiye", "en", ["AZ", "KZ", "TR"]),
        ("Turkey and the United Kingdom", "en", ["TR", "GB"]),
        ("Azerbaijani, Italian and Uzbek producers", "en", ["AZ", "IT", "UZ"]),
        ("Mauritanian, Filipino and Croatian broadcasters", "en", ["MR", "PH", "HR"]),
        ("Mosfilm, Eurimages and Cinecittà", "en", ["RU", "EU", "IT"]),
        ("из Азербайджана, с Азербайджаном, в Италии, Турцией", "ru", ["AZ", "AZ", "IT", "TR"]),
        ("азербайджанский, итальянских, узбекской стороной", "ru", ["AZ", "IT", "UZ"]),
        ("Беларусь, Беларуси, Россия, России, США", "ru", ["BY", "BY", "RU", "RU", "US"]),
        ("Азербайджанфильм и Казахфильм", "ru", ["AZ", "KZ"]),
        ("Azərbaycanın, Azərbaycan’ın, Türkiyənin, İtaliyadakı", "az", ["AZ", "AZ", "TR", "IT"]),
        ("azərbaycanlı, özbək, italyan tərəfdaşlar", "az", ["AZ", "UZ", "IT"]),
        ("Özbəkkino və Azərbaycanfilm", "az", ["UZ", "AZ"]),
    ],
)
def test_countries_from_names_inflections_adjectives_and_bodies(
    tagger: RuleTagger, text: str, language: str, expected: list[str]
) -> None:
    mentions = tagger.countries.find(normalize(text, language), language)
    assert [m.code for m in mentions] == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("индивидуальный подход, индиго", "ru"),  # Индия must not match by its stem
        ("того же года", "ru"),  # Того (Togo) is a word
        ("maliyyə dəstəyi, mali yardım", "az"),  # Mali is a word: financial
        ("let us know; the EU and UN agreed", "en"),  # codes are not words
        ("Turkic world, Turkic-speaking nations", "en"),
        ("türk dünyası ölkələri", "az"),
    ],
)
def test_country_false_friends(tagger: RuleTagger, text: str, language: str) -> None:
    assert tagger.countries.find(normalize(text, language), language) == []


# --- language ----------------------------------------------------------------------------


def test_language_is_detected_and_the_declared_one_is_a_prior(tagger: RuleTagger) -> None:
    russian = "Правительство одобрило соглашение о совместном производстве фильмов с соседями."
    assert tag(tagger, russian, russian, "en").language == "ru"  # confident detection wins
    assert tag(tagger, "Kino", "", "az").language == "az"  # too short: the prior
    assert tag(tagger, "", "", None).language is None
    long_az = "Azərbaycan və Özbəkistan kino sahəsində əməkdaşlıq haqqında memorandum imzalayıb."
    assert tag(tagger, long_az, long_az * 3, None).language == "az"


# --- rule files --------------------------------------------------------------------------------


TOPIC = """\
id: {id}
title: A test topic
threshold: 0.5
concepts:
  subject:
    en: [widget*]
  action:
    en: [merger]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_tagger([path])
    return [str(p) for p in info.value.problems]


def test_unknown_key_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", TOPIC.format(id="widgets") + "colour: blue\n")
    assert problems(path) == [f"{path}:9: colour: unknown key"]


def test_missing_threshold_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", TOPIC.format(id="widgets").replace("threshold: 0.5\n", ""))
    assert problems(path) == [f"{path}:1: threshold: required field is missing"]


def test_bad_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", TOPIC.format(id="widgets") + "  broken: [a, b\n")
    [problem] = problems(path)
    assert problem.startswith(f"{path}:10:1: the file ends before the [ or {{ opened at line 9")


def test_bad_term_and_language_are_reported_with_their_lines(tmp_path: Path) -> None:
    text = TOPIC.format(id="widgets").replace("en: [merger]", "en: [merger, m*]")
    text = text.replace("en: [widget*]", "en: [widget*]\n    english: [x]")
    found_problems = problems(write(tmp_path, "t.yaml", text))
    assert any(":7: concepts.subject.english" in p and "'english'" in p for p in found_problems)
    assert any(":9: concepts.action.en[entry 2]:" in p and "stem" in p for p in found_problems)


def test_user_file_adds_a_topic(tmp_path: Path) -> None:
    tagger = load_tagger([write(tmp_path, "w.yaml", TOPIC.format(id="widgets"))])
    result = tagger.tag(TagInput("Widget makers agree on a merger", "", language="en"))
    assert result.topics == ("widgets",)


def test_user_file_overrides_the_builtin_topic_by_id(tmp_path: Path) -> None:
    tagger = load_tagger([write(tmp_path, "f.yaml", TOPIC.format(id="film_cooperation"))])
    film = "Georgia and Armenia sign film co-production agreement"
    assert not tagger.tag(TagInput(film, "", language="en")).tagged
    widgets = tagger.tag(TagInput("Widget makers agree on a merger", "", language="en"))
    assert widgets.topics == ("film_cooperation",)


def test_two_user_files_may_not_share_an_id(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", TOPIC.format(id="widgets"))
    second = write(tmp_path, "b.yaml", TOPIC.format(id="widgets"))
    with pytest.raises(ConfigError, match="already defined"):
        load_tagger([first, second])


def test_builtin_rules_are_valid_and_shipped() -> None:
    files = {f.name: f for f in builtin_rule_files()}
    assert "countries_extra.yaml" not in files  # data, not a topic
    topic = load_topic(files["film_cooperation.yaml"])
    assert [name for name, _ in topic.concepts][:2] == ["film", "cooperation"]
    assert topic.rules[0].concepts == ("film", "cooperation")
    # Every concept is used by a rule, and every rule's concepts have terms in every pack.
    used = {c for rule in topic.rules for c in (*rule.concepts, *rule.anywhere, *rule.unless)}
    assert used == {name for name, _ in topic.concepts}
    packs = {p.stem for p in builtin_pack_files()}
    assert {"en", "ru", "az"} <= packs
    (merged,) = load_topics(packs=load_packs(builtin_pack_files(), builtin=True))
    assert packs <= merged.languages
    for name, table in merged.concepts:
        assert set(table) | {"all"} >= packs, f"{name} lacks terms in {packs - set(table)}"


# --- workers -----------------------------------------------------------------------------------


def test_tagger_is_picklable_and_tags_the_same(tagger: RuleTagger) -> None:
    case = CASES[0]
    doc = TagInput(case["title"], case["text"], language=case["lang"])
    copy = pickle.loads(pickle.dumps(tagger))
    assert len(pickle.dumps(tagger)) < 5_000_000  # the language model is not pickled
    assert copy.tag(doc) == tagger.tag(doc)
