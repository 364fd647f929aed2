"""Property-based tests (hypothesis) of the pure parts: URL canonicalisation, text normalisation
and the tagger, configuration loading, and the schedule.

Bugs these properties found are kept as explicit ``@example``s, so that they stay fixed; one
that remains (a letter and a combining mark that compose only after lower-casing) is an
``@example(...).xfail(...)``, strict, so that fixing it shows.
"""

from __future__ import annotations

import io
import random
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from monitor.codes import FailureClass
from monitor.config import Config, load_config, parse_duration
from monitor.errors import ConfigError
from monitor.models import Tagging
from monitor.schedule import (
    History,
    SchedulePolicy,
    adaptive_interval,
    digest_trigger,
    failure_class,
    missed_slot,
    next_attempt,
    next_slot,
    retry_delay,
)
from monitor.tag import RuleTagger, TagInput, build_tagger
from monitor.tag import normalize as norm
from monitor.tag.normalize import clean, fold, normalize, sentence_spans
from monitor.text import first_sentences, html_to_text, squash
from monitor.urls import canonical_url, is_http_url

LANGUAGES: list[str | None] = [
    *["en", "ru", "az", "tr", "uz", "kk", "ka", "it", "ur", "fa", "ar"],
    None,
]
TURKIC = {"tr", "az"}

# =============================================================================================
# 1. URL canonicalisation
# =============================================================================================

# The tracking parameters as documented in monitor/urls.py (kept here independently, so that a
# change to the module's list is a visible decision): these names, any case, and these prefixes.
TRACKING_NAMES = {
    *("fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid", "twclid"),
    *("igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ocid", "cmpid", "at_medium", "at_campaign"),
}
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "_hs")


def is_tracking(name: str) -> bool:
    return name.lower() in TRACKING_NAMES or name.lower().startswith(TRACKING_PREFIXES)


_TRACKING_KEYS = [
    *("utm_source", "UTM_Medium", "utm_campaign", "utm_", "mtm_kwd", "pk_campaign", "_hsenc"),
    *("fbclid", "FBCLID", "gclid", "msclkid", "yclid", "_ga", "_gl", "at_medium", "igshid"),
    "utm%5Fsource",  # percent-encoded underscore: still utm_source once decoded
]
_PLAIN_KEYS = ["id", "page", "q", "lang", "utm", "utmost", "ga", "ref", "pk", "at_mediums", "Id"]
_QUERY_CHARS = [*"abcXYZ019-._~/?:@!$'()*,;", "%20", "+", "%2B", "%26", "%3D", "%C3%A9", "é", "п"]
_PATH_CHARS = [*"abcXYZ019-._~!$&'()*+,;=:@", "%20", "%2F", "%C3%A9", "é", "п", "//"]

_ascii_label = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789", min_size=1, max_size=10
)
_idn_label = st.text(alphabet="abcxyzäöüéßпривеРОСИЯəşğçмир例え日本ÄÖ", min_size=1, max_size=8)
_ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
# IPv6 literals and hosts made only of dots are covered by the explicit examples below.
_hosts = st.one_of(
    st.lists(_ascii_label, min_size=1, max_size=3).map(".".join),
    st.lists(st.one_of(_ascii_label, _idn_label), min_size=1, max_size=3).map(".".join),
    _ipv4,
)
_schemes = st.sampled_from(["http", "https", "HTTP", "Https", "hTTp"])
_chars = lambda alphabet, **kw: st.lists(st.sampled_from(alphabet), **kw).map("".join)  # noqa: E731
_query_pairs = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(_TRACKING_KEYS), st.sampled_from(_PLAIN_KEYS)),
        st.one_of(st.none(), _chars(_QUERY_CHARS, max_size=6)),  # None: a bare key, no "="
    ),
    max_size=6,
)


@st.composite
def http_urls(draw: st.DrawFn) -> dict[str, Any]:
    """A decorated absolute http(s) URL and the parts it was made of."""
    parts: dict[str, Any] = {
        "scheme": draw(_schemes),
        "host": draw(_hosts),
        "port": draw(st.none() | st.sampled_from([80, 443, 8080]) | st.integers(1, 65535)),
        "user": draw(st.none() | st.tuples(_ascii_label, st.none() | _ascii_label)),
        "path": draw(_chars(_PATH_CHARS, max_size=12)),
        "query": draw(_query_pairs),
        "fragment": draw(st.none() | st.text(alphabet="abc#?/=&é ", max_size=8)),
        "pad": draw(st.sampled_from(["", " ", "\t", "\n "])),
    }
    netloc = parts["host"] if parts["port"] is None else f"{parts['host']}:{parts['port']}"
    if parts["user"]:
        user, password = parts["user"]
        netloc = f"{user}{':' + password if password else ''}@{netloc}"
    url = f"{parts['scheme']}://{netloc}"
    if parts["path"]:
        url += "/" + parts["path"]
    if parts["query"]:
        url += "?" + "&".join(k if v is None else f"{k}={v}" for k, v in parts["query"])
    if parts["fragment"] is not None:
        url += "#" + parts["fragment"]
    parts["url"] = parts["pad"] + url + parts["pad"]
    return parts


def _raw_host(netloc: str) -> str:
    return netloc.rpartition("@")[2].rpartition(":")[0] or netloc.rpartition("@")[2]


_ASCII_PRINTABLE = "".join(map(chr, range(33, 127)))


def _pairs(query: str) -> list[tuple[str, str]]:
    """The query's pairs, values compared byte for byte: raw non-ASCII characters are taken as
    their UTF-8 bytes, and latin-1 turns every percent-encoded byte into one character."""
    encoded = quote(query, safe=_ASCII_PRINTABLE)
    return parse_qsl(encoded, keep_blank_values=True, encoding="latin-1")


