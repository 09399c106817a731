"""Run one command as a whole process and measure it: wall time, CPU time and peak RSS of its tree.

- **Wall**: from ``Popen`` to the exit of the command's own process.
- **CPU** (user + sys): the growth of ``getrusage(RUSAGE_CHILDREN)`` of this process across the
  run. That counter only includes descendants that were *reaped*; a JVM started by PySpark may
  outlive its Python parent and be re-parented to init, so this process first makes itself a child
  subreaper (Linux ``prctl``): orphans of the measured tree are re-parented here and reaped below.
- **Peak RSS**: the tree (every live descendant of this process: the command, its children, any
  re-parented orphan) is polled with psutil every ``poll_s`` seconds; the peak of the *sum* of
  their RSS is reported. Pages shared between processes count once per process, so this is an
  upper bound, and a spike shorter than the polling interval can be missed.

The harness runs one measured command at a time, so every descendant belongs to it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process (Linux only); True when it worked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@dataclass
class Measurement:
    returncode: int | None
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    status: str  # "ok" | "failed" | "timeout" | "memory_cap"
    stdout: str = ""
    stderr_tail: str = ""
    max_procs: int = 0
    notes: list[str] = field(default_factory=list)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _tree() -> list[psutil.Process]:
    try:
        return psutil.Process(os.getpid()).children(recursive=True)
    except psutil.Error:
        return []


def _tree_rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def _kill_tree(proc: subprocess.Popen) -> None:
    for p in _tree():
        try:
            p.kill()
        except psutil.Error:
            continue
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)


def _reap_orphans(deadline: float, poll_s: float, peak: int) -> int:
    """Wait for descendants still alive after the command exited (e.g. a JVM shutting down)."""
    while True:
        procs = _tree()
        peak = max(peak, _tree_rss(procs))
        for p in procs:
            try:
                if p.ppid() == os.getpid():
                    os.waitpid(p.pid, os.WNOHANG)
            except (psutil.Error, ChildProcessError, OSError):
                continue
        if not procs:
            return peak
        if time.monotonic() > deadline:
            for p in procs:
                try:
                    p.kill()
                    if p.ppid() == os.getpid():
                        os.waitpid(p.pid, 0)
                except (psutil.Error, ChildProcessError, OSError):
                    continue
            return peak
        time.sleep(poll_s)


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    timeout_s: float,
    mem_cap_bytes: int,
    poll_s: float = 0.05,
    orphan_grace_s: float = 60.0,
) -> Measurement:
    """Run ``cmd`` to completion (or until the timeout / memory cap) and measure its process tree."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_path.with_suffix(".stdout")
    cpu_before = _children_cpu()
    status = "ok"
    peak = 0
    max_procs = 0
    with out_path.open("wb") as out, log_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        try:
            while proc.poll() is None:
                procs = _tree()
                max_procs = max(max_procs, len(procs))
                rss = _tree_rss(procs)
                peak = max(peak, rss)
                if rss > mem_cap_bytes:
                    status = "memory_cap"
                    _kill_tree(proc)
                    break
                if time.monotonic() > deadline:
                    status = "timeout"
                    _kill_tree(proc)
                    break
                time.sleep(poll_s)
        except BaseException:  # interrupted (Ctrl-C, SIGTERM): leave no measured process behind
            _kill_tree(proc)
            raise
        rc = proc.wait()
        wall = time.perf_counter() - started
        peak = _reap_orphans(time.monotonic() + orphan_grace_s, poll_s, peak)
    cpu = _children_cpu() - cpu_before
    if status == "ok" and rc != 0:
        status = "failed"
    stderr = log_path.read_text(encoding="utf-8", errors="replace")
    if status == "failed" and rc in (-9, 137):
        status = "killed (SIGKILL: out of memory?)"
    return Measurement(
        returncode=rc,
        wall_s=round(wall, 3),
        cpu_s=round(cpu, 3),
        peak_rss_bytes=peak,
        status=status,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr_tail="\n".join(stderr.strip().splitlines()[-15:]),
        max_procs=max_procs,
    )
