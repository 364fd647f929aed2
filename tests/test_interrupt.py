"""Ctrl-C during `monitor run` (monitor.interrupt): once the first has asked the monitor to stop,
any further one stops it at once with status 130, also after the interruptible block, while the
command winds down."""

from __future__ import annotations

import subprocess
import sys

from monitor.interrupt import EXIT_INTERRUPTED

PROGRAM = """
import signal, sys
from monitor.interrupt import interruptible
try:
    with interruptible("the pages being extracted"):
        signal.raise_signal(signal.SIGINT)
except KeyboardInterrupt:
    print("unwound", flush=True)
signal.raise_signal(signal.SIGINT)  # a second Ctrl-C, after the block
print("not reached", flush=True)
"""


def test_a_second_interrupt_after_the_block_stops_with_130() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == EXIT_INTERRUPTED, (done.returncode, done.stderr)
    assert done.stdout == "unwound\n"
    assert "stopping: the pages being extracted" in done.stderr
    assert "stopped at once" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_an_interrupt_the_handler_is_given_back() -> None:
    program = (
        "import signal\nfrom monitor.interrupt import interruptible\n"
        "before = signal.getsignal(signal.SIGINT)\n"
        "with interruptible('x'):\n    pass\n"
        "assert signal.getsignal(signal.SIGINT) is before\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
