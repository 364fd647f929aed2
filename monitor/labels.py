"""The digest's own words (headings, status words, aspect names) in the locales it is read in.

Feed text is never translated; only what the monitor itself writes around it. Plural forms follow
CLDR's rules through Babel, so Russian gets "2 сюжета" and "5 сюжетов".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babel import Locale


@dataclass(frozen=True)
class Labels:
    locale: str
    digest_title: str  # {date}
    index_title: str
    stories: Mapping[str, str]  # CLDR plural category -> "{n} stories"
    languages: str
    countries: str
    times_in: str  # {tz}
    empty_day: str
    also_in: str
    fetched: str
    sources: str
    failing_sources: str
    other_sources: str
    all_sources_ok: str
    new_items: str
    failures_in_row: Mapping[str, str]  # plural category -> "{n} failures in a row"
    last_success: str  # {when}
    never_succeeded: str
    statuses: Mapping[str, str]  # SourceStatus value -> word
    aspects: Mapping[str, str]  # aspect name -> readable label
    other_aspect: str
    no_country: str
    generated: str  # {when}, {tz}
    no_digests: str
    atom_feed: str
    silent_sources: str
    silent_since: str  # {when}

    def aspect(self, name: str) -> str:
        return self.aspects.get(name, name.replace("_", " "))

    def status(self, value: str) -> str:
        return self.statuses.get(value, value)

    def count_stories(self, n: int) -> str:
        return _plural(self.locale, self.stories, n)

    def count_failures(self, n: int) -> str:
        return _plural(self.locale, self.failures_in_row, n)


def _plural(locale: str, forms: Mapping[str, str], n: int) -> str:
    category = str(Locale.parse(locale).plural_form(n))
    return forms.get(category, forms["other"]).format(n=n)


_EN = Labels(
    locale="en",
    digest_title="Film cooperation digest — {date}",
    index_title="Film cooperation digests",
    stories={"one": "{n} story", "other": "{n} stories"},
    languages="Languages",
    countries="Countries",
    times_in="Times are in {tz}.",
    empty_day="No film-cooperation stories were found for this day.",
    also_in="also in",
    fetched="fetched",
    sources="Sources",
    failing_sources="Failing sources",
    other_sources="Other sources",
    all_sources_ok="Every source was checked without errors.",
    new_items="new",
    failures_in_row={"one": "{n} failure in a row", "other": "{n} failures in a row"},
    last_success="last success {when}",
    never_succeeded="never fetched successfully",
    statuses={
        "ok": "ok",
        "not_modified": "no changes",
        "error": "error",
        "skipped": "skipped",
    },
    aspects={
        "co_production": "co-production",
        "financing": "financing",
        "agreement": "agreement",
        "festival_market": "festival / market",
        "diplomacy": "film diplomacy",
        "education": "education",
        "digital": "digital / VFX / streaming",
        "policy": "policy",
    },
    other_aspect="Other",
    no_country="No country named",
    generated="Generated {when} ({tz}).",
    no_digests="No digests yet.",
    atom_feed="Atom feed",
    silent_sources="Silent for longer than usual",
    silent_since="nothing new since {when}",
)

_RU = Labels(
    locale="ru",
    digest_title="Дайджест кинематографического сотрудничества — {date}",
    index_title="Дайджесты кинематографического сотрудничества",
    stories={"one": "{n} сюжет", "few": "{n} сюжета", "many": "{n} сюжетов", "other": "{n} сюжета"},
    languages="Языки",
    countries="Страны",
    times_in="Время указано по часовому поясу {tz}.",
    empty_day="За этот день сюжетов о сотрудничестве в кино не найдено.",
    also_in="также на языках",
    fetched="время получения",
    sources="Источники",
    failing_sources="Источники с ошибками",
    other_sources="Остальные источники",
    all_sources_ok="Все источники проверены без ошибок.",
    new_items="новых",
    failures_in_row={
        "one": "{n} ошибка подряд",
        "few": "{n} ошибки подряд",
        "many": "{n} ошибок подряд",
        "other": "{n} ошибки подряд",
    },
    last_success="последний успех {when}",
    never_succeeded="ни разу не получен",
    statuses={
        "ok": "работает",
        "not_modified": "без изменений",
        "error": "ошибка",
        "skipped": "пропущен",
    },
    aspects={
        "co_production": "совместное производство",
        "financing": "финансирование",
        "agreement": "соглашение",
        "festival_market": "фестиваль / кинорынок",
        "diplomacy": "кинодипломатия",
        "education": "обучение",
        "digital": "цифровые технологии / VFX / стриминг",
        "policy": "кинополитика",
    },
    other_aspect="Другое",
    no_country="Страна не указана",
    generated="Сформировано {when} ({tz}).",
    no_digests="Дайджестов пока нет.",
    atom_feed="Лента Atom",
    silent_sources="Молчат дольше обычного",
    silent_since="ничего нового с {when}",
)

_AZ = Labels(
    locale="az",
    digest_title="Kino əməkdaşlığı icmalı — {date}",
    index_title="Kino əməkdaşlığı icmalları",
    stories={"one": "{n} xəbər", "other": "{n} xəbər"},
    languages="Dillər",
    countries="Ölkələr",
    times_in="Vaxt {tz} saat qurşağı ilə göstərilir.",
    empty_day="Bu gün üçün kino əməkdaşlığına dair xəbər tapılmadı.",
    also_in="digər dillərdə",
    fetched="alınma vaxtı",
    sources="Mənbələr",
    failing_sources="Xətalı mənbələr",
    other_sources="Digər mənbələr",
    all_sources_ok="Bütün mənbələr xətasız yoxlanıldı.",
    new_items="yeni",
    failures_in_row={"one": "ardıcıl {n} xəta", "other": "ardıcıl {n} xəta"},
    last_success="son uğurlu yoxlama {when}",
    never_succeeded="heç vaxt uğurla alınmayıb",
    statuses={
        "ok": "işləyir",
        "not_modified": "dəyişiklik yoxdur",
        "error": "xəta",
        "skipped": "buraxıldı",
    },
    aspects={
        "co_production": "birgə istehsal",
        "financing": "maliyyələşdirmə",
        "agreement": "saziş",
        "festival_market": "festival / kinobazar",
        "diplomacy": "kino diplomatiyası",
        "education": "təhsil",
        "digital": "rəqəmsal / VFX / striminq",
        "policy": "kino siyasəti",
    },
    other_aspect="Digər",
    no_country="Ölkə göstərilməyib",
    generated="Hazırlanıb: {when} ({tz}).",
    no_digests="Hələ icmal yoxdur.",
    atom_feed="Atom lenti",
    silent_sources="Adi haldan uzun müddət susan mənbələr",
    silent_since="{when} tarixindən bəri yeni xəbər yoxdur",
)

LABELS: Mapping[str, Labels] = {labels.locale: labels for labels in (_EN, _RU, _AZ)}
ASPECT_ORDER = tuple(_EN.aspects)  # the contract's order, used to order groups


def labels_for(locale: str) -> Labels:
    try:
        return LABELS[locale]
    except KeyError:
        known = ", ".join(sorted(LABELS))
        raise ValueError(f"unknown locale {locale!r}; known locales: {known}") from None
