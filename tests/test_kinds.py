"""The registry of source kinds (monitor.kinds): every kind has a reader that says what to ask
for and which options it takes; the configuration's checks come from there."""

from __future__ import annotations

import pytest

from monitor import kinds
from monitor.content import FEED_ACCEPT, PAGE_ACCEPT
from monitor.models import SourceKind


@pytest.mark.parametrize("kind", list(SourceKind))
def test_every_kind_has_a_reader_of_its_own(kind: SourceKind) -> None:
    reader = kinds.reader(kind)
    assert reader.kind is kind
    assert type(reader).parse is not kinds.Reader.parse, "a kind must read its document"
    assert reader.accept in (FEED_ACCEPT, PAGE_ACCEPT)


def test_a_feed_asks_for_feeds_and_the_others_for_pages() -> None:
    assert kinds.reader(SourceKind.FEED).accept == FEED_ACCEPT
    assert kinds.reader(SourceKind.HTML).accept == PAGE_ACCEPT
    assert kinds.reader(SourceKind.SITEMAP).accept == PAGE_ACCEPT


def test_an_option_belongs_to_its_kind() -> None:
    assert kinds.check(SourceKind.HTML, {"selector": "h3 a", "pattern": None}) is None
    assert kinds.check(SourceKind.HTML, {"pattern": "/news/"}) is None
    for kind in (SourceKind.FEED, SourceKind.SITEMAP):
        assert kinds.check(kind, {"selector": None, "pattern": None}) is None
        message = kinds.check(kind, {"pattern": "/news/"})
        assert message == "'selector' and 'pattern' are for kind html only"


def test_a_listing_needs_a_way_to_find_its_links() -> None:
    message = kinds.check(SourceKind.HTML, {"selector": None, "pattern": None})
    assert message is not None and "needs a 'selector'" in message
