"""A local news web for the benchmarks: N outlets, each on its own loopback address.

Outlet k (0-based) listens on 127.0.{1 + k // 254}.{1 + k % 254}, all on one port, so that a
client's per-host limits (concurrency, spacing of requests) apply per outlet as they would on the
internet. Every outlet serves::

    /feed.xml               RSS 2.0 with M items (title, link, guid, summary, pubDate, category)
    /news/<date>/<slug>.html  an article page of 30-150 KB: head with meta tags, JSON-LD, inline
                            styles and scripts, a mega-menu, breadcrumbs, share buttons, the
                            article (300-800 words), "read also" boxes, related stories, sidebars,
                            reader comments, a footer and trailing scripts
    /robots.txt             allows everything but /search

Content is generated from a seed, so two runs (and two servers) serve the same bytes. Articles are
in English, Russian, Azerbaijani and Turkish (by outlet); about one in ten is about cooperation in
the film industry, so that tagging does real work. Feeds and pages carry an ETag and a
Last-Modified and answer a matching If-None-Match with 304.

The server is one asyncio process (a small HTTP/1.1 handler with keep-alive, GET and HEAD); every
response waits ``latency`` seconds first, to imitate the internet. Run it in its own process so
that its CPU does not share the client's interpreter lock::

    .venv/bin/python bench/newsweb.py --outlets 100 --items 20 --latency-ms 100

or from Python with ``NewsWeb(outlets=100, items=20, latency_ms=100)`` (a context manager that
starts that process). Control paths, answered at once by any outlet: ``/__bench/stats`` (JSON
counters and the server's CPU time), ``/__bench/reset`` (zero the counters),
``/__bench/latency?ms=N`` (change the latency), ``/__bench/pages?light=1`` (bare article pages,
cheap to extract, to fill a database before a warm cycle; ``light=0`` back to full pages).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import html
import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FILM_SHARE = 0.10  # articles about film cooperation
PAGE_KB = (30, 150)  # size of an article page
WORDS = (300, 800)  # length of an article's text
MAX_HOSTS = 254 * 254


def host_of(k: int) -> str:
    """The loopback address of outlet ``k`` (0-based); Linux routes all of 127/8 to lo."""
    if not 0 <= k < MAX_HOSTS:
        raise ValueError(f"outlet number {k} out of range")
    return f"127.0.{1 + k // 254}.{1 + k % 254}"


# --- vocabulary -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Language:
    code: str
    country: str | None  # the outlets' country
    general: tuple[str, ...]
    film: tuple[str, ...]
    cooperation: tuple[str, ...]
    countries: tuple[str, ...]
    names: tuple[str, ...]  # people, cities, institutions: what tells one story from another
    sections: tuple[str, ...]  # navigation labels
    read_also: str
    comments: str
    most_read: str


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


# (language, share of outlets). The word lists follow bench/tagger.py's.
LANGUAGES: tuple[tuple[Language, float], ...] = (
    (Language("en", None,
        _words("the, of, and, in, to, on, said, government, minister, economy, percent, growth, "
               "year, new, company, market, price, oil, gas, bank, transport, road, city, "
               "president, meeting, parliament, law, budget, exports, imports, water, energy, "
               "weather, football, team, match, season, school, hospital, report, week, people, "
               "region, capital, development, plan, million, billion, increase, data, officials, "
               "according, announced"),
        _words("film, cinema, movie, documentary, festival, director, screening, producer, actor, "
               "premiere"),
        _words("cooperation, agreement, co-production, memorandum, partnership, joint project, "
               "bilateral"),
        _words("Azerbaijan, Turkey, Kazakhstan, Uzbekistan, Georgia, Italy, Pakistan, Iran"),
        _words("Baku, Istanbul, Tashkent, Almaty, Tbilisi, Rome, Karachi, Tehran, UNESCO, "
               "Mosfilm, Netflix, Anna Petrova, John Smith, Maria Rossi, Aliyev, Erdogan, "
               "Tokayev, Mirziyoyev, Cannes, Berlinale, Ganja, Samarkand, Astana, Batumi"),
        _words("Politics, Economy, World, Society, Sport, Culture, Science, Opinion, Video, "
               "Photo, Regions, Business, Tech, Health, Travel"),
        "Read also", "Comments", "Most read"), 0.25),
    (Language("ru", "RU",
        _words("в, на, и, по, с, заявил, правительство, министр, экономика, процент, рост, год, "
               "новый, компания, рынок, цена, нефть, газ, банк, транспорт, дорога, город, "
               "президент, встреча, парламент, закон, бюджет, экспорт, импорт, вода, энергетика, "
               "погода, футбол, команда, матч, сезон, школа, больница, отчет, неделя, люди, "
               "регион, столица, развитие, план, миллион, миллиард, увеличение, данные, "
               "сообщили"),
        _words("фильм, кино, кинофестиваль, режиссер, показ, продюсер, актер, премьера, "
               "кинематограф, сериал"),
        _words("сотрудничество, соглашение, совместное производство, меморандум, партнерство, "
               "совместный проект, двустороннее"),
        _words("Азербайджан, Турция, Казахстан, Узбекистан, Грузия, Италия, Пакистан, Иран"),
        _words("Баку, Стамбул, Ташкент, Алматы, Тбилиси, Рим, Карачи, Тегеран, ЮНЕСКО, "
               "Мосфильм, Нетфликс, Анна Петрова, Иван Смирнов, Мария Росси, Алиев, Эрдоган, "
               "Токаев, Мирзиёев, Канны, Берлинале, Гянджа, Самарканд, Астана, Батуми"),
        _words("Политика, Экономика, В мире, Общество, Спорт, Культура, Наука, Мнения, Видео, "
               "Фото, Регионы, Бизнес, Технологии, Здоровье, Туризм"),
        "Читайте также", "Комментарии", "Самое читаемое"), 0.25),
    (Language("az", "AZ",
        _words("və, ilə, bildirib, hökumət, nazir, iqtisadiyyat, faiz, artım, il, yeni, layihə, "
               "şirkət, bazar, qiymət, neft, qaz, bank, nəqliyyat, yol, şəhər, prezident, görüş, "
               "parlament, qanun, büdcə, ixrac, idxal, su, enerji, hava, futbol, komanda, oyun, "
               "mövsüm, məktəb, xəstəxana, hesabat, həftə, insanlar, region, paytaxt, inkişaf, "
               "plan, milyon, milyard"),
        _words("film, kino, festival, rejissor, nümayiş, prodüser, aktyor, premyera, serial, "
               "kinematoqrafiya"),
        _words("əməkdaşlıq, saziş, birgə istehsal, memorandum, tərəfdaşlıq, birgə layihə, "
               "ikitərəfli"),
        _words("Azərbaycan, Türkiyə, Qazaxıstan, Özbəkistan, Gürcüstan, İtaliya, Pakistan, İran"),
        _words("Bakı, İstanbul, Daşkənd, Almatı, Tbilisi, Roma, Karaçi, Tehran, UNESCO, "
               "Azərbaycanfilm, Netflix, Anna Petrova, Rəşid Behbudov, Nizami Gəncəvi, Əliyev, "
               "Ərdoğan, Tokayev, Mirziyoyev, Kann, Berlinale, Gəncə, Səmərqənd, Astana, Batumi"),
        _words("Siyasət, İqtisadiyyat, Dünya, Cəmiyyət, İdman, Mədəniyyət, Elm, Rəy, Video, "
               "Foto, Regionlar, Biznes, Texnologiya, Sağlamlıq, Turizm"),
        "Həmçinin oxuyun", "Şərhlər", "Ən çox oxunan"), 0.25),
    (Language("tr", "TR",
        _words("ve, ile, bir, bu, için, açıkladı, hükümet, bakan, ekonomi, yüzde, büyüme, yıl, "
               "yeni, şirket, piyasa, fiyat, petrol, doğalgaz, banka, ulaşım, yol, şehir, "
               "cumhurbaşkanı, toplantı, meclis, kanun, bütçe, ihracat, ithalat, su, enerji, "
               "hava, futbol, takım, maç, sezon, okul, hastane, rapor, hafta, insanlar, bölge, "
               "başkent, kalkınma, plan, milyon"),
        _words("film, sinema, festival, yönetmen, gösterim, yapımcı, oyuncu, gala, dizi, "
               "belgesel"),
        _words("işbirliği, anlaşma, ortak yapım, mutabakat, ortaklık, ortak proje, ikili"),
        _words("Azerbaycan, Türkiye, Kazakistan, Özbekistan, Gürcistan, İtalya, Pakistan, İran"),
        _words("Bakü, İstanbul, Taşkent, Almatı, Tiflis, Roma, Karaçi, Tahran, UNESCO, TRT, "
               "Netflix, Anna Petrova, Ahmet Yılmaz, Ayşe Demir, Aliyev, Erdoğan, Tokayev, "
               "Mirziyoyev, Cannes, Berlinale, Gence, Semerkant, Astana, Batum"),
        _words("Siyaset, Ekonomi, Dünya, Toplum, Spor, Kültür, Bilim, Görüş, Video, Foto, "
               "Bölgeler, İş Dünyası, Teknoloji, Sağlık, Seyahat"),
        "Ayrıca okuyun", "Yorumlar", "En çok okunanlar"), 0.25),
)  # fmt: skip

_SCRIPT_WORDS = _words(
    "function, var, return, window, document, push, dataLayer, googletag, cmd, slot, "
    "defineSlot, addService, pubads, enableSingleRequest, setTargeting, display, "
    "addEventListener, querySelector, classList, toggle, length, null, true, false, this, "
    "config, analytics, consent, banner, lazyload, observer, timeout, prebid, bidder, params"
)


# --- the outlets and their content ------------------------------------------------------------


@dataclass(frozen=True)
class Outlet:
    number: int
    name: str
    host: str
    language: Language


@dataclass(frozen=True)
class Item:
    outlet: int
    number: int
    slug: str
    path: str
    title: str
    summary: str
    published: datetime
    section: str
    film: bool
    paragraphs: tuple[str, ...]


class Content:
    """The whole news web, generated from ``seed``. ``now`` dates the newest items; the others
    are spaced back over the previous hours, all on the day before ``now`` or on its day."""

    def __init__(self, outlets: int, items: int, seed: int = 1, now: datetime | None = None):
        if not 1 <= outlets <= MAX_HOSTS:
            raise ValueError(f"outlets must be 1..{MAX_HOSTS}")
        self.outlets = outlets
        self.items = items
        self.seed = seed
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        rng = random.Random(f"{seed}:outlets")
        weights = [share for _, share in LANGUAGES]
        self.outlet_list = [
            Outlet(k, f"Outlet {k:04d}", host_of(k), rng.choices(LANGUAGES, weights)[0][0])
            for k in range(outlets)
        ]
        # Feeds and pages are cached: feeds all, pages within a bound (the server's memory).
        self._feeds: dict[int, bytes] = {}

    def outlet(self, k: int) -> Outlet:
        return self.outlet_list[k]

    def item(self, k: int, i: int) -> Item:
        return _item(self.seed, self.now, self.outlet_list[k], i)

    def item_by_slug(self, k: int, slug: str) -> Item | None:
        """The item whose page is ``slug`` ("a<i>-..."), or None."""
        head = slug.split("-", 1)[0]
        if not (head.startswith("a") and head[1:].isdigit()):
            return None
        i = int(head[1:])
        if i >= self.items:
            return None
        item = self.item(k, i)
        return item if item.slug == slug else None

    def feed(self, k: int, base: str) -> bytes:
        if k not in self._feeds:
            self._feeds[k] = render_feed(self.outlet_list[k], base, self.items_of(k))
        return self._feeds[k]

    def items_of(self, k: int) -> list[Item]:
        return [self.item(k, i) for i in range(self.items)]

    def page(self, k: int, i: int, base: str) -> bytes:
        return _page(self.seed, self.now, self.outlet_list[k], i, base)


@lru_cache(maxsize=50_000)
def _item(seed: int, now: datetime, outlet: Outlet, i: int) -> Item:
    rng = random.Random(f"{seed}:{outlet.number}:{i}:item")
    lang = outlet.language
    film = rng.random() < FILM_SHARE
    if film:
        a, b = rng.sample(lang.countries, 2)
        words = [a, b, rng.choice(lang.film), rng.choice(lang.cooperation)]
        words += rng.choices(lang.general, k=3)
    else:
        words = [rng.choice(lang.countries), *rng.choices(lang.general, k=6)]
    words.insert(rng.randint(1, len(words)), rng.choice(lang.names))
    title = " ".join(words)
    title = title[0].upper() + title[1:]
    target = rng.randint(*WORDS)
    paragraphs: list[str] = []
    sentences: list[str] = []
    count = 0
    while count < target:
        sentence = rng.choices(lang.general, k=rng.randint(8, 20))
        if rng.random() < 0.3:
            sentence[rng.randrange(len(sentence))] = rng.choice(lang.countries)
        if film and rng.random() < 0.3:
            sentence[rng.randrange(len(sentence))] = rng.choice(lang.film)
            sentence[rng.randrange(len(sentence))] = rng.choice(lang.cooperation)
        if rng.random() < 0.35:
            sentence.insert(rng.randint(1, len(sentence)), rng.choice(lang.names))
        if rng.random() < 0.15:
            sentence.insert(rng.randint(1, len(sentence)), str(rng.randint(2, 5000)))
        count += len(sentence)
        text = " ".join(sentence)
        sentences.append(text[0].upper() + text[1:] + ".")
        if len(sentences) >= rng.randint(3, 6):
            paragraphs.append(" ".join(sentences))
            sentences = []
    if sentences:
        paragraphs.append(" ".join(sentences))
    # Newest first, about 20 minutes apart.
    published = now - timedelta(minutes=i * 20 + rng.randint(0, 15))
    slug = f"a{i}-" + hashlib.sha1(f"{seed}:{outlet.number}:{i}".encode()).hexdigest()[:10]
    day = published.strftime("%Y/%m/%d")
    return Item(
        outlet=outlet.number,
        number=i,
        slug=slug,
        path=f"/news/{day}/{slug}.html",
        title=title,
        summary=paragraphs[0][:240].rsplit(" ", 1)[0] + " …",
        published=published,
        section=rng.choice(lang.sections),
        film=film,
        paragraphs=tuple(paragraphs),
    )


def render_feed(outlet: Outlet, base: str, items: list[Item]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>{html.escape(outlet.name)}</title><link>{base}/</link>"
        f"<description>News from {html.escape(outlet.name)}</description>"
        f"<language>{outlet.language.code}</language>"
    ]
    if items:
        parts.append(f"<lastBuildDate>{format_datetime(items[0].published)}</lastBuildDate>")
    for item in items:
        link = f"{base}{item.path}"
        parts.append(
            f"<item><title>{html.escape(item.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="true">{link}</guid>'
            f"<description>{html.escape(item.summary)}</description>"
            f"<category>{html.escape(item.section)}</category>"
            f"<dc:creator>Staff reporter</dc:creator>"
            f"<pubDate>{format_datetime(item.published)}</pubDate></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


def _headline(rng: random.Random, lang: Language) -> str:
    return " ".join([rng.choice(lang.countries), *rng.choices(lang.general, k=rng.randint(5, 9))])


def _script(rng: random.Random, size: int) -> str:
    """Minified-looking JavaScript of about ``size`` characters."""
    out: list[str] = []
    length = 0
    while length < size:
        a, b, c = rng.choices(_SCRIPT_WORDS, k=3)
        n = rng.randint(0, 9999)
        piece = f'{a}.{b}("{c}-{n}",function(e){{return e&&e.{c}?{n}:null}});'
        out.append(piece)
        length += len(piece)
    return "".join(out)


@dataclass(frozen=True)
class _Pool:
    """Fragments of one language's pages, made once: a page draws its sidebars, cards, comments
    and inline state from them (as a real site repeats its widgets from page to page), which
    keeps serving a page cheap. Each fragment is (html, size in bytes)."""

    links: tuple[tuple[str, int], ...]  # <li> of a "latest news" list
    cards: tuple[tuple[str, int], ...]  # a teaser with picture, headline and lead
    comments: tuple[tuple[str, int], ...]
    state: tuple[tuple[str, int], ...]  # JSON entries of the inlined front-end state
    scripts: tuple[str, ...]  # ~1 KB of JavaScript each


def _sized(text: str) -> tuple[str, int]:
    return text, len(text.encode())


@cache
def _pool(lang: Language) -> _Pool:
    rng = random.Random(f"pool:{lang.code}")
    esc = html.escape

    def lead() -> str:
        return esc(" ".join(rng.choices(lang.general, k=rng.randint(12, 24))).capitalize()) + "."

    links = tuple(
        _sized(
            f'<li><span class="time">{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}</span>'
            f'<a href="/news/{rng.randint(1, 99999)}">{esc(_headline(rng, lang))}</a></li>'
        )
        for _ in range(400)
    )
    cards = tuple(
        _sized(
            f'<div class="card"><a href="/news/{rng.randint(1, 99999)}">'
            f'<img src="/img/t{rng.randint(1, 9999)}.jpg" alt="" loading="lazy">'
            f"<h3>{esc(_headline(rng, lang))}</h3></a><p>{lead()}</p>"
            f'<span class="date">{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}</span></div>'
        )
        for _ in range(300)
    )
    comments = tuple(
        _sized(
            f'<div class="comment"><div class="comment-author">user{rng.randint(1, 99999)}</div>'
            f'<div class="comment-date">{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}</div>'
            f"<p>{esc(' '.join(rng.choices(lang.general, k=rng.randint(10, 40))).capitalize())}."
            f'</p><a class="reply" href="#">↩</a></div>'
        )
        for _ in range(300)
    )
    state = tuple(
        _sized(
            json.dumps(
                {
                    "id": rng.randint(10**6, 10**7),
                    "title": _headline(rng, lang),
                    "url": f"/news/{rng.randint(1, 9999)}",
                    "views": rng.randint(0, 10**5),
                    "tags": rng.choices(lang.general, k=3),
                },
                ensure_ascii=False,
            )
        )
        for _ in range(400)
    )
    scripts = tuple(_script(rng, 1000) for _ in range(50))
    return _Pool(links, cards, comments, state, scripts)


@cache
def _chrome(outlet: Outlet) -> tuple[str, str, str]:
    """An outlet's own (CSS, header menu, footer): the same on each of its pages."""
    rng = random.Random(f"chrome:{outlet.number}")
    lang = outlet.language
    esc = html.escape
    css = "".join(
        f".c{n}{{margin:{n % 7}px;padding:{n % 5}px;color:#{rng.randint(0, 0xFFFFFF):06x}}}"
        for n in range(rng.randint(60, 160))
    )
    menu = "".join(
        f'<li class="menu-item"><a href="/section/{s}">{esc(name)}</a><ul class="sub-menu">'
        + "".join(
            f'<li><a href="/section/{s}/{j}">{esc(rng.choice(lang.general).capitalize())}</a></li>'
            for j in range(rng.randint(3, 8))
        )
        + "</ul></li>"
        for s, name in enumerate(lang.sections)
    )
    footer = "".join(
        f'<div class="footer-col"><h4>{esc(name)}</h4><ul>'
        + "".join(
            f'<li><a href="/p/{s}-{j}">{esc(rng.choice(lang.general).capitalize())}</a></li>'
            for j in range(8)
        )
        + "</ul></div>"
        for s, name in enumerate(lang.sections[:6])
    )
    return css, menu, footer


