"""The digest's own words (headings, status words, aspect names) in the locales it is read in.

Feed text is never translated; only what the monitor itself writes around it. Plural forms follow
CLDR's rules through Babel, so Russian gets "2 сюжета" and "5 сюжетов".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babel import Locale

from monitor.models import FeedbackSummary


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
    office_feedback: str  # {marked}, {contradicted}: a period's judgements by the office
    atom_feed: str
    silent_sources: str
    silent_since: str  # {when}
    # How much of the field the digest saw (monitor.coverage)
    coverage_blind: str  # {n}: no source could be checked
    coverage_partial: str  # {ok}, {n}: many could not
    coverage_no_sources: str  # none configured
    coverage_checked: str  # {ok}, {n}
    subject_blind: str  # appended to the e-mail subject
    subject_partial: str  # {ok}, {n}
    failures_by_cause: str  # heading of the causes list
    causes: Mapping[str, str]  # Cause value -> what failed and the likely fix

    def aspect(self, name: str) -> str:
        return self.aspects.get(name, name.replace("_", " "))

    def status(self, value: str) -> str:
        return self.statuses.get(value, value)

    def count_stories(self, n: int) -> str:
        return _plural(self.locale, self.stories, n)

    def count_failures(self, n: int) -> str:
        return _plural(self.locale, self.failures_in_row, n)

    def judged(self, summary: FeedbackSummary) -> str:
        """What the office judged during a period, in the reader's words."""
        return self.office_feedback.format(marked=summary.marked, contradicted=summary.contradicted)

    def cause(self, value: str) -> str:
        return self.causes.get(value, self.causes["other"])


def language_name(locale: Locale, code: str) -> str:
    """A language's name in the reader's language ("Russian", "русский"), or its code."""
    return str(locale.languages.get(code, code)) if code and code != "?" else "?"


