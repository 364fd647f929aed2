"""Ctrl-C during ``monitor run``: the first says what the monitor is waiting for and lets the
work in flight end; a second stops at once.

Stopping at once loses nothing already stored: every article is written in a transaction of its
own, and a cycle killed at any moment is resumed by the next without loss or duplicates
(``tests/test_crash_random.py``). The extraction workers follow their parent out.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TextIO

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells expect


@contextmanager
def interruptible(waiting_for: str, stream: TextIO | None = None) -> Iterator[None]:
    """Within the block, the first SIGINT prints ``waiting_for`` and raises KeyboardInterrupt
    (so the block unwinds and closes what it opened); the second exits the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    out = stream or sys.stderr
    received = False

    def at_once(_signum: int, _frame: FrameType | None) -> None:
        out.write("monitor: stopped at once (what was stored is kept)\n")
        out.flush()
        os._exit(EXIT_INTERRUPTED)

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        if received:
            at_once(signum, frame)
        received = True
        out.write(f"monitor: stopping: {waiting_for}; press Ctrl-C again to stop at once\n")
        out.flush()
        raise KeyboardInterrupt

    previous: Any = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        # Once stopping, a further Ctrl-C stops at once wherever it lands, also while the
        # interpreter shuts down: with the default handler restored it would end the process
        # by the signal (status -2) with a traceback from a finaliser.
        signal.signal(signal.SIGINT, at_once if received else previous)
