"""Scripts beyond Latin and Russian Cyrillic: Arabic-script folding (ur, fa, ar), Uzbek Latin →
Cyrillic transliteration of terms, and language detection across scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.tag import TagInput, load_tagger
from monitor.tag.language import LanguageDetector, ruled_out, script_of
from monitor.tag.normalize import clean, fold, normalize, sentence_spans
from monitor.tag.terms import check_term, compile_lexicon, parse_term, variants
from monitor.tag.translit import uz_cyrillic_spellings, uz_latin_to_cyrillic

LANGUAGES = ["en", "ru", "az", "tr", "uz", "kk", "ka", "it", "ur", "fa", "ar"]


def found(terms: list[str], text: str, language: str) -> list[str]:
    """The parts of ``text`` (display text) that the terms match."""
    entries = [(parse_term(s, language), t) for t in terms for s in variants(t, language)]
    lexicon = compile_lexicon(entries)
    display = clean(text)
    return [display[f.start : f.end] for f in lexicon.find(fold(display, language))]


# --- Arabic script: clean ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("فِيلْمٌ", "فيلم"),  # harakat
        ("ســـينما", "سينما"),  # tatweel
        ("الرَّحْمٰن", "الرحمن"),  # shadda, sukun, superscript alef
        ("فیلم\u200cها", "فیلمها"),  # zero-width non-joiner
        ("ا\u0654", "أ"),  # a decomposed hamza is composed (NFKC), not removed
        ("خانهٔ سینما", "خانه سینما"),  # a hamza that composes with nothing is a mark
    ],
)
def test_clean_removes_tatweel_and_arabic_marks(text: str, expected: str) -> None:
    assert clean(text) == expected


# --- Arabic script: fold -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "canonical", "language"),
    [
        ("سينما", "سینما", "fa"),  # Arabic yeh → Farsi yeh
        ("موسى", "موسی", "ar"),  # alef maksura → Farsi yeh
        ("كتاب", "کتاب", "ur"),  # Arabic kaf → keheh
        ("معاہدہ", "معاهده", "ur"),  # heh goal → heh
        ("اتفاقية", "اتفاقيه", "ar"),  # teh marbuta → heh
        ("خانۀ", "خانه", "fa"),  # heh with yeh above → heh
        ("إنتاج", "انتاج", "ar"),  # alef with hamza → alef
        ("أفلام", "افلام", "fa"),
        ("القرآن", "القران", "ar"),  # madda, Arabic only
        ("ھذا", "هذا", "ar"),  # heh doachashmee is a glyph variant outside Urdu
        ("گئۓ", "گئے", "ur"),  # yeh barree with hamza → yeh barree
    ],
)
def test_arabic_letter_variants_fold_together(variant: str, canonical: str, language: str) -> None:
    assert normalize(variant, language) == normalize(canonical, language)


@pytest.mark.parametrize(
    ("one", "other", "language"),
    [
        ("کی", "کے", "ur"),  # yeh barree is a letter of its own: "ki" and "ke"
        ("کھا", "کہا", "ur"),  # aspiration: "eat" and "said"
        ("پھل", "پہل", "ur"),  # "fruit" and "initiative"
        ("آن", "ان", "fa"),  # madda is a letter in Persian
        ("آپ", "اپ", "ur"),  # ... and in Urdu
    ],
)
def test_distinct_letters_stay_distinct(one: str, other: str, language: str) -> None:
    assert normalize(one, language) != normalize(other, language)


ARABIC_SCRIPT = "يىیےۓكکهہەۀۂةۃھأإآٱاؤئءبپتٹثجچحخدڈذرڑزژسشصضطظعغفقگلمنںو"
MARKS = "\u0640\u064b\u064e\u0650\u0651\u0652\u0654\u0670\u06e1\u200c"


@given(st.text(alphabet=ARABIC_SCRIPT + MARKS + " ۔؟،.IİaA"), st.sampled_from(LANGUAGES))
def test_fold_keeps_offsets_in_arabic_script(text: str, language: str) -> None:
    display = clean(text)
    assert len(fold(display, language)) == len(display)


def test_a_term_in_one_spelling_matches_the_others() -> None:
    # Written with Arabic yeh and kaf, found in Persian and Urdu spellings and with vowel marks.
    assert found(["سينما*"], "سینمای ایران", "fa") == ["سینمای"]
    assert found(["مشترك*"], "مشترکہ فلم", "ur") == ["مشترکہ"]
    assert found(["اتفاقية"], "وقّعا اتفاقيه للتعاون", "ar") == ["اتفاقيه"]
    assert found(["الإنتاج المشترك"], "الانتاج المشترَك", "ar") == ["الانتاج المشترك"]


def test_a_half_space_in_a_term_is_a_hyphen() -> None:
    assert check_term("تفاهم\u200cنامه*") == "تفاهم-نامه*"
    assert check_term("اتحادیهٔ اروپا") == "اتحادیه اروپا"  # marks go, as in text
    texts = ["تفاهم\u200cنامه همکاری", "تفاهم نامه همکاری", "تفاهمنامه همکاری"]
    assert [found(["تفاهم\u200cنامه*"], t, "fa") for t in texts] == [
        ["تفاهمنامه"],
        ["تفاهم نامه"],
        ["تفاهمنامه"],
    ]


def test_urdu_and_arabic_sentence_marks_end_sentences() -> None:
    text = "پاکستان اور ترکی فلم بنائیں گے۔ معاہدہ ہو گیا؟ جی ہاں"
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == ["پاکستان اور ترکی فلم بنائیں گے۔", "معاہدہ ہو گیا؟", "جی ہاں"]


def test_georgian_sentences_end_at_a_full_stop() -> None:
    # Mkhedruli letters are lower-case to Unicode, and a Georgian sentence starts with one.
    text = "პროექტის პრეზენტაცია გაიმართა. დოკუმენტური ფილმი ეთერში გავა. Next one."
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "პროექტის პრეზენტაცია გაიმართა.",
        "დოკუმენტური ფილმი ეთერში გავა.",
        "Next one.",
    ]
    assert len(sentence_spans("Mr. smith came. And left.")) == 2  # other scripts as before


# --- Uzbek: Latin → Cyrillic ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("hamkorlik*", "ҳамкорлик*"),
        ("O'zbek*", "ўзбек*"),
        ("Oʻzbekiston", "ўзбекистон"),  # every apostrophe of oʻ/gʻ
        ("kino*", "кино*"),
        ("film*", "фильм*"),
        ("qo'shma film*", "қўшма фильм*"),
        ("Yevropa", "европа"),
        ("yangi", "янги"),
        ("yo'l", "йўл"),  # y + oʻ, not ё
        ("ekran", "экран"),  # e at the start of a word
        ("poeziya", "поэзия"),  # ... and after a vowel
        ("kelishuv", "келишув"),
        ("ma'lum", "маълум"),  # tutuq belgisi
        ("Is'hoq", "исҳоқ"),  # an apostrophe that only keeps s and h apart
        ("choy", "чой"),
        ("ssenariy", "сценарий"),
        ("animatsiya", "анимация"),
        ("aktyor", "актёр"),
        ("tong", "тонг"),  # ng stays нг
        ("~ikki davlat*", "~икки давлат*"),  # term syntax is kept
        ("kino kunlar*", "кино кунлар*"),
    ],
)
def test_uzbek_latin_to_cyrillic(latin: str, cyrillic: str) -> None:
    assert uz_latin_to_cyrillic(latin) == cyrillic


@pytest.mark.parametrize(
    ("latin", "also"),
    [
        ("festival", {"фестивал", "фестиваль"}),  # a soft sign or not, when unsure
        ("multfilm", {"мультфильм"}),
        ("premyera", {"премьера"}),
        ("obyekt", {"объект"}),
        ("kompyuter", {"компьютер"}),
        ("prodyuser", {"продюсер"}),
        ("aytsa", {"айтса"}),  # ts is тс in Uzbek words
        ("stansiya", {"станция"}),
        ("versiya", {"версия"}),
    ],
)
def test_uzbek_ambiguous_letters_give_every_spelling(latin: str, also: set[str]) -> None:
    assert also <= set(uz_cyrillic_spellings(latin))


def test_variants_add_cyrillic_to_uzbek_terms_only() -> None:
    assert variants("kino*", "uz") == ("kino*", "кино*")
    assert variants("~hamkor", "uz") == ("~hamkor", "~ҳамкор")
    assert variants("kino*", "az") == ("kino*",)
    assert variants("кино*", "uz") == ("кино*",)  # already Cyrillic
    assert variants("sha*", "uz") == ("sha*",)  # ша* would be a stem of two letters


def test_uzbek_latin_rules_match_cyrillic_text() -> None:
    text = "Ўзбекистон ва Озарбайжон ҳамкорликда фильм суратга олади"
    terms = ["hamkorlik*", "film*", "o'zbek*", "suratga olad*"]
    assert found(terms, text, "uz") == ["Ўзбекистон", "ҳамкорликда", "фильм", "суратга олади"]
    assert found(terms, "O‘zbekiston hamkorlikda film suratga oladi", "uz") == [
        "O‘zbekiston",
        "hamkorlikda",
        "film",
        "suratga oladi",
    ]


UZ_TOPIC = """\
id: uz_film
title: Uzbek film cooperation, Latin terms only
threshold: 0.5
concepts:
  film:
    uz: [film*, kino*]
  cooperation:
    uz: [hamkorlik*, qo'shma*]
"""


def test_a_tagger_with_latin_uzbek_rules_tags_cyrillic_uzbek(tmp_path: Path) -> None:
    rules = tmp_path / "uz_film.yaml"
    rules.write_text(UZ_TOPIC, encoding="utf-8")
    tagger = load_tagger([rules])
    title = "Ўзбекистон ва Озарбайжон ҳамкорликда фильм суратга олади"
    body = "Икки давлат кинематографчилари қўшма фильм устида иш бошлади."
    result = tagger.tag(TagInput(title, body, language="uz"))
    assert "uz_film" in result.topics
    assert {e.term for e in result.evidence} >= {"ҳамкорликда", "фильм", "қўшма"}


# --- language detection ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(LANGUAGES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Italy and Azerbaijan sign a film co-production agreement in Rome.", "en"),
        ("Казахстан и Узбекистан подписали соглашение о сотрудничестве в кино.", "ru"),
        ("Azərbaycan və Türkiyə kino sahəsində əməkdaşlıq edəcək.", "az"),
        ("Türkiye ve Azerbaycan sinema alanında işbirliği yapacak.", "tr"),
        ("Oʻzbekiston va Ozarbayjon kino sohasida hamkorlik qiladi.", "uz"),
        ("Ўзбекистон ва Озарбайжон ҳамкорликда фильм суратга олади.", "uz"),
        ("Тошкентда кино фестивали бошланди.", "uz"),
        ("Қазақстан мен Өзбекстан кино саласында ынтымақтасады.", "kk"),
        ("Алматыда жаңа кинотеатр ашылды.", "kk"),
        ("საქართველო და აზერბაიჯანი კინოს სფეროში ითანამშრომლებენ.", "ka"),
        ("Italia e Azerbaigian firmano un accordo di coproduzione.", "it"),
        ("پاکستان اور ترکی فلم سازی میں تعاون کریں گے۔", "ur"),
        ("ایران و ترکیه در زمینه سینما همکاری خواهند کرد.", "fa"),
        ("مصر والمغرب توقعان اتفاقية للتعاون في مجال السينما.", "ar"),
    ],
)
def test_short_texts_in_every_language(
    detector: LanguageDetector, text: str, expected: str
) -> None:
    assert detector.detect(text) == expected


def test_the_prior_wins_on_short_texts_in_its_script(detector: LanguageDetector) -> None:
    assert detector.detect("Film festivali başladı", "az") == "az"
    assert detector.detect("Кинофестиваль", "kk") == "kk"
    assert detector.detect("سینما", "ur") == "ur"


def test_a_prior_in_another_script_is_overruled(detector: LanguageDetector) -> None:
    assert detector.detect("Кинофестиваль в Ташкенте открылся", "az") == "ru"
    assert detector.detect("ქართული ფილმის დღეები", "ru") == "ka"
    assert detector.detect("Тошкентда кино ҳафталиги бошланди", "en") == "uz"


def test_letters_a_language_lacks_rule_it_out(detector: LanguageDetector) -> None:
    assert ruled_out("Bakı film festivalı, Əliyev və nazir", ["az", "tr"]) == {"tr"}
    assert ruled_out("Ўзбек кино ҳафталиги", ["ru", "kk", "uz"]) == {"ru", "kk"}
    assert ruled_out("جشنواره فیلم کراچی میں ہو گا", ["fa", "ur", "ar"]) == {"fa", "ar"}
    # One quoted Kazakh name does not make a long Russian story Kazakh.
    russian = "Студия «Қазақфильм» и «Беларусьфильм» подписали меморандум о сотрудничестве. " * 3
    assert ruled_out(russian, ["ru", "kk", "uz"]) == set()
    assert detector.detect(russian, None) == "ru"


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Film week", "Latn"),
        ("Əməkdaşlıq", "Latn"),
        ("Кино", "Cyrl"),
        ("Ўзбек", "Cyrl"),
        ("კინო", "Geor"),
        ("سینما", "Arab"),
        ("2025 — 12", None),
        ("Кинофестиваль in Baku", "Cyrl"),  # most letters
    ],
)
def test_script_of(text: str, script: str | None) -> None:
    assert script_of(text) == script