def country_name(locale: Locale, code: str) -> str:
    """A country's name in the reader's language, or its code (EU and others CLDR lacks)."""
    return str(locale.territories.get(code, code))


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
    office_feedback="The office judged {marked} stories in this period; {contradicted} of "
    "them disagreed with the monitor's tagging.",
    atom_feed="Atom feed",
    silent_sources="Silent for longer than usual",
    silent_since="nothing new since {when}",
    coverage_blind=(
        "No source could be checked ({n} tried). This is not a quiet news day: the monitor saw "
        "nothing. See why below."
    ),
    coverage_partial=(
        "Only {ok} of {n} sources could be checked: stories from the others are missing. "
        "See why below."
    ),
    coverage_no_sources="No sources are configured: add one with «monitor sources add URL».",
    coverage_checked="{ok} of {n} sources checked",
    subject_blind="no source could be checked",
    subject_partial="only {ok} of {n} sources checked",
    failures_by_cause="Why sources could not be checked",
    causes={
        "dns": "host names do not resolve (DNS): is this machine online, and its DNS server "
        "reachable?",
        "refused": "connection refused: the site is down, or a firewall rejects this machine",
        "timeout": "no answer in time: a slow network, or a firewall or proxy that drops the "
        "connection (a proxy is set with HTTPS_PROXY)",
        "tls": "TLS handshake failed: the site's certificate, or a proxy that intercepts HTTPS",
        "network": "the connection failed or broke: network trouble between here and the site",
        "blocked": "the site refuses the monitor (HTTP 401/403/451): it may block automated "
        "readers or this country",
        "moved": "the address is gone (HTTP 404/410): the feed has moved; find the new one with "
        "«monitor sources test URL»",
        "server": "the site's server is failing or overloaded (HTTP 429/5xx): usually passes",
        "http": "an unexpected HTTP answer: see the source's error below",
        "not_a_feed": "the address answers, but not with a feed or a sitemap: check it with "
        "«monitor sources test NAME»",
        "policy": "not fetched by choice: robots.txt disallows it, or it is a private address",
        "other": "other errors: see each source below",
    },
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
    office_feedback="Сюжетов, оценённых пресс-службой за период: {marked}; из них не "
    "согласны с разметкой монитора: {contradicted}.",
    atom_feed="Лента Atom",
    silent_sources="Молчат дольше обычного",
    silent_since="ничего нового с {when}",
    coverage_blind=(
        "Ни один источник не удалось проверить (попыток: {n}). Это не тихий день: монитор "
        "ничего не видел. Причины ниже."
    ),
    coverage_partial=(
        "Удалось проверить только {ok} из {n} источников: сюжетов из остальных здесь нет. "
        "Причины ниже."
    ),
    coverage_no_sources="Источники не заданы: добавьте их командой «monitor sources add URL».",
    coverage_checked="проверено источников: {ok} из {n}",
    subject_blind="ни один источник не проверен",
    subject_partial="проверено только {ok} из {n} источников",
    failures_by_cause="Почему источники не удалось проверить",
    causes={
        "dns": "имена сайтов не разрешаются (DNS): есть ли у этой машины доступ в интернет и к "
        "DNS-серверу?",
        "refused": "в соединении отказано: сайт не работает или брандмауэр не пускает эту машину",
        "timeout": "нет ответа вовремя: медленная сеть, брандмауэр или прокси обрывает "
        "соединение (прокси задаётся в HTTPS_PROXY)",
        "tls": "ошибка TLS: сертификат сайта или прокси, перехватывающий HTTPS",
        "network": "соединение не установилось или оборвалось: неполадки сети",
        "blocked": "сайт не пускает монитор (HTTP 401/403/451): возможно, он блокирует "
        "автоматические запросы или эту страну",
        "moved": "адреса больше нет (HTTP 404/410): лента переехала; новую можно найти командой "
        "«monitor sources test URL»",
        "server": "сервер сайта сбоит или перегружен (HTTP 429/5xx): обычно проходит само",
        "http": "неожиданный ответ HTTP: см. ошибку источника ниже",
        "not_a_feed": "по адресу нет ленты или карты сайта: проверьте командой "
        "«monitor sources test NAME»",
        "policy": "не загружено намеренно: запрещено robots.txt или это частный адрес",
        "other": "другие ошибки: см. каждый источник ниже",
    },
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
    office_feedback="Mətbuat xidmətinin bu dövrdə qiymətləndirdiyi xəbərlər: {marked}; "
    "onlardan monitorun seçimi ilə razılaşmayanlar: {contradicted}.",
    atom_feed="Atom lenti",
    silent_sources="Adi haldan uzun müddət susan mənbələr",
    silent_since="{when} tarixindən bəri yeni xəbər yoxdur",
    coverage_blind=(
        "Heç bir mənbə yoxlanıla bilmədi ({n} cəhd). Bu, sakit xəbər günü deyil: monitor heç "
        "nə görmədi. Səbəbləri aşağıdadır."
    ),
    coverage_partial=(
        "{n} mənbədən yalnız {ok} yoxlanıla bildi: digərlərinin xəbərləri burada yoxdur. "
        "Səbəbləri aşağıdadır."
    ),
    coverage_no_sources="Mənbə təyin edilməyib: «monitor sources add URL» əmri ilə əlavə edin.",
    coverage_checked="{n} mənbədən {ok} yoxlanıldı",
    subject_blind="heç bir mənbə yoxlanılmadı",
    subject_partial="{n} mənbədən yalnız {ok} yoxlanıldı",
    failures_by_cause="Mənbələr niyə yoxlanıla bilmədi",
    causes={
        "dns": "sayt adları həll olunmur (DNS): bu kompüter internetə və DNS serverinə qoşulubmu?",
        "refused": "bağlantı rədd edildi: sayt işləmir və ya firewall bu kompüteri buraxmır",
        "timeout": "vaxtında cavab yoxdur: yavaş şəbəkə, bağlantını kəsən firewall və ya proxy "
        "(proxy HTTPS_PROXY ilə təyin olunur)",
        "tls": "TLS xətası: saytın sertifikatı və ya HTTPS-i tutan proxy",
        "network": "bağlantı qurulmadı və ya qırıldı: şəbəkə problemi",
        "blocked": "sayt monitoru buraxmır (HTTP 401/403/451): avtomatik sorğuları və ya bu "
        "ölkəni bloklaya bilər",
        "moved": "ünvan artıq yoxdur (HTTP 404/410): lent köçüb; yenisini "
        "«monitor sources test URL» ilə tapın",
        "server": "saytın serveri xəta verir və ya yüklənib (HTTP 429/5xx): adətən keçib gedir",
        "http": "gözlənilməz HTTP cavabı: aşağıda mənbənin xətasına baxın",
        "not_a_feed": "ünvan cavab verir, amma lent və ya sayt xəritəsi deyil: "
        "«monitor sources test NAME» ilə yoxlayın",
        "policy": "qəsdən yüklənmədi: robots.txt qadağan edir və ya bu, şəxsi ünvandır",
        "other": "digər xətalar: aşağıda hər mənbəyə baxın",
    },
)

LABELS: Mapping[str, Labels] = {labels.locale: labels for labels in (_EN, _RU, _AZ)}
ASPECT_ORDER = tuple(_EN.aspects)  # the contract's order, used to order groups


def labels_for(locale: str) -> Labels:
    try:
        return LABELS[locale]
    except KeyError:
        known = ", ".join(sorted(LABELS))
        raise ValueError(f"unknown locale {locale!r}; known locales: {known}") from None