@settings(max_examples=150, deadline=None)
@given(http_urls())
@example({"url": "https://example.com/s?q=%EF%F0%E8%E2%E5%F2&utm_source=rss", "port": None})
def test_canonical_url_properties(parts: dict[str, Any]) -> None:
    url = parts["url"]
    assert is_http_url(url)
    result = canonical_url(url)
    split = urlsplit(result)
    original = urlsplit(url.strip())
    # idempotent
    assert canonical_url(result) == result
    # still an http(s) URL, scheme lower-cased
    assert is_http_url(result)
    assert split.scheme == original.scheme.lower()
    assert result.startswith(original.scheme.lower() + "://")
    # no fragment survives
    assert "#" not in result and split.fragment == ""
    # host lower-cased (IDNA-encoded when it can be), as written in the result
    host = _raw_host(split.netloc)
    assert host == host.lower()
    # default port dropped, any other kept
    default = {"http": 80, "https": 443}[split.scheme]
    if parts["port"] in (None, default):
        assert split.port is None
    else:
        assert split.port == parts["port"]
    # user info kept
    assert split.username == original.username
    # the path is kept as written (percent-encoding included)
    assert split.path == (original.path or "/")
    # no tracking parameter survives; the others keep their order and (byte-exact) values
    kept = [(k, v) for k, v in _pairs(original.query) if not is_tracking(k)]
    assert _pairs(split.query) == kept
    assert not any(is_tracking(k) for k, _ in _pairs(split.query))
    if len(kept) == len(_pairs(original.query)):
        assert split.query == original.query  # nothing removed: the query is untouched


@settings(max_examples=100, deadline=None)
@given(http_urls(), st.booleans())
def test_canonical_url_is_case_and_idn_insensitive_in_the_host(
    parts: dict[str, Any], upper: bool
) -> None:
    """The same host written in another case, or in its ACE (xn--) form, gives the same URL."""
    url = parts["url"].strip()
    host = parts["host"]
    try:
        ace = host.lower().encode("idna").decode("ascii")
    except UnicodeError:
        assume(False)  # no ACE form to compare with (the module keeps such a host as it is)
    variants = [ace, ace.upper() if upper else ace.swapcase()]
    if host.isascii():
        variants.append(host.upper())
    at = url.index("://") + 3
    if parts["user"]:
        at = url.index("@", at) + 1
    expected = canonical_url(url)
    for spelling in variants:
        assert canonical_url(url[:at] + spelling + url[at + len(host) :]) == expected


@settings(max_examples=100, deadline=None)
@given(
    rel=_chars([*"abc/.?=&#", "..", "%20", "é"], max_size=12),
    base=http_urls(),
)
def test_canonical_url_with_a_base_is_absolute_http(rel: str, base: dict[str, Any]) -> None:
    joined = urljoin(base["url"].strip(), rel)
    assume(is_http_url(joined))  # "//." names no host: the link is junk, not a relative one
    result = canonical_url(rel, base["url"].strip())
    assert is_http_url(result)
    assert "#" not in result
    assert canonical_url(result) == result


_URLISH = [
    *"abcXYZ09.-_~:/?#[]@!$&'()*+,;=% \t\\",
    "http://",
    "https://",
    "HTTP://",
    "%4",
    "é",
    "::",
]
_urlish = st.one_of(
    st.text(),
    st.tuples(
        st.sampled_from(["http://", "https://", "HTTPS://", "//", "http:", " http://"]),
        _chars(_URLISH, max_size=20),
    ).map("".join),
)


@settings(max_examples=200, deadline=None)
@given(_urlish)
def test_url_functions_on_arbitrary_text(text: str) -> None:
    """is_http_url always answers with a bool; canonical_url returns a str or raises the
    documented ValueError, nothing else."""
    assert isinstance(is_http_url(text), bool)
    try:
        result = canonical_url(text)
    except ValueError:
        return
    assert isinstance(result, str)


