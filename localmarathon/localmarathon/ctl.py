"""Start/stop a detached localmarathon for shell scripts and Ansible (see README "ctl").

    python -m localmarathon.ctl up --data-dir DIR [server args...]   → prints the base URL
    python -m localmarathon.ctl down --data-dir DIR
    python -m localmarathon.ctl status --data-dir DIR
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .procutil import alive, kill_leftovers, processes_using

READY_PREFIX = "localmarathon ready "


def _read_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "localmarathon.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _is_server(pid: int, data_dir: Path) -> bool:
    """The pid file may be stale and the pid reused: check it is a localmarathon for this dir."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    args = [a.decode(errors="replace") for a in cmdline]
    if "localmarathon" not in " ".join(args):
        return False
    for i, a in enumerate(args[:-1]):
        if a == "--data-dir":
            return Path(args[i + 1]).resolve() == data_dir.resolve()
    return False


PATH_OPTIONS = ("--auth-config", "--tls-cert", "--tls-key")


def _absolute_paths(args: list[str]) -> list[str]:
    """The server runs with cwd "/", so relative file arguments are resolved here."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        name, eq, value = a.partition("=")
        if name in PATH_OPTIONS and eq:
            out.append(f"{name}={Path(value).absolute()}")
        elif a in PATH_OPTIONS and i + 1 < len(args):
            out += [a, str(Path(args[i + 1]).absolute())]
            i += 1
        else:
            out.append(a)
        i += 1
    return out


def up(data_dir: Path, server_args: list[str], timeout: float = 30) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    server_args = _absolute_paths(server_args)
    pid = _read_pid(data_dir)
    url_file = data_dir / "localmarathon.url"
    if pid and alive(pid) and _is_server(pid, data_dir) and url_file.exists():
        print(url_file.read_text().strip())  # already up
        return 0
    if "--port" not in server_args:
        server_args = ["--port", "0"] + server_args
    if "--host" not in server_args:
        server_args = ["--host", "127.0.0.1"] + server_args
    log_path = data_dir / "localmarathon.log"
    start_offset = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "localmarathon", "--data-dir", str(data_dir), *server_args],
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
                                cwd="/")  # a localmarathon/ dir in the cwd must not shadow the package
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        with open(log_path, "rb") as fh:
            fh.seek(start_offset)
            for line in fh.read().decode(errors="replace").splitlines():
                if line.startswith(READY_PREFIX):
                    url = line[len(READY_PREFIX):].strip()
        if url or proc.poll() is not None:
            break
        time.sleep(0.05)
    if not url:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        tail = log_path.read_bytes()[start_offset:].decode(errors="replace")[-2000:]
        print(f"localmarathon did not become ready within {timeout:g}s; log tail:\n{tail}", file=sys.stderr)
        return 1
    (data_dir / "localmarathon.pid").write_text(f"{proc.pid}\n")
    url_file.write_text(url + "\n")
    print(url)
    return 0


def down(data_dir: Path, timeout: float = 30) -> int:
    pid = _read_pid(data_dir)
    if pid and alive(pid) and _is_server(pid, data_dir):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            print(f"localmarathon (pid {pid}) ignored SIGTERM for {timeout:g}s; killing its process group",
                  file=sys.stderr)
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for name in ("localmarathon.pid", "localmarathon.url"):
        try:
            (data_dir / name).unlink()
        except FileNotFoundError:
            pass
    killed, survivors = kill_leftovers(data_dir)
    if killed:
        print(f"killed {len(killed)} leftover task process(es): {killed}", file=sys.stderr)
    if survivors:
        print(f"task processes still alive: {survivors}", file=sys.stderr)
        return 1
    return 0


def status(data_dir: Path) -> int:
    pid = _read_pid(data_dir)
    if pid and alive(pid) and _is_server(pid, data_dir):
        print(f"running pid {pid} {(data_dir / 'localmarathon.url').read_text().strip()}")
        return 0
    left = processes_using(data_dir) if data_dir.exists() else []
    print("not running" + (f" (task processes left: {left})" if left else ""))
    return 3


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m localmarathon.ctl")
    p.add_argument("action", choices=("up", "down", "status"))
    p.add_argument("--data-dir", required=True)
    p.add_argument("--timeout", type=float, default=30, help="seconds to wait for ready / for stop")
    args, rest = p.parse_known_args(argv)
    data_dir = Path(args.data_dir).resolve()
    if args.action == "up":
        return up(data_dir, rest, args.timeout)
    if rest:
        p.error(f"unexpected arguments for {args.action}: {' '.join(rest)}")
    if args.action == "down":
        return down(data_dir, args.timeout)
    return status(data_dir)


if __name__ == "__main__":
    sys.exit(main())
