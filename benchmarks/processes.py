"""What processes cost, read from /proc: CPU time, and the summed RSS of a process tree."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

SAMPLE_SECONDS = 0.1


def cpu_seconds_between(before: os.times_result, after: os.times_result) -> float:
    """CPU time (user and system) a process used between two `os.times()`, that of its
    child processes ended and waited for meanwhile (the extraction workers) included."""
    return (after.user + after.system + after.children_user + after.children_system) - (
        before.user + before.system + before.children_user + before.children_system
    )


def peaks_by_stage(
    spans: list[tuple[str, float, float]], timeline: list[tuple[float, int]]
) -> dict[str, int]:
    """The largest summed RSS (MB) sampled while each stage ran (stages may overlap: the
    Parquet files are written beside the models and the tests); 0 for a stage too short to
    be sampled."""
    peaks: dict[str, int] = {}
    for name, started, ended in spans:
        during = [mb for moment, mb in timeline if started <= moment <= ended]
        peaks[name] = max(peaks.get(name, 0), *during, 0)
    return peaks


@contextlib.contextmanager
def sampled_peak_rss(
    pid: int, timeline: list[tuple[float, int]] | None = None
) -> Iterator[list[int]]:
    """Sample the summed RSS (MB) of a process and all its descendants until the block ends;
    each sample is also added to `timeline` (wall-clock time, MB), if given."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            mb = tree_rss_mb(pid)
            peak[0] = max(peak[0], mb)
            if timeline is not None:
                timeline.append((time.time(), mb))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def tree_rss_mb(root: int) -> int:
    """Summed resident memory of a process and its descendants, from /proc (Linux)."""
    stats = read_process_stats()
    tree = descendants(root, {pid: stat[1] for pid, stat in stats.items()})
    page = os.sysconf("SC_PAGE_SIZE")
    return round(sum(int(stats[pid][21]) * page for pid in tree if pid in stats) / 2**20)


def read_process_stats() -> dict[int, list[str]]:
    """Every process's /proc/PID/stat fields after the command name (field 3 onwards, so the
    parent's pid is [1], utime [11], stime [12], rss [21])."""
    stats: dict[int, list[str]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                    stats[int(entry.name)] = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while we looked
    return stats


def descendants(root: int, parents: dict[int, str] | None = None) -> set[int]:
    """A process and all its descendants (`parents`: pid -> parent pid, read now if None)."""
    if parents is None:
        parents = {pid: stat[1] for pid, stat in read_process_stats().items()}
    tree, frontier = {root}, [root]
    while frontier:
        parent = str(frontier.pop())
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return tree


def process_cpu_seconds(pids: frozenset[int]) -> float:
    """CPU time (user and system) the running processes `pids` have used so far."""
    stats = read_process_stats()
    ticks = sum(int(stats[pid][11]) + int(stats[pid][12]) for pid in pids if pid in stats)
    return ticks / os.sysconf("SC_CLK_TCK")
