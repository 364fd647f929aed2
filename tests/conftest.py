from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from monitor.localserver import LocalServer

# make test is deterministic: the same examples on every run, so that CI never fails on a
# draw nobody can reproduce. HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local