def _pick(rng: random.Random, fragments: tuple[tuple[str, int], ...], count: int) -> str:
    return "".join(text for text, _ in rng.choices(fragments, k=count))


@lru_cache(maxsize=4096)
def _page(seed: int, now: datetime, outlet: Outlet, i: int, base: str) -> bytes:
    item = _item(seed, now, outlet, i)
    rng = random.Random(f"{seed}:{outlet.number}:{i}:page")
    lang = outlet.language
    pool = _pool(lang)
    css, menu, footer = _chrome(outlet)
    esc = html.escape
    target = rng.randint(PAGE_KB[0] * 1024, PAGE_KB[1] * 1024)
    stamp = item.published.isoformat()
    url = f"{base}{item.path}"

    share = "".join(
        f'<a class="share share-{n}" href="https://{n}.example/share?u={url}" '
        f'rel="nofollow">{n}</a>'
        for n in ("facebook", "x", "telegram", "whatsapp", "vk", "email")
    )
    body_parts: list[str] = []
    for n, paragraph in enumerate(item.paragraphs):
        body_parts.append(f"<p>{esc(paragraph)}</p>")
        if n == 2:
            body_parts.append(
                f'<div class="read-also"><strong>{esc(lang.read_also)}:</strong> '
                f"<ul>{_pick(rng, pool.links, 2)}</ul></div>"
            )
        if n == 4:
            body_parts.append(
                '<div class="ad ad-inline" data-slot="inarticle"><script>'
                + rng.choice(pool.scripts)
                + "</script></div>"
            )
    tags = "".join(
        f'<a href="/tag/{esc(t)}" rel="tag">{esc(t)}</a>' for t in rng.sample(lang.general, 5)
    )
    article = (
        f'<article class="post" itemscope itemtype="https://schema.org/NewsArticle">'
        f'<nav class="breadcrumbs"><a href="/">{esc(outlet.name)}</a> › '
        f'<a href="/section/{esc(item.section)}">{esc(item.section)}</a></nav>'
        f'<h1 itemprop="headline">{esc(item.title)}</h1>'
        f'<div class="meta"><span class="author" itemprop="author">Staff reporter</span> '
        f'<time datetime="{stamp}" itemprop="datePublished">'
        f"{item.published:%d.%m.%Y %H:%M}</time> "
        f'<span class="views">{rng.randint(100, 90000)}</span></div>'
        f'<div class="share-top">{share}</div>'
        f'<figure><img src="/img/{item.slug}.jpg" alt="{esc(item.title)}" width="800" '
        f'height="450"><figcaption>{esc(_headline(rng, lang))}</figcaption></figure>'
        f'<div class="article-body" itemprop="articleBody">{"".join(body_parts)}</div>'
        f'<div class="tags">{tags}</div><div class="share-bottom">{share}</div></article>'
    )
    json_ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": item.title,
            "datePublished": stamp,
            "dateModified": stamp,
            "author": {"@type": "Person", "name": "Staff reporter"},
            "publisher": {"@type": "Organization", "name": outlet.name},
            "mainEntityOfPage": url,
            "inLanguage": lang.code,
        },
        ensure_ascii=False,
    )
    head = (
        f'<!DOCTYPE html><html lang="{lang.code}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(item.title)} | {esc(outlet.name)}</title>"
        f'<meta name="description" content="{esc(item.summary)}">'
        f'<meta property="og:title" content="{esc(item.title)}">'
        f'<meta property="og:type" content="article">'
        f'<meta property="og:url" content="{url}">'
        f'<meta property="og:site_name" content="{esc(outlet.name)}">'
        f'<meta property="article:published_time" content="{stamp}">'
        f'<link rel="canonical" href="{url}">'
        f'<link rel="stylesheet" href="/static/main.css">'
        f"<style>{css}</style>"
        f'<script type="application/ld+json">{json_ld}</script>'
        f"<script>window.dataLayer=window.dataLayer||[];{rng.choice(pool.scripts)}"
        f'{rng.choice(pool.scripts)}</script><script async src="/static/ads.js"></script></head>'
    )
    header = (
        f'<body class="single"><div id="cookie-banner">We use cookies to improve your '
        f'experience. <button>OK</button></div><header class="site-header">'
        f'<div class="logo"><a href="/">{esc(outlet.name)}</a></div>'
        f'<form class="search" action="/search"><input name="q"><button>Search</button></form>'
        f'<nav class="main-menu"><ul>{menu}</ul></nav>'
        f'<div class="ticker"><ul>{_pick(rng, pool.links, 6)}</ul></div></header>'
    )
    fixed = (
        f'{head}{header}<div class="container"><main>{article}'
        f'<section class="related">{_pick(rng, pool.cards, 6)}</section>'
        f'<section class="comments"><h3>{esc(lang.comments)}</h3>'
        f"{_pick(rng, pool.comments, rng.randint(3, 15))}</section></main>"
        f'<aside class="sidebar"><div class="widget"><h3>{esc(lang.most_read)}</h3>'
        f'<ul>{_pick(rng, pool.links, 10)}</ul></div><div class="widget ad" data-slot="side">'
        "</div>"
    )
    tail = (
        f'</aside></div><footer class="site-footer">{footer}<p class="copyright">'
        f"© {item.published.year} {esc(outlet.name)}. All rights reserved. Reproduction only "
        f"with a link.</p></footer><script>{rng.choice(pool.scripts)}</script></body></html>"
    )
    # Fill up to the page's size: half more markup (latest news, more cards), half inline state.
    room = target - len(fixed.encode()) - len(tail.encode()) - 120
    extra: list[str] = []
    grown = 0
    while grown < room // 2:
        heading = f'<div class="widget"><h3>{esc(rng.choice(lang.sections))}</h3><ul>'
        extra.append(heading)
        grown += len(heading.encode()) + 30
        for text, size in rng.choices(pool.links, k=8):
            extra.append(text)
            grown += size
        extra.append('</ul><div class="cards">')
        for text, size in rng.choices(pool.cards, k=3):
            extra.append(text)
            grown += size
        extra.append("</div></div>")
    state: list[str] = []
    while grown < room:
        text, size = rng.choice(pool.state)
        state.append(text)
        grown += size + 1
    script = (
        '<script>window.__INITIAL_STATE__={"page":{"type":"article"},"feed":['
        + ",".join(state)
        + "]};</script>"
    )
    return (fixed + "".join(extra) + script + tail).encode("utf-8")