def _clear_of_known_url_bugs(text: str) -> bool:
    """Leaves out the cases pinned by the explicit examples below (IPv6 literals, hosts of dots
    or spaces only, a path ending in white space), whose expected results differ."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return True
    host = (parts.hostname or "").strip(". \t")
    return "[" not in parts.netloc and bool(host) and parts.path == parts.path.rstrip()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_urlish.filter(_clear_of_known_url_bugs))
@example("HTTP://0? #")  # a query of white space alone came out as "? " and left on a second pass
@example("http://[::1]:8080/x")
@example("https://[2001:db8::1]/feed")
@example("http://./")
@example("HTTP:// ")
@example("http://example.com/news #top")
def test_canonical_url_keeps_http_urls_http(text: str) -> None:
    """An http(s) URL that canonical_url accepts stays an http(s) URL, and a fixed point."""
    assume(is_http_url(text))
    try:
        result = canonical_url(text)
    except ValueError:
        return
    assert is_http_url(result)
    assert "#" not in result
    assert canonical_url(result) == result


# =============================================================================================
# 2. Text normalisation
# =============================================================================================

# Documented in monitor/tag/normalize.py: invisible characters (soft hyphen, zero-width spaces
# and joiners, BOM, bidi marks), tatweel, harakat U+064B-U+065F, superscript alef U+0670 and
# Quranic marks U+06D6-U+06ED; plus whatever the module lists itself.
DOC_REMOVED = set("\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e")
DOC_REMOVED |= {"\u2066", "\u2067", "\u2068", "\u2069", "\u0640", "\u0670"}
DOC_REMOVED |= {chr(c) for c in [*range(0x064B, 0x0660), *range(0x06D6, 0x06EE)]}
REMOVED = DOC_REMOVED | set(norm._INVISIBLE) | set(norm._ARABIC_MARKS)

_SCRIPT_SOUP = [
    *"AaBbIiİıЁёЕеΣσςΟΔ KkÅåJjWwYyTtHh",  # Latin, Turkic I, Cyrillic, Greek
    *"يىكہەۀةۃأإٱآھۓیکهاےبنمل",  # Arabic-script variants
    *"ქართულიӘәҚқҒғŞşÇçĞğ",  # Georgian, Kazakh, Turkic
    *sorted(REMOVED),
    *"\u0300\u0301\u0307\u0308\u030a\u030c\u0323\u0331\u0654\u0655",  # combining marks
    *"’‘ʼʻ`´′ʹ‛'‐‑‒-–—",  # apostrophes and hyphens
    *".!?…۔؟»”)\"' \n\t\u00a0",  # sentence ends, closing quotes, white space
    *"ﬁ①ｆＡ\ufe70\ufefb\u2028ß",  # compatibility characters, presentation forms
    "Mr.",
    "г.",
    "2.5",
    "\n\n",
]
texts = st.one_of(
    st.text(),  # any unicode text (hypothesis leaves out surrogates)
    st.lists(st.sampled_from(_SCRIPT_SOUP), max_size=30).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(LANGUAGES))
def test_fold_is_length_preserving_and_idempotent(text: str, language: str | None) -> None:
    folded = fold(text, language)
    assert len(folded) == len(text)
    assert len(fold(clean(text), language)) == len(clean(text))
    assert fold(folded, language) == folded


@settings(max_examples=300, deadline=None)
@given(texts)
def test_clean_removes_invisible_characters_and_is_idempotent(text: str) -> None:
    cleaned = clean(text)
    assert not REMOVED & set(cleaned)
    assert clean(cleaned) == cleaned
    assert unicodedata.is_normalized("NFKC", cleaned)


def _composes_once(text: str) -> bool:
    """Leaves out the known bug pinned below: an upper-case letter whose lower-case form composes
    with the combining mark after it (there is no precomposed upper-case letter to start from),
    so that ``normalize`` returns text that NFKC would still change."""
    return all(unicodedata.is_normalized("NFKC", normalize(text, lang)) for lang in LANGUAGES)


@settings(max_examples=300, deadline=None)
@given(texts.filter(_composes_once), st.sampled_from(LANGUAGES))
@example("J\u030c", "en").xfail(
    raises=AssertionError,
    reason="bug: lower-casing after NFKC leaves text that NFKC still changes: J+caron -> "
    "'j\\u030c' (2 chars) on the first pass, 'ǰ' (1 char) on the second",
)
@example("W\u030a", "tr").xfail(raises=AssertionError, reason="same bug: W+ring -> 'w\\u030a'/'ẘ'")
def test_normalize_is_idempotent(text: str, language: str | None) -> None:
    once = normalize(text, language)
    assert normalize(once, language) == once


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"IİıiaAzZ .'’-", "KINO", "İSTANBUL"]), max_size=20).map("".join))
def test_turkic_dotted_and_dotless_i(text: str) -> None:
    """I→ı only in Turkish and Azerbaijani; İ→i everywhere; elsewhere the language changes
    nothing in Latin text."""
    plain = fold(text, "en")
    for language in LANGUAGES:
        folded = fold(text, language)
        for i, char in enumerate(text):
            if char == "I":
                assert folded[i] == ("ı" if language in TURKIC else "i")
            elif char == "İ":
                assert folded[i] == "i"
            else:
                assert folded[i] == plain[i]


@settings(max_examples=300, deadline=None)
@given(texts)
def test_sentence_spans(text: str) -> None:
    spans = sentence_spans(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)  # in bounds, ordered, disjoint, non-empty
        assert text[start:end] == text[start:end].strip()
        previous_end = end
    # every character outside the sentences is white space
    covered = set().union(*(range(s, e) for s, e in spans)) if spans else set()
    assert all(c.isspace() for i, c in enumerate(text) if i not in covered)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_squash(text: str) -> None:
    squashed = squash(text)
    assert squash(squashed) == squashed
    assert squashed == squashed.strip()
    assert "\n\n\n" not in squashed and "  " not in squashed
    assert squashed.split() == text.split()


_HTML = [*"<>/=\"' &;#abpx\n\t\u00a0é", "<p>", "</p>", "<br>", "<div>", "<b>", "</b>"]
_HTML += ["<script>x</script>", "&amp;", "&lt;", "&#233;", "<!--", "-->", "<li>", "<h1>"]


_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f]")


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(), _chars([*_HTML, "\x1f", "\x0b"], max_size=30)).filter(
        # the known bug pinned below: a control character in the tail of a block element
        lambda fragment: not (_CONTROL.search(fragment) and "<" in fragment)
    )
)
@example("<BR>\x1f")
@example("<p>a</p>\x0b")
def test_html_to_text_never_raises(fragment: str) -> None:
    text = html_to_text(fragment)
    assert squash(text) == text


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(1, 5), st.integers(1, 400))
def test_first_sentences_respects_the_limit(text: str, count: int, max_chars: int) -> None:
    summary = first_sentences(text, count, max_chars)
    assert len(summary) <= max_chars + 1  # the "…" that marks a cut
    assert summary == summary.strip() or summary.endswith("…")


# --- the tagger as a whole ---------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "tag"
_CASES = [
    case
    for path in sorted(DATA.glob("cases*.yaml"))
    for case in YAML(typ="safe").load(path.read_text("utf-8")) or []
]
# Sentences of the hand-written cases: mixed with noise, they make stories that do get tagged.
SENTENCES = [
    s
    for case in _CASES
    for s in re.split(r"(?<=[.!?۔؟])\s+", f"{case['title']}. {case['text']}")
    if s.strip()
]
COUNTRY_CODES = {str(c) for c in Locale("en").territories if re.fullmatch("[A-Z]{2}", str(c))}
_NOISE = st.lists(st.sampled_from(_SCRIPT_SOUP), max_size=4).map("".join)
_story = st.lists(
    st.one_of(st.sampled_from(SENTENCES), _NOISE, st.text(max_size=15)), max_size=10
).map(" ".join)


@pytest.fixture(scope="module")
def tagger() -> RuleTagger:
    return build_tagger()


def _squash(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=70, deadline=None)
@given(
    title=_story,
    lead=st.one_of(st.just(""), _story),
    text=_story,
    language=st.sampled_from([*LANGUAGES, "de", "xx"]),
    country=st.sampled_from([None, "AZ", "TR", "IT"]),
)
def test_tagger(
    tagger: RuleTagger, title: str, lead: str, text: str, language: str | None, country: str | None
) -> None:
    doc = TagInput(title=title, text=text, lead=lead, language=language, country=country)
    result = tagger.tag(doc)
    assert isinstance(result, Tagging)
    assert tagger.tag(doc) == result  # deterministic
    assert 0.0 <= result.score <= 1.0
    assert result.tagged == bool(result.topics) and (result.tagged or result.score == 0.0)
    assert result.language is None or result.language in (*tagger.languages, language)
    assert len(set(result.countries)) == len(result.countries)
    for code in result.countries:
        assert re.fullmatch("[A-Z]{2}", code) and (code == "EU" or code in COUNTRY_CODES)
    # Evidence: the term as written in the display text (clean) of one zone; the excerpt is that
    # zone's text around it, white space squashed, "…" where it was cut (matcher.excerpt).
    zones = [clean(z) for z in (title, lead, text) if clean(z).strip()]
    for evidence in result.evidence:
        assert any(evidence.term in zone for zone in zones), evidence
        body = evidence.text.removeprefix("…").removesuffix("…")
        assert any(_squash(body) in _squash(zone) for zone in zones), evidence
        assert _squash(evidence.term) in evidence.text


# =============================================================================================
# 3. Configuration loading
# =============================================================================================

# What ruamel.yaml counts as a line break for its marks (not U+0085, U+2028 or U+2029).
_LINE_BREAK = re.compile("\r\n|[\r\n]")


def _lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


_DUMPER = YAML(typ="safe", pure=True)
_DUMPER.default_flow_style = False
_DUMPER.allow_unicode = True


def dump(document: Any) -> str:
    buffer = io.StringIO()
    _DUMPER.dump(document, buffer)
    return buffer.getvalue()


_LONG_NUMBER = re.compile(r"\d{7}")  # huge durations overflow: a known bug, see the examples
_short_text = st.text(max_size=12).filter(lambda s: not _LONG_NUMBER.search(s))
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=False), _short_text
)
_any_value = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_short_text, inner, max_size=3),
    max_leaves=6,
)

_GOOD_URLS = [
    "https://example.com/feed",
    "http://news.example.az/rss.xml",
    "https://пример.рф/лента",
    "https://example.org:8443/a?b=c",
]
_OPTIONAL_GOOD = {
    "language": st.sampled_from(["en", "ru", "az", "tr", "uz", "kk", "ka", "it", "ur", "EN"]),
    "country": st.sampled_from(["AZ", "tr", "GE", "UZ", "KZ", "IT", " ge "]),
    "interval": st.sampled_from(["30m", "2h", "1h30m", "1d", "90s", " 45 min ", "1d 2h"]),
    "enabled": st.booleans(),
    "robots": st.booleans(),
    "adaptive": st.booleans(),
    "kind": st.sampled_from(["feed", "sitemap"]),
}
# (field, bad value): each makes the entry invalid.
_BAD_FIELDS = [
    *[("url", v) for v in ["ftp://example.com/x", "not a url", "", 42, None, ["https://a.b"]]],
    *[("url", v) for v in ["http://", "example.com/feed", "javascript:alert(1)"]],
    *[("language", v) for v in ["english", "x1", "zzz", 7, "", "e n", "en-US"]],
    *[("country", v) for v in ["XX", "AZE", 1, "", "a", "Azerbaijan"]],
    *[("interval", v) for v in ["30", "0s", "59s", 30, "abc", "-1h", "1.5h", "", None, "1 hour"]],
    *[("kind", v) for v in ["rss", "", 1, "HTML"]],
    *[("enabled", v) for v in ["maybe", [1], {"a": 1}, None]],
    *[("name", v) for v in ["", "   ", 12, None, ["x"]]],
    ("selector", "h3 a"),  # on a feed: for kind html only
    ("pattern", "/news/"),
    ("kind", "html"),  # html without selector or pattern
]
_BAD_HTML = [{"kind": "html", "selector": "[["}, {"kind": "html", "pattern": "("}]
_BAD_HTML += [{"kind": "html", "selector": " "}, {"kind": "html", "pattern": ""}]
_GOOD_HTML = [{"kind": "html", "selector": "h3.title a"}, {"kind": "html", "pattern": r"/news/\d+"}]
_SOURCE_KEYS = ["name", "url", "language", "country", "enabled", "interval", "kind", "robots"]

_GOOD_TOP: dict[str, st.SearchStrategy[Any]] = {
    "storage": st.sampled_from(["storage/monitor.db", "sqlite:///:memory:", "data/x.db"]),
    "reports": st.sampled_from(["reports/", "out", "./r"]),
    "timezone": st.sampled_from(["UTC", "Asia/Baku", "Europe/Rome", "America/New_York"]),
    "fetch": st.fixed_dictionaries(
        {},
        optional={
            "timeout": st.sampled_from(["10s", "1m", "0.5s"]),
            "retries": st.integers(0, 10),
            "per_host": st.integers(1, 32),
            "contact": st.just("ops@example.com"),
            "host_interval": st.sampled_from(["0s", "1s"]),
        },
    ),
    "schedule": st.fixed_dictionaries(
        {},
        optional={
            "min_interval": st.sampled_from(["1m", "5m"]),
            "max_interval": st.sampled_from(["1d", "12h"]),
            "jitter": st.floats(0, 0.5),
            "grace": st.sampled_from(["1h", "30m"]),
        },
    ),
    "digest": st.fixed_dictionaries(
        {},
        optional={
            "locale": st.sampled_from(["en", "ru", "az"]),
            "group_by": st.sampled_from(["aspect", "country", "none"]),
            "time": st.sampled_from(["08:00", "7:30", "30 7 * * mon-fri", "0 8 * * 1"]),
            "day": st.sampled_from(["previous", "current"]),
        },
    ),
}
_BAD_TOP: list[tuple[tuple[str, ...], Any]] = [
    *[(("timezone",), v) for v in ["Mars/Olympus", "not a zone", "", 5, "UTC+4"]],
    *[(("fetch", "retries"), v) for v in [11, -1, "x", 2.5]],
    *[(("fetch", "timeout"), v) for v in ["0s", 30, "soon"]],
    (("fetch", "contact"), "has spaces"),
    *[(("schedule", "jitter"), v) for v in [0.9, -0.1, "x"]],
    (("schedule", "min_interval"), "2d"),  # longer than max_interval
    *[(("digest", "time"), v) for v in ["25:00", 800, "* * *", "61 * * * *", "0 8 * * 9"]],
    *[(("digest", "locale"), v) for v in ["de", 1]],
    (("digest", "email"), {"host": "smtp.example.com"}),  # no sender, no recipients
    (("digest", "webhooks"), [{"url": "not a url"}]),
    (("topics",), ["missing-topic.yaml"]),
    (("sources",), []),
    (("sources",), "https://example.com/feed"),
]
_TOP_KEYS = ["storage", "reports", "timezone", "fetch", "schedule", "digest", "topics", "sources"]


@st.composite
def _source(draw: st.DrawFn, name: str, index: int) -> dict[str, Any]:
    url = f"{draw(st.sampled_from(_GOOD_URLS))}/{index}"
    entry: dict[str, Any] = {"name": name, "url": url}
    entry.update(draw(st.fixed_dictionaries({}, optional=_OPTIONAL_GOOD)))
    if draw(st.integers(0, 5)) == 0:
        entry.update(draw(st.sampled_from(_GOOD_HTML)))
    return entry


_names = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]),
    min_size=1,
    max_size=15,
).filter(lambda s: s.strip() and not _LONG_NUMBER.search(s))


@st.composite
def config_documents(draw: st.DrawFn) -> tuple[Any, bool | None]:
    """A YAML document for sources.yaml and whether it is valid (None: not known)."""
    names = draw(st.lists(_names, min_size=1, max_size=5, unique_by=lambda s: s.strip().casefold()))
    sources: list[Any] = [draw(_source(name, i)) for i, name in enumerate(names)]
    document: dict[str, Any] = draw(st.fixed_dictionaries({}, optional=_GOOD_TOP))
    document["sources"] = sources
    valid: bool | None = True
    for _ in range(draw(st.integers(0, 3))):
        mutation = draw(st.integers(0, 9))
        i = draw(st.integers(0, len(sources) - 1))
        entry = sources[i]
        if mutation == 0 and isinstance(entry, dict):  # a bad value
            key, value = draw(st.sampled_from(_BAD_FIELDS))
            entry[key] = value
            if key in ("selector", "pattern"):
                entry["kind"] = draw(st.sampled_from(["feed", "sitemap"]))
            elif (key, value) == ("kind", "html"):
                entry.pop("selector", None)
                entry.pop("pattern", None)
            valid = False
        elif mutation == 1 and isinstance(entry, dict):  # a bad html source
            entry.update(draw(st.sampled_from(_BAD_HTML)))
            valid = False
        elif mutation == 2 and isinstance(entry, dict):  # an unknown key
            entry[draw(st.sampled_from(["title", "URL", "lang", "every", ""]))] = draw(_any_value)
            valid = False
        elif mutation == 3 and isinstance(entry, dict):  # a required key missing
            entry.pop(draw(st.sampled_from(["name", "url"])), None)
            valid = False
        elif mutation == 4 and len(sources) > 1:  # a duplicate name or URL
            other = sources[(i + 1) % len(sources)]
            name, url = (other.get(k) if isinstance(other, dict) else None for k in ("name", "url"))
            if isinstance(entry, dict) and isinstance(name, str) and draw(st.booleans()):
                same = name.upper().casefold() == name.casefold()
                entry["name"] = f" {name.upper() if same else name} "  # case and spaces differ
                valid = False
            elif isinstance(entry, dict) and isinstance(url, str):
                entry["url"] = url
                valid = False
        elif mutation == 5:  # not a mapping
            sources[i] = draw(st.sampled_from(["just a string", 5, None, [], ["a", "b"]]))
            valid = False
        elif mutation == 6:  # any value for a source field: validity unknown
            if isinstance(entry, dict):
                entry[draw(st.sampled_from(_SOURCE_KEYS))] = draw(_any_value)
                valid = None if valid else valid
        elif mutation == 7:  # a bad top-level value
            path, value = draw(st.sampled_from(_BAD_TOP))
            target = document
            for key in path[:-1]:
                if not isinstance(target.get(key), dict):
                    target[key] = {}  # an earlier mutation may have put a scalar there
                target = target[key]
            target[path[-1]] = value
            valid = False
        elif mutation == 8:  # an unknown top-level key
            key = draw(_short_text.filter(lambda k: k not in _TOP_KEYS))
            document[key] = draw(_any_value)
            valid = False
        else:  # any value for a setting, or a whole section: validity unknown
            section = draw(st.sampled_from(["fetch", "schedule", "digest", "topics"]))
            key = draw(st.sampled_from(["timeout", "retries", "jitter", "time", "grace", "x"]))
            value = draw(_any_value)
            document[section] = value if draw(st.booleans()) else {key: value}
            valid = None if valid else valid
    return document, valid


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties-config")


def _check_load(path: Path, text: str) -> Config | ConfigError:
    """load_config returns a Config or raises a ConfigError whose problems all name the file
    and a line of it (or no line); any other exception escapes and fails the test."""
    try:
        return load_config(path)
    except ConfigError as exc:
        assert exc.problems
        count = len(_lines(text))
        for problem in exc.problems:
            assert problem.file == str(path)
            assert problem.line is None or 1 <= problem.line <= count, (problem, count)
        return exc


_ENTRY = {"name": "A", "url": "https://example.com/feed"}


@settings(max_examples=150, deadline=None)
@given(config_documents())
@example(({"sources": [{**_ENTRY, "interval": "9999999999d"}]}, False))
@example(({"fetch": {"timeout": "9999999999d"}, "sources": [_ENTRY]}, False))
@example(({"timezone": "Europe", "sources": [_ENTRY]}, False))
@example(({"storage": "~no-such-user-here/m.db", "sources": [_ENTRY]}, False))
@example(({"reports": "~no-such-user-here/r", "sources": [_ENTRY]}, False))
@example(({"storage": "a\x00b", "sources": [_ENTRY]}, False))
def test_load_config_on_generated_documents(
    config_dir: Path, document: tuple[Any, bool | None]
) -> None:
    data, valid = document
    text = dump(data)
    path = config_dir / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    outcome = _check_load(path, text)
    if valid is True:
        assert isinstance(outcome, Config), outcome
    elif valid is False:
        assert isinstance(outcome, ConfigError), data
    if isinstance(outcome, Config):
        entries = data["sources"]
        assert len(outcome.sources) == len(entries)
        assert [s.name for s in outcome.sources] == [e["name"].strip() for e in entries]
        assert [s.url for s in outcome.sources] == [e["url"] for e in entries]
        for source in outcome.sources:
            assert source.interval >= timedelta(minutes=1)
            assert source.language is None or source.language == source.language.lower()
            assert source.country is None or source.country == source.country.upper()
    else:
        # a problem about a key that is in the file points at that key's line
        lines = _lines(text)
        for problem in outcome.problems:
            node: Any = data
            for part in problem.field.split(".") if problem.field else ():
                key: Any = int(part) if part.isdigit() and isinstance(node, list) else part
                if (isinstance(node, dict) and key in node) or (
                    isinstance(node, list) and isinstance(key, int) and key < len(node)
                ):
                    node = node[key]
                else:
                    break
            else:
                last = problem.field.rsplit(".", 1)[-1]
                if problem.line is not None and last.isprintable() and not last.isdigit() and last:
                    assert last in lines[problem.line - 1], (problem, lines)


# Explicit tags whose constructor in ruamel.yaml raises something other than a YAMLError.
_CRASHING_TAG = re.compile(r"!!(int|float|timestamp|bool|set|omap)")
_YAMLISH = [*":-[]{}&*!|>'\"%@`#,? \n\t", "\n  ", "- ", ": ", "sources", "name", "url", "a", "1"]
_YAMLISH += ["!!str", "!!map", "!!seq", "!!null", "!!binary", "!!pairs", "&x", "*x", "<<", "---"]


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.text(), _chars(_YAMLISH, max_size=40)).filter(
        # the known bug pinned below: explicit tags that crash ruamel's constructors
        lambda text: not _CRASHING_TAG.search(text)
    )
)
@example("!!int x")
@example("sources: !!float many")
@example("!!timestamp 2020-99-99")
@example("enabled: !!bool maybe")
@example("!!int")
@example("!!set x")
def test_load_config_on_arbitrary_text(config_dir: Path, text: str) -> None:
    path = config_dir / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    outcome = _check_load(path, path.read_text(encoding="utf-8"))
    assert isinstance(outcome, ConfigError)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=40).filter(lambda data: b"!!" not in data))  # see above: tags
def test_load_config_on_arbitrary_bytes(config_dir: Path, data: bytes) -> None:
    path = config_dir / "sources.yaml"
    path.write_bytes(data)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = ""
    assert isinstance(_check_load(path, text), ConfigError)


def test_pseudo_territories_are_not_source_countries(config_dir: Path) -> None:
    path = config_dir / "pseudo.yaml"
    path.write_text(dump({"sources": [{**_ENTRY, "country": "ZZ"}]}), encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)


# --- durations ----------------------------------------------------------------------------

# Each component below 10**6: a number that overflows timedelta is a known bug (see below).
_component = st.integers(0, 10**6 - 1)


@settings(max_examples=300, deadline=None)
@given(_component, _component, _component, _component, st.sampled_from(["", " "]))
def test_parse_duration_of_days_hours_minutes_seconds(
    d: int, h: int, m: int, s: int, gap: str
) -> None:
    expected = timedelta(days=d, hours=h, minutes=m, seconds=s)
    assert parse_duration(f"{d}d{h}h{m}m{s}s") == expected
    assert parse_duration(f"{gap}{d}{gap}d{gap}{h}h{gap}{m}{gap}min{gap}{s}s{gap}") == expected
    assert parse_duration(f"{h}h") == timedelta(hours=h)
    assert parse_duration(f"{m}m{s}s") == timedelta(minutes=m, seconds=s)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(), _chars([*"0123456789dhms .-+e", "min", "1.5"], max_size=12)).filter(
        lambda text: not _LONG_NUMBER.search(text)  # the known overflow bug, pinned below
    )
)
@example("9999999999d")
@example("1" + "0" * 400 + "s")
def test_parse_duration_raises_only_value_error(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ValueError:
        return
    assert duration >= timedelta(0)
    assert re.search(r"\d", text) and text.strip()


# =============================================================================================
# 4. Schedule
# =============================================================================================

CAPS = {
    FailureClass.TEMPORARY: timedelta(hours=6),
    FailureClass.SOFT: timedelta(hours=12),
    FailureClass.HARD: timedelta(hours=24),
}
_codes = st.one_of(
    st.none(),
    st.sampled_from(["fetch.timeout", "fetch.connect", "fetch.bad_url", "parse.not_a_feed"]),
    st.integers(100, 599).map(lambda n: f"fetch.http_{n}"),
    st.text(max_size=15),
)
_intervals = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=7))
_failures = st.one_of(st.integers(0, 40), st.integers(0, 10**9))


@settings(max_examples=300, deadline=None)
@given(_intervals, _failures, _codes)
# Regressions: interval * 4.0**n overflowed timedelta after 18 hard failures, and 2.0**1100 a
# float, before the cap was applied (found by this test, fixed in monitor/schedule.py).
@example(timedelta(hours=1), 18, "fetch.http_404")
@example(timedelta(minutes=1), 1100, "fetch.timeout")
def test_retry_delay_bounds(interval: timedelta, failures: int, code: str | None) -> None:
    history = History(timedelta(days=30), 10, failures, code)
    delay = retry_delay(interval, history)
    cap = CAPS[failure_class(code)]
    assert interval <= delay <= max(cap, interval)
    assert delay <= max(timedelta(hours=24), interval)
    if failures == 0:
        assert delay == interval
    # one more failure never shortens the wait
    more = History(timedelta(days=30), 10, failures + 1, code)
    assert retry_delay(interval, more) >= delay


@settings(max_examples=300, deadline=None)
@given(
    attempted=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    configured=_intervals,
    watched=st.timedeltas(timedelta(0), timedelta(days=60)),
    items=st.integers(0, 5000),
    failures=_failures,
    code=_codes,
    jitter=st.floats(0, 0.5),
    adaptive=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_next_attempt_jitter_bounds(
    attempted: datetime,
    configured: timedelta,
    watched: timedelta,
    items: int,
    failures: int,
    code: str | None,
    jitter: float,
    adaptive: bool,
    seed: int,
) -> None:
    policy = SchedulePolicy(jitter=jitter)
    history = History(watched, items, failures, code)
    delay = retry_delay(adaptive_interval(configured, history, policy, adaptive), history)
    due = next_attempt(
        attempted, configured, history, policy, adaptive=adaptive, rng=random.Random(seed)
    )
    assert delay * (1 - jitter) <= due - attempted <= delay * (1 + jitter)
    assert due > attempted


# --- the digest's crontab lines ---------------------------------------------------------------


def _cron_field(low: int, high: int) -> st.SearchStrategy[str]:
    single = st.integers(low, high).map(str)
    bounds = st.tuples(st.integers(low, high), st.integers(low, high)).map(sorted)
    span = bounds.map(lambda b: f"{b[0]}-{b[1]}")
    step = st.integers(1, high - low).map(lambda n: f"*/{n}")
    # APScheduler wants a step no longer than its range ("1-1/1" is refused): none generated
    stepped = (
        st.tuples(bounds, st.integers(1, high - low))
        .filter(lambda t: t[1] <= t[0][1] - t[0][0])
        .map(lambda t: f"{t[0][0]}-{t[0][1]}/{t[1]}")
    )
    item = st.one_of(single, span, step, stepped)
    return st.one_of(st.just("*"), st.lists(item, min_size=1, max_size=3).map(",".join))


_DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_weekday_bounds = st.tuples(st.integers(0, 7), st.integers(0, 7)).map(sorted)
# Weekdays as crontab(5) writes them: 0-7 (0 and 7 are Sunday), names, ranges, steps.
_weekday_item = st.one_of(
    st.integers(0, 7).map(str),
    st.sampled_from(_DAY_NAMES),
    _weekday_bounds.map(lambda b: f"{b[0]}-{b[1]}"),
    st.tuples(st.integers(0, 6), st.integers(0, 6))
    .map(sorted)
    .map(lambda b: f"{_DAY_NAMES[b[0]]}-{_DAY_NAMES[b[1]]}"),
    st.integers(1, 7).map(lambda n: f"*/{n}"),
    st.tuples(_weekday_bounds, st.integers(1, 7)).map(lambda t: f"{t[0][0]}-{t[0][1]}/{t[1]}"),
)
_weekdays = st.one_of(st.just("*"), st.lists(_weekday_item, min_size=1, max_size=3).map(",".join))


@st.composite
def crontab_lines(draw: st.DrawFn) -> str:
    minute, hour = draw(_cron_field(0, 59)), draw(_cron_field(0, 23))
    day, month, weekday = draw(_cron_field(1, 31)), draw(_cron_field(1, 12)), draw(_weekdays)
    if not day.startswith("*") and not weekday.startswith("*"):
        # both restricted: refused by digest_trigger (crontab(5) would match either one)
        day = "*"
    return f"{minute} {hour} {day} {month} {weekday}"


def _expand(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    number = lambda text: _DAY_NAMES.index(text) if text in _DAY_NAMES else int(text)  # noqa: E731
    for item in field.split(","):
        body, _, step = item.partition("/")
        if body == "*":
            first, last = low, high
        else:
            a, _, b = body.partition("-")
            first, last = number(a), number(b or a)
        values.update(range(first, last + 1, int(step or 1)))
    return values


def reference_next(line: str, after: datetime) -> datetime | None:
    """The next minute after ``after`` (UTC) that the crontab line names, per crontab(5)."""
    fields = line.split()
    minutes, hours = _expand(fields[0], 0, 59), _expand(fields[1], 0, 23)
    days, months = _expand(fields[2], 1, 31), _expand(fields[3], 1, 12)
    weekdays = {d % 7 for d in _expand(fields[4], 0, 7)}  # 0 and 7: Sunday
    # "If both fields are restricted (i.e., don't start with *)", either one matching will do
    either = not fields[2].startswith("*") and not fields[4].startswith("*")
    start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = start.replace(hour=0, minute=0)
    for _ in range(366 * 9):
        day_ok = day.day in days
        weekday_ok = (day.weekday() + 1) % 7 in weekdays
        if day.month in months and ((day_ok or weekday_ok) if either else day_ok and weekday_ok):
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    slot = day.replace(hour=hour, minute=minute)
                    if slot >= start:
                        return slot
        day += timedelta(days=1)
    return None


_moments = st.datetimes(datetime(2000, 1, 1), datetime(2090, 1, 1), timezones=st.just(UTC))


def test_crontab_restricting_both_days_is_refused() -> None:
    # crontab(5) fires on either the 1st or a Monday; APScheduler would need both.
    with pytest.raises(ValueError, match="both the day of the month and the weekday"):
        digest_trigger("0 8 1 * 1", ZoneInfo("UTC"))


@settings(max_examples=100, deadline=None)
@given(crontab_lines(), _moments)
# Regressions (found by this test, fixed in monitor/schedule.py): weekday numbers were turned
# into names one by one, so 0-6 became 'sun-sat' (refused by Monday-first APScheduler), 0-7
# 'sun-sun' (Sundays only), */2 '*/tue' (refused), and 1-5/2 'mon-fri/tue' (step dropped).
@example("30 7 * * 0-6", datetime(2025, 3, 5, 12, tzinfo=UTC))
@example("0 8 * * 0-7", datetime(2025, 3, 5, 12, tzinfo=UTC))
@example("0 8 * * */2", datetime(2025, 3, 5, 12, tzinfo=UTC))
@example("0 8 * * 1-5/2", datetime(2025, 3, 5, 12, tzinfo=UTC))
def test_crontab_next_slot(line: str, now: datetime) -> None:
    trigger = digest_trigger(line, ZoneInfo("UTC"))
    slot = next_slot(trigger, now)
    expected = reference_next(line, now)
    assert slot == expected, (line, now, slot, expected)
    if slot is not None:
        assert slot > now


_ZONES = ["UTC", "Asia/Baku", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
_ZONES += ["Asia/Tehran", "Pacific/Chatham", "Europe/London"]
_day_times = st.tuples(st.integers(0, 23), st.integers(0, 59))


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(crontab_lines(), _day_times.map(lambda t: f"{t[0]}:{t[1]:02d}")),
    st.sampled_from(_ZONES),
    _moments,
)
def test_digest_trigger_fires_after_now_in_any_zone(line: str, zone: str, now: datetime) -> None:
    trigger = digest_trigger(line, ZoneInfo(zone))
    slot = next_slot(trigger, now)
    if slot is None:  # a line with no date at all (31 February): never
        assert ":" not in line and reference_next(line, now) is None
        return
    assert slot > now
    following = next_slot(trigger, slot)
    assert following is None or following > slot
    if ":" in line:  # a time of day: fires at that wall-clock time, unless a DST gap skips it
        hour, minute = map(int, line.split(":"))
        local = slot.astimezone(ZoneInfo(zone))
        wall = local.replace(hour=hour, minute=minute, fold=0)
        exists = wall.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) == (
            wall.replace(tzinfo=None)
        )
        assert (local.hour, local.minute) == (hour, minute) or not exists, (line, zone, slot)


@settings(max_examples=100, deadline=None)
@given(
    line=crontab_lines(),
    zone=st.sampled_from(_ZONES),
    now=_moments,
    grace=st.timedeltas(timedelta(0), timedelta(hours=6)),
    last_done=st.none() | st.timedeltas(timedelta(days=-3), timedelta(days=3)),
)
def test_missed_slot_is_within_grace(
    line: str, zone: str, now: datetime, grace: timedelta, last_done: timedelta | None
) -> None:
    trigger = digest_trigger(line, ZoneInfo(zone))
    done = None if last_done is None else now + last_done
    slot = missed_slot(trigger, now, done, grace)
    if slot is None:
        return
    assert now - grace <= slot <= now
    assert done is None or slot > done
    # the latest slot: the next one is in the future
    following = next_slot(trigger, slot)
    assert following is None or following > now
