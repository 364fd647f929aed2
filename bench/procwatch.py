"""Memory and CPU of a process tree, read from /proc (Linux) while it runs.

``TreeWatch(pid)`` polls every ``interval`` seconds (50 ms by default) in a thread: the process and
all its descendants (the monitor, its forkserver and extraction workers). It keeps

- ``peak_rss_mb``: the largest sum of the tree's resident sets seen at one poll (shared pages
  counted once per process: an upper bound);
- ``peak_pss_mb``: the same with proportional set sizes (shared pages split between the processes
  that share them: what the tree really occupies);
- ``main_hwm_mb``: the root process's own high-water mark (VmHWM), exact;
- ``cpu_seconds``: user + system CPU of the tree (as last seen for each process), and
  ``root_cpu_seconds`` of the root process alone;
- ``machine_busy_seconds``: CPU time the whole machine spent busy meanwhile (from /proc/stat), so
  that other load on a shared machine shows.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children = _children_map()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _status_kb(pid: int, names: tuple[str, ...]) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in names:
                values[name] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU of one process so far; with ``reaped``, also that of its children
    it has waited for (a server's exited workers)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11 : 15 if reaped else 13]) / _TICK


def machine_busy() -> float:
    """Seconds of CPU the machine has spent busy since boot, all cores."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / _TICK


class TreeWatch:
    def __init__(self, pid: int, interval: float = 0.05, pss: bool = True) -> None:
        self.pid = pid
        self.interval = interval
        self.pss = pss
        self.peak_rss_mb = 0.0
        self.peak_pss_mb = 0.0
        self.main_hwm_mb = 0.0
        self.peak_processes = 0
        self._cpu: dict[int, float] = {}
        self._busy_start = machine_busy()
        self.machine_busy_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-watch", daemon=True)

    def start(self) -> TreeWatch:
        self._thread.start()
        return self

    def stop(self) -> TreeWatch:
        self._stop.set()
        self._thread.join()
        self.machine_busy_seconds = machine_busy() - self._busy_start
        return self

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())

    @property
    def root_cpu_seconds(self) -> float:
        """The root process's own CPU (the monitor's main process, without its workers)."""
        return self._cpu.get(self.pid, 0.0)

    def sample(self) -> None:
        pids = tree(self.pid)
        rss = pss = 0
        for pid in pids:
            status = _status_kb(pid, ("VmRSS", "VmHWM"))
            rss += status.get("VmRSS", 0)
            if self.pss:
                pss += _pss_kb(pid)
            if pid == self.pid and "VmHWM" in status:
                self.main_hwm_mb = max(self.main_hwm_mb, status["VmHWM"] / 1024)
            cpu = cpu_seconds(pid)
            if cpu:
                self._cpu[pid] = max(cpu, self._cpu.get(pid, 0.0))
        self.peak_rss_mb = max(self.peak_rss_mb, rss / 1024)
        self.peak_pss_mb = max(self.peak_pss_mb, pss / 1024)
        self.peak_processes = max(self.peak_processes, len(pids))

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            self.sample()
            self._stop.wait(max(0.0, self.interval - (time.perf_counter() - started)))
