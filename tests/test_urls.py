from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.urls import canonical_url, is_http_url


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "/a/b?utm_source=rss&id=3#comments",
            "HTTP://Example.COM:80/x",
            "http://example.com/a/b?id=3",
        ),
        ("https://example.com:443/news?fbclid=abc", None, "https://example.com/news"),
        ("https://example.com:8443/news?b=2&a=1", None, "https://example.com:8443/news?b=2&a=1"),
        ("https://example.com", None, "https://example.com/"),
        (
            "https://пример.рф/новость?utm_medium=feed",
            None,
            "https://xn--e1afmkfd.xn--p1ai/новость",
        ),
        ("article.html", "https://example.com/news/", "https://example.com/news/article.html"),
        ("  https://example.com/x  ", None, "https://example.com/x"),
    ],
)
def test_canonical(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(url, base) == expected


def test_non_http_is_left_alone() -> None:
    assert canonical_url("javascript:alert(1)") == "javascript:alert(1)"
    assert not is_http_url("javascript:alert(1)")
    assert not is_http_url("ftp://example.com/x")
    assert not is_http_url("http://")
    assert is_http_url("https://example.com/")


_segment = st.text(alphabet="abcxyz019-_.~", min_size=1, max_size=8)
_query = st.lists(
    st.tuples(st.sampled_from(["id", "page", "utm_source", "utm_medium", "fbclid", "q"]), _segment),
    max_size=4,
)


@given(
    host=st.sampled_from(["example.com", "EXAMPLE.com", "news.example.az"]),
    path=st.lists(_segment, max_size=4),
    query=_query,
    fragment=st.one_of(st.none(), _segment),
)
def test_canonical_properties(
    host: str, path: list[str], query: list[tuple[str, str]], fragment: str | None
) -> None:
    url = f"https://{host}/{'/'.join(path)}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query)
    if fragment:
        url += "#" + fragment
    result = canonical_url(url)
    assert canonical_url(result) == result  # idempotent
    assert "#" not in result and "utm_" not in result and "fbclid" not in result
    assert result.startswith("https://" + host.lower() + "/")
    kept = [f"{k}={v}" for k, v in query if k in ("id", "page", "q")]
    for pair in kept:
        assert pair in result
