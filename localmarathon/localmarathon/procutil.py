"""Process helpers shared by ctl and the test fixture: starting the server so it cannot outlive its
starter (PDEATHSIG), and finding processes left behind in a data dir."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def pdeathsig_preexec(sig: int = signal.SIGTERM):
    """preexec_fn: the child gets ``sig`` when the thread that started it dies (e.g. a crashed test)."""
    def run():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except OSError:
            pass
    return run


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive for our purposes
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _ancestors() -> set[int]:
    """Our own pid and every parent up to init: a caller that happens to run inside the data
    dir (an Ansible worker with that cwd) must never be taken for a leftover task."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def processes_using(data_dir) -> list[int]:
    """Pids (other than ours and our ancestors') whose cwd is inside ``data_dir`` or whose
    environment points a MESOS_SANDBOX into it: task processes, including a PostgreSQL server,
    started for this dir."""
    root = str(Path(data_dir).resolve())
    needle = f"MESOS_SANDBOX={root}/".encode()
    found = []
    ours = _ancestors()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in ours:
            continue
        pid = int(entry)
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = ""
        hit = cwd == root or cwd.startswith(root + "/")
        if not hit:
            try:
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    hit = needle in fh.read()
            except OSError:
                pass
        if hit and alive(pid):
            found.append(pid)
    return found


def wait_gone(pids, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def kill_leftovers(data_dir, timeout: float = 10.0) -> tuple[list[int], list[int]]:
    """SIGKILL every process still using ``data_dir``; returns (killed, survivors)."""
    pids = processes_using(data_dir)
    own_group = os.getpgid(0)
    for pid in pids:
        try:
            group = os.getpgid(pid)
            if group != own_group:  # never the group of the caller
                os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return pids, wait_gone(pids, timeout)
