from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitor.localserver import LocalServer


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local