def light_page(item: Item) -> bytes:
    """The article alone in minimal HTML: what ``/__bench/pages?light=1`` serves instead of the
    full page, to fill a monitor's database quickly before a warm cycle is measured (feeds, and
    so their ETags, stay the same)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in item.paragraphs[:2])
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(item.title)}'
        f"</title></head><body><article><h1>{html.escape(item.title)}</h1>{body}</article>"
        "</body></html>"
    ).encode()


# --- the server -------------------------------------------------------------------------------

_REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found"}
_PAGE_TYPE = "text/html; charset=utf-8"
_FEED_TYPE = "application/rss+xml; charset=utf-8"
_ROBOTS = b"User-agent: *\nDisallow: /search\n"


class Server:
    """The asyncio server of a ``Content``: one listening socket per outlet address."""

    def __init__(self, content: Content, latency: float = 0.0, use_gzip: bool = False) -> None:
        self.content = content
        self.latency = latency
        self.use_gzip = use_gzip
        self.light = False  # serve bare article pages (cheap to extract): see light_page
        self.port = 0
        self.counts: Counter[str] = Counter()
        self.sent_bytes = 0
        self._servers: list[asyncio.Server] = []
        self._by_host = {o.host: o.number for o in content.outlet_list}
        self._etags: dict[tuple[int, int], str] = {}  # (outlet, item or -1 for the feed)
        self.last_modified = formatdate(content.now.timestamp(), usegmt=True)

    async def start(self, port: int = 0) -> None:
        """Listen on every outlet's address, all on one port (chosen when ``port`` is 0)."""
        for _ in range(20):
            chosen = port or free_port(self.content.outlet_list[0].host)
            try:
                for outlet in self.content.outlet_list:
                    self._servers.append(
                        await asyncio.start_server(
                            self._connection, outlet.host, chosen, backlog=512, limit=65536
                        )
                    )
            except OSError:
                await self.close()
                if port:
                    raise
                continue
            self.port = chosen
            return
        raise OSError("no port free on every outlet address")

    async def close(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        for server in servers:
            await server.wait_closed()

    def base(self, k: int) -> str:
        return f"http://{self.content.outlet_list[k].host}:{self.port}"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local = writer.get_extra_info("sockname")
        k = self._by_host.get(local[0]) if local else None
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, version = lines[0].split(" ", 2)
                except ValueError:
                    await self._reply(writer, "HEAD", 400, {}, b"", close=True)
                    return
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                connection = headers.get("connection", "").lower()
                close = connection == "close" or (
                    version != "HTTP/1.1" and connection != "keep-alive"
                )
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)  # a body we have no use for
                status, reply_headers, body, delay = self._route(k, method, target, headers)
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._reply(writer, method, status, reply_headers, body, close)
                if close:
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _reply(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        close: bool,
    ) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
        headers.setdefault("Date", formatdate(usegmt=True))
        headers.setdefault("Server", "newsweb")
        if status != 304:
            headers["Content-Length"] = str(len(body))
        if close:
            headers["Connection"] = "close"
        lines += [f"{name}: {value}" for name, value in headers.items()]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if method != "HEAD" and status != 304:
            data += body
        writer.write(data)
        self.sent_bytes += len(data)
        await writer.drain()

    def _route(
        self, k: int | None, method: str, target: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes, float]:
        """(status, headers, body, delay) for one request."""
        parts = urlsplit(target)
        path = parts.path
        if path.startswith("/__bench/"):
            return self._control(path, parts.query)
        if method not in ("GET", "HEAD") or k is None:
            self.counts["other"] += 1
            return 400, {"Content-Type": "text/plain"}, b"bad request", self.latency
        base = self.base(k)
        if path == "/feed.xml":
            kind, key, content_type = "feed", (k, -1), _FEED_TYPE
            body = self.content.feed(k, base)
        elif path == "/robots.txt":
            self.counts["robots"] += 1
            return 200, {"Content-Type": "text/plain"}, _ROBOTS, self.latency
        elif path.startswith("/news/") and path.endswith(".html"):
            item = self.content.item_by_slug(k, path.rsplit("/", 1)[-1][: -len(".html")])
            if item is None or item.path != path:
                self.counts["not_found"] += 1
                return 404, {"Content-Type": "text/plain"}, b"not found", self.latency
            kind, key, content_type = "page", (k, item.number), _PAGE_TYPE
            body = light_page(item) if self.light else self.content.page(k, item.number, base)
        else:
            self.counts["not_found"] += 1
            return 404, {"Content-Type": "text/plain"}, b"not found", self.latency
        etag = self._etags.get(key)
        if etag is None:
            etag = self._etags[key] = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        reply = {"Content-Type": content_type, "ETag": etag, "Last-Modified": self.last_modified}
        if headers.get("if-none-match") == etag:
            self.counts[f"{kind}_304"] += 1
            return 304, reply, b"", self.latency
        self.counts[f"{kind}_200"] += 1
        if self.use_gzip and "gzip" in headers.get("accept-encoding", ""):
            body = _gzipped(body)
            reply["Content-Encoding"] = "gzip"
            reply["Vary"] = "Accept-Encoding"
        return 200, reply, body, self.latency

    def _control(self, path: str, query: str) -> tuple[int, dict[str, str], bytes, float]:
        if path == "/__bench/latency":
            self.latency = float(parse_qs(query).get("ms", ["0"])[0]) / 1000
        elif path == "/__bench/pages":
            self.light = parse_qs(query).get("light", ["0"])[0] == "1"
            self._etags = {key: tag for key, tag in self._etags.items() if key[1] < 0}
        elif path == "/__bench/reset":
            self.counts.clear()
            self.sent_bytes = 0
        elif path != "/__bench/stats":
            return 404, {"Content-Type": "text/plain"}, b"not found", 0.0
        cpu = time.process_time()
        stats = {
            "counts": dict(self.counts),
            "sent_bytes": self.sent_bytes,
            "cpu_seconds": cpu,
            "latency_ms": self.latency * 1000,
            "light": self.light,
            "port": self.port,
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(stats).encode(), 0.0


@lru_cache(maxsize=4096)
def _gzipped(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def serve(
    outlets: int,
    items: int,
    latency: float,
    seed: int,
    now: datetime | None,
    port: int,
    use_gzip: bool,
) -> None:
    content = Content(outlets, items, seed, now)
    server = Server(content, latency, use_gzip)
    await server.start(port)
    print(
        json.dumps({"port": server.port, "now": content.now.isoformat(), "pid": os.getpid()}),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Also stop when the parent closes our standard input (it died, or is done with us).
    if stat.S_ISFIFO(os.fstat(0).st_mode):
        loop.add_reader(0, lambda: stop.set() if not os.read(0, 1024) else None)
    await stop.wait()
    await server.close()


# --- running it from another process ----------------------------------------------------------


class NewsWeb:
    """The news web in a child process: ``with NewsWeb(100, 20, latency_ms=100) as web: ...``.

    ``web.feeds()`` gives (outlet, feed URL) pairs; ``web.content`` generates the same items in
    this process (titles, links, languages) without asking the server."""

    def __init__(
        self,
        outlets: int,
        items: int,
        *,
        latency_ms: float = 0.0,
        seed: int = 1,
        now: datetime | None = None,
        use_gzip: bool = False,
    ) -> None:
        self.content = Content(outlets, items, seed, now)
        self.latency_ms = latency_ms
        self.use_gzip = use_gzip
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> NewsWeb:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--outlets",
            str(self.content.outlets),
            "--items",
            str(self.content.items),
            "--latency-ms",
            str(self.latency_ms),
            "--seed",
            str(self.content.seed),
            "--now",
            self.content.now.isoformat(),
        ]
        if self.use_gzip:
            command.append("--gzip")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(5)
            raise RuntimeError(f"the news web did not start (exit {self.process.returncode})")
        self.port = int(json.loads(line)["port"])
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(10)

    def __enter__(self) -> NewsWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def base(self, k: int) -> str:
        return f"http://{self.content.outlet(k).host}:{self.port}"

    def feeds(self, outlets: Iterator[int] | range | None = None) -> list[tuple[Outlet, str]]:
        numbers = range(self.content.outlets) if outlets is None else outlets
        return [(self.content.outlet(k), f"{self.base(k)}/feed.xml") for k in numbers]

    def page_urls(self, outlets: range | None = None) -> list[str]:
        numbers = range(self.content.outlets) if outlets is None else outlets
        return [f"{self.base(k)}{item.path}" for k in numbers for item in self.content.items_of(k)]

    def control(self, what: str) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.base(0)}/__bench/{what}", timeout=10) as response:
            return dict(json.loads(response.read()))

    def stats(self) -> dict[str, object]:
        return self.control("stats")

    def reset(self) -> dict[str, object]:
        return self.control("reset")

    def set_latency(self, ms: float) -> None:
        self.control(f"latency?ms={ms:g}")
        self.latency_ms = ms

    def set_light(self, light: bool) -> None:
        """Serve bare article pages (True) or the full ones (False); see ``light_page``."""
        self.control(f"pages?light={int(light)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outlets", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now", help="ISO time of the newest items (default: now)")
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--gzip", action="store_true", help="gzip bodies for clients that ask")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now) if args.now else None
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(
                args.outlets,
                args.items,
                args.latency_ms / 1000,
                args.seed,
                now,
                args.port,
                args.gzip,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
