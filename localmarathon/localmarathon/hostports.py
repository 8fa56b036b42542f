"""Host ports of tasks, reserved across every localmarathon on this machine.

A server picks its tasks' host ports from 31000-32000 (Mesos' default port range). A port that nothing
listens on may still be taken: another server (a parallel test shard) may have handed it to a task
that has not bound it yet, or to a resident instance between two launches, which keeps its ports. So
a server reserves each port it hands out by holding an exclusive ``flock`` on a per-port file in one
directory shared by every server on the machine. The kernel drops the lock when its holder exits,
even on SIGKILL, so a crashed server leaves nothing stale behind. Tests that launch tasks on an agent
directly reserve their ports the same way (:func:`reserve_free_port`).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import random
import socket
import threading

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
# One directory for the whole machine, whatever TMPDIR says: ports are a machine-wide resource.
LOCK_DIR = "/tmp/localmarathon-host-ports"


def port_free(port: int) -> bool:
    """Nothing is bound to 127.0.0.1:port right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


class PortReservations:
    """The ports this process holds locks for. Thread-safe."""

    def __init__(self, lock_dir: str = LOCK_DIR):
        self.lock_dir = lock_dir
        self._held: dict[int, int] = {}  # port -> fd carrying the lock
        self._lock = threading.Lock()
        self._warned = False

    def _open(self, port: int) -> int | None:
        path = os.path.join(self.lock_dir, f"{port}.lock")
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            # Without O_CREAT first: another user's file in a sticky /tmp directory cannot be opened
            # with O_CREAT where fs.protected_regular is on, but a read-only open is enough to lock.
            return os.open(path, flags)
        except FileNotFoundError:
            pass
        try:
            os.makedirs(self.lock_dir, exist_ok=True)
            try:
                os.chmod(self.lock_dir, 0o1777)  # servers of other users share it
            except PermissionError:
                pass
            return os.open(path, flags | os.O_CREAT, 0o644)
        except OSError as err:
            if not self._warned:
                self._warned = True
                log.warning("cannot use %s to reserve host ports (%s): another localmarathon on this "
                            "machine may hand out the same ports", self.lock_dir, err)
            return None

    def try_reserve(self, port: int) -> bool:
        """Reserve ``port`` unless another process holds it (True when this process holds it now).
        Without a usable lock directory every port counts as reservable."""
        with self._lock:
            if port in self._held:
                return True
            fd = self._open(port)
            if fd is None:
                return True
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    return False
                raise
            self._held[port] = fd
            return True

    def release(self, port: int) -> None:
        with self._lock:
            fd = self._held.pop(port, None)
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the lock

    def release_all(self) -> None:
        with self._lock:
            fds, self._held = list(self._held.values()), {}
        for fd in fds:
            os.close(fd)

    def held(self) -> set[int]:
        with self._lock:
            return set(self._held)


def pick_free_port(reservations: PortReservations, port_range: tuple[int, int], skip=()) -> int | None:
    """A port of ``port_range`` (inclusive) that is not in ``skip``, not reserved by another process
    and not bound; reserved for this process before it is returned. None when there is none."""
    lo, hi = port_range
    size = hi - lo + 1
    start = random.randint(lo, hi)
    for k in range(size):
        port = lo + (start - lo + k) % size
        if port in skip or port in reservations.held():
            continue
        if not reservations.try_reserve(port):
            continue
        if port_free(port):
            return port
        reservations.release(port)
    return None


class ReservedPort(int):
    """A host port reserved for the caller until :meth:`release` (or the process ends)."""

    _reservations: PortReservations

    def release(self) -> None:
        self._reservations.release(int(self))


def reserve_free_port(port_range: tuple[int, int] = (31000, 32000)) -> ReservedPort:
    """For tests that launch tasks on an agent directly: a free task host port that no localmarathon
    on this machine will hand out until it is released. It lies outside the kernel's ephemeral range,
    so no outgoing connection takes it meanwhile either."""
    reservations = PortReservations()
    port = pick_free_port(reservations, port_range)
    if port is None:
        raise RuntimeError(f"no free host port in {port_range[0]}-{port_range[1]}")
    out = ReservedPort(port)
    out._reservations = reservations
    return out


class NoMatchingOffer(RuntimeError):
    """No agent offers what an instance needs; it waits in the launch queue, as with Mesos."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason  # Marathon's NoOfferMatchReason, e.g. InsufficientPorts


class HostPortAllocator:
    """The host ports of one server's tasks. Mesos offers a port only while no task holds it; the
    agents here share one host's ports. Not thread-safe: the cluster lock guards it."""

    def __init__(self, port_range: tuple[int, int] = (31000, 32000)):
        self.port_range = port_range
        self.in_use: set[int] = set()
        # Held across processes, so that other localmarathon servers on this machine skip them.
        self.reservations = PortReservations()

    def allocate(self, wanted: list[int]) -> list[int]:
        """One port per request: 0 = any free one, else that exact port (NoMatchingOffer if held).
        Fixed ports are checked first, so an unmatched offer leaves no random port reserved."""
        fixed = [want for want in wanted if want]
        for i, want in enumerate(fixed):
            if want in self.in_use or want in fixed[:i]:
                raise NoMatchingOffer("InsufficientPorts", f"host port {want} is held by another task")
        out = []
        for want in wanted:
            if want:
                out.append(want)
                continue
            # Reserved machine-wide before it is checked free: another server's task may own it.
            port = pick_free_port(self.reservations, self.port_range, skip=self.in_use | set(out))
            if port is None:
                raise RuntimeError(f"no free host port in {self.port_range[0]}-{self.port_range[1]}")
            out.append(port)
        self.in_use.update(out)
        return out

    def restore(self, port: int) -> bool:
        """Take back a port a resident instance kept over a restart; False if another server holds it."""
        self.in_use.add(port)
        return self.reservations.try_reserve(port)

    def release(self, ports) -> None:
        self.in_use.difference_update(ports)
        for port in ports:
            self.reservations.release(port)
