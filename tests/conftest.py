from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from monitor import extractors, sources_cmd, tag
from monitor.extract import extract_page
from monitor.extractors import ThreadExtractor
from monitor.localserver import LocalServer
from monitor.tag import TagInput
from tests.sites import HTML, cached_tagger, page

# make test is deterministic: the same examples on every run, so that CI never fails on a
# draw nobody can reproduce. HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session", autouse=True)
def tagger_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The built tagger is kept in a folder of the test session's, not in the user's cache;
    the commands the tests start inherit it."""
    folder = tmp_path_factory.mktemp("cache")
    saved = os.environ.get("MONITOR_CACHE_DIR")
    os.environ["MONITOR_CACHE_DIR"] = str(folder)
    yield folder
    if saved is None:
        del os.environ["MONITOR_CACHE_DIR"]
    else:
        os.environ["MONITOR_CACHE_DIR"] = saved


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


# -- a quicker CLI: the same code, without a process pool and a tagger reload per command -----
# Not autouse: a module that runs the CLI in-process asks for them with
# ``pytestmark = pytest.mark.usefixtures("quick_cli", ...)``.


@pytest.fixture
def quick_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """Extraction in a thread of this process instead of a process pool, and the tagger loaded
    once per session instead of once per command (``run``, ``sources test``/``validate``)."""
    # The CLI imports both inside its commands, from these modules.
    monkeypatch.setattr(extractors, "ProcessExtractor", ThreadExtractor)
    monkeypatch.setattr(tag, "load_tagger", cached_tagger)
    monkeypatch.setattr(sources_cmd, "load_tagger", cached_tagger)
    # Warm up what is slow the first time, so that no test's timing depends on its order.
    cached_tagger(()).tag(TagInput("Film co-production", "A film co-production agreement."))


@pytest.fixture
def warm_extraction() -> None:
    """Extract one page before the test, so that the first extraction of the session (slow:
    lazy imports and set-up) does not fall in a test that measures time."""
    extract_page(
        page("Warm up", ("A paragraph long enough to be the text of an article. " * 3,)).encode(),
        "http://127.0.0.1/",
        HTML,
    )
