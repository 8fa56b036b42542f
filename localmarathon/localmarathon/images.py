"""How localmarathon "runs" a container: a table of well-known Docker images mapped to local programs.

There is no Docker here. A task with ``container.docker.image`` is run by the entry for that image
name (registry ``docker.io``/``library/`` prefixes, tags and digests are ignored when matching):

* ``postgres:*`` - the OS's PostgreSQL server (the major version named by the tag when installed,
  else the newest ``/usr/lib/postgresql/*/bin``) run as the unprivileged ``postgres`` OS user, with
  the official image's entrypoint behaviour: PGDATA (default ``/var/lib/postgresql/data``),
  POSTGRES_PASSWORD, POSTGRES_USER (default ``postgres``), POSTGRES_DB (default = user),
  POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD; ``initdb`` on an empty directory
  (``--auth-host=scram-sha-256`` and a pwfile when a password is given; trust otherwise - the real
  image refuses to start without a password unless POSTGRES_HOST_AUTH_METHOD=trust); an existing
  cluster is reused untouched, unless the image's major (from the tag: ``postgres:16`` is 16, an
  untagged image the binaries' own) differs from the major that initialized it: then, like the
  real server checking PG_VERSION, the task fails with PostgreSQL's "database files are incompatible
  with server" (the OS's binaries write their own major to PG_VERSION, so the image's is recorded
  beside it at initdb, in ``PG_VERSION.localmarathon-image``). The server
  runs in the foreground as the task process: ``postgres -D PGDATA -c listen_addresses=127.0.0.1
  -p <host port mapped to containerPort 5432> -k <unix socket dir in the sandbox>``. ``args``
  starting with ``-`` (or with ``postgres``) are passed to the server, as with the real entrypoint.
  PGHOST points at the socket directory, which also holds a ``.s.PGSQL.5432`` alias, so in-"container"
  clients (``pg_isready``, ``psql`` in COMMAND health checks) work unchanged. (A sandbox path too long
  for a unix socket gets a short private directory ``<data dir>/run/<hash>`` instead, or one under the
  system temp dir when even that is too long.)
  The server runs as ``postgres``, so every directory down to PGDATA must be searchable by that user:
  directories at or below the agent's data dir get ``o+x``; a blocking directory above it (e.g.
  pytest's 0700 ``/tmp/pytest-of-root``) fails the task with a message naming it, unless the server
  or fixture opted in with ``allow_search(data_dir)``. Persistent volume
  roots and PGDATA are chowned to ``postgres``; host paths are not.
* ``busybox``, ``alpine``, ``ubuntu``, ``debian``, ``centos``, ``bash``, ``python`` - run as host
  shell: ``cmd`` under ``/bin/sh -c``, ``args`` exec'd, as the agent's user, without an image default
  ``CMD`` beyond the shell/interpreter (which exits at once on /dev/null stdin, as in Docker).
* ``pgbouncer`` (``edoburu/pgbouncer``, ``bitnami/pgbouncer``, any ``.../pgbouncer``) - ``pooler.py``, a
  session-mode TCP pooler configured with the image's DB_HOST, DB_PORT, LISTEN_PORT, DEFAULT_POOL_SIZE
  and MAX_CLIENT_CONN, listening on the host port mapped to LISTEN_PORT.
* ``nginx``, ``httpd`` - ``python3 -m http.server`` bound to 127.0.0.1 on the host port mapped to
  containerPort 80, serving a generated welcome page from the container's document root.

Any other image fails the task like a Mesos pull failure:
"Failed to launch container: Failed to pull image 'x': image not supported by localmarathon
(supported: ...)".

Tasks see the host: ``MESOS_SANDBOX`` is the sandbox's host path (a container would see
/mnt/mesos/sandbox), ports are host ports on 127.0.0.1. Paths inside "the container" map to the host: ``/mnt/mesos/sandbox/...`` and ``$MESOS_SANDBOX/...``
to the sandbox, relative paths to the sandbox, volume containerPaths to their host directories, any
other absolute path to ``<sandbox>/.rootfs/<path>`` (the container's own writable layer, lost with
the task, as in Docker).

Apps without an image (``cmd``/``args``) are planned here too (``plan_for``): the Mesos command
executor runs ``cmd`` via ``/bin/sh -c`` and ``args`` directly, with the agent's environment
plus the task's, as the app's ``user`` when given and this process is root.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import posixpath
import pwd
import re
import shlex
import shutil
import signal
import stat
import tempfile
from pathlib import Path
from typing import Callable

log = logging.getLogger("localmarathon.images")

CONTAINER_SANDBOX = "/mnt/mesos/sandbox"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
POSTGRES_ROOT = Path("/usr/lib/postgresql")
# struct sockaddr_un.sun_path is 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


class LaunchError(Exception):
    """The container cannot start; str() is the TASK_FAILED message."""


@dataclasses.dataclass
class TaskContext:
    task_id: str
    app: dict
    sandbox: Path
    env: dict  # Marathon/Mesos variables + the app's env
    ports: list  # agent.port_layout() entries
    volumes: dict  # {containerPath: host Path} of persistent volumes
    mounts: dict  # {absolute container path: host Path}
    data_dir: Path | None = None


@dataclasses.dataclass
class ProcessPlan:
    argv: list
    env: dict
    cwd: Path
    user: pwd.struct_passwd | None = None  # drop privileges to this user in the child
    stop_signal: int = signal.SIGTERM
    stop_group: bool = True  # False: signal only the main process (docker stop), SIGKILL the group later
    min_kill_grace: float = 0.0  # seconds the program needs for a clean stop
    exit_label: str = "Command"  # "Command exited with status 1" vs "Container exited with ..."
    health_env: dict = dataclasses.field(default_factory=dict)
    cleanup: list = dataclasses.field(default_factory=list)  # callables run after the task ended

    def run_cleanup(self):
        for fn in self.cleanup:
            try:
                fn()
            except Exception:  # cleanup is best effort; the task state is already decided
                log.exception("task cleanup failed")
        self.cleanup = []


# ---------------------------------------------------------------------------------------------
# Image references


def app_image(app: dict) -> str:
    """The Docker image of an app (DOCKER or MESOS containerizer), '' if none."""
    container = app.get("container") or {}
    docker = container.get("docker") or {}
    image = docker.get("image")
    return image.strip() if isinstance(image, str) else ""


def parse_image(ref: str) -> tuple[str, str]:
    """'docker.io/library/postgres:15@sha256:..' → ('postgres', '15'); tag '' when absent."""
    name = ref.strip().split("@", 1)[0]
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    parts = name.split("/")
    if len(parts) > 1 and parts[0] in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts).lower(), tag


# ---------------------------------------------------------------------------------------------
# Volumes and paths


def _place_link(link: Path, target: Path, what: str):
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        if link.is_dir() and not any(link.iterdir()):
            link.rmdir()
        else:
            raise LaunchError(f"Failed to launch container: cannot mount {what} at {link}: path exists in the sandbox")
    link.symlink_to(target)


def link_volumes(app: dict, sandbox: Path, volumes: dict) -> dict:
    """Make volumes visible in the sandbox; return {absolute container path: host path}.

    Persistent volume X → symlink $MESOS_SANDBOX/X; host volumes: a relative hostPath is a sandbox
    path, an absolute one a host path that must exist; an absolute containerPath is recorded as a
    mount for the image table, a relative one becomes a sandbox symlink.
    """
    sandbox = Path(sandbox)
    mounts: dict[str, Path] = {}
    specs = ((app.get("container") or {}).get("volumes")) or []
    linked = set()

    def persistent(cp: str, host: Path):
        host = Path(host)
        host.mkdir(parents=True, exist_ok=True)
        if cp.startswith("/"):
            mounts[posixpath.normpath(cp)] = host
        else:
            _place_link(sandbox / cp, host, f"persistent volume '{cp}'")
        linked.add(cp)

    for vol in specs:
        vol = vol or {}
        cp = vol.get("containerPath")
        if vol.get("persistent") is not None and isinstance(cp, str):
            if cp not in volumes:
                raise LaunchError(f"Failed to launch container: no reserved volume for persistent volume '{cp}' on this agent")
            persistent(cp, volumes[cp])
    for cp, host in (volumes or {}).items():
        if cp not in linked:
            persistent(cp, host)
    for vol in specs:
        vol = vol or {}
        cp = vol.get("containerPath")
        if vol.get("external") is not None:
            name = (vol.get("external") or {}).get("name", "?")
            raise LaunchError(f"Failed to launch container: external volume '{name}' is not supported by localmarathon")
        host_path = vol.get("hostPath")
        if vol.get("persistent") is not None or not isinstance(host_path, str) or not isinstance(cp, str):
            continue  # persistent (done above) or secret volumes (nothing to mount without a secret store)
        if host_path.startswith("/"):
            host = Path(host_path)
            if not host.exists():
                raise LaunchError(f"Failed to launch container: host path '{host_path}' of volume '{cp}' does not exist")
        else:
            host = sandbox / host_path
            host.mkdir(parents=True, exist_ok=True)
        if cp.startswith("/"):
            mounts[posixpath.normpath(cp)] = host
        elif posixpath.normpath(cp) != posixpath.normpath(host_path):
            _place_link(sandbox / cp, host, f"host volume '{cp}'")
    return mounts


def container_to_host(path: str, sandbox: Path, mounts: dict) -> Path:
    """Where a path as seen inside the task's container lives on this host."""
    sandbox = Path(sandbox)
    text = path.strip()
    for var in ("${MESOS_SANDBOX}", "$MESOS_SANDBOX"):
        if text == var or text.startswith(var + "/"):
            text = CONTAINER_SANDBOX + text[len(var):]
    if not text.startswith("/"):
        return sandbox / text
    norm = posixpath.normpath(text)
    table = {CONTAINER_SANDBOX: sandbox, str(sandbox): sandbox, **{k: Path(v) for k, v in mounts.items()}}
    best = None
    for prefix in table:
        if norm == prefix or norm.startswith(prefix.rstrip("/") + "/"):
            if best is None or len(prefix) > len(best):
                best = prefix
    if best is not None:
        rest = norm[len(best):].lstrip("/")
        return table[best] / rest if rest else table[best]
    return sandbox / ".rootfs" / norm.lstrip("/")


# ---------------------------------------------------------------------------------------------
# Permissions for unprivileged servers


def _can_search(st: os.stat_result, uid: int, gids: set) -> bool:
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in gids:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def ensure_reachable(path: Path, pw: pwd.struct_passwd, fixable_root: Path | None, what: str):
    """Check that user ``pw`` can traverse every directory down to ``path``.

    Directories at or below ``fixable_root`` (localmarathon's own data dir) get o+x added; anything
    above it is left alone and reported in the error.
    """
    gids = set(os.getgrouplist(pw.pw_name, pw.pw_gid))
    real = Path(os.path.realpath(path))
    root = Path(os.path.realpath(fixable_root)) if fixable_root else None
    current = Path("/")
    for part in real.parts[1:]:
        current = current / part
        try:
            st = current.stat()
        except FileNotFoundError:
            return  # the rest will be created by us (as root, 0755) or by the server itself
        if not stat.S_ISDIR(st.st_mode) or current == real:
            return
        if _can_search(st, pw.pw_uid, gids):
            continue
        if root is not None and (current == root or root in current.parents):
            os.chmod(current, stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
            continue
        raise LaunchError(
            f"Failed to launch container: {what} {path} is not reachable by the '{pw.pw_name}' user "
            f"(uid {pw.pw_uid}): directory {current} has mode {stat.S_IMODE(st.st_mode):04o} and owner uid "
            f"{st.st_uid}; allow search access (chmod o+x {current}) or use a data dir below a "
            f"world-searchable path"
        )


def allow_search(path, user: str = "postgres") -> None:
    """Opt-in for servers/fixtures: add o+x to every directory down to ``path`` that ``user`` cannot
    traverse, so tasks running as that user (PostgreSQL) can reach a data dir below, say, pytest's
    0700 temp root. The agent never does this above its own data dir by itself."""
    if os.geteuid() != 0:
        return
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        return
    # a child name makes ``path`` itself one of the directories checked
    ensure_reachable(Path(path) / "lm-search-probe", pw, Path("/"), "data dir")


def _chown_tree(path: Path, uid: int, gid: int):
    """Give the server's user everything it does not own yet (the official image's `find ... chown`)."""
    for root, dirs, files in os.walk(path):
        for name in [root, *[os.path.join(root, n) for n in dirs + files]]:
            try:
                st = os.lstat(name)
                if st.st_uid != uid:
                    os.lchown(name, uid, gid)
            except FileNotFoundError:
                pass


# ---------------------------------------------------------------------------------------------
# Plans


def _docker_base_env(extra: dict | None = None) -> dict:
    env = {"PATH": DEFAULT_PATH, "HOME": "/root", "LANG": "C.UTF-8"}
    env.update(extra or {})
    return env


def _command_plan(ctx: TaskContext) -> ProcessPlan:
    app = ctx.app
    env = dict(os.environ)
    env.update(ctx.env)
    user = None
    name = app.get("user")
    if name and os.geteuid() == 0:
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            raise LaunchError(f"Failed to launch container: user '{name}' does not exist on this agent") from None
        env.update({"USER": user.pw_name, "LOGNAME": user.pw_name, "HOME": user.pw_dir})
        os.chown(ctx.sandbox, user.pw_uid, user.pw_gid)
    if app.get("cmd"):
        argv = ["/bin/sh", "-c", app["cmd"]]
    elif app.get("args"):
        argv = [str(a) for a in app["args"]]
    else:
        raise LaunchError("Failed to launch container: the app has neither cmd, args nor a container image")
    return ProcessPlan(argv=argv, env=env, cwd=ctx.sandbox, user=user)


def _shell_image_plan(ctx: TaskContext, image: str, default: list) -> ProcessPlan:
    env = _docker_base_env()
    env.update(ctx.env)
    app = ctx.app
    if app.get("cmd"):
        argv = ["/bin/sh", "-c", app["cmd"]]
    elif app.get("args"):
        argv = [str(a) for a in app["args"]]
    else:
        argv = list(default)
    return ProcessPlan(argv=argv, env=env, cwd=ctx.sandbox, stop_group=False, exit_label="Container")


def _mapped_port(ctx: TaskContext, container_port: int) -> int:
    for p in ctx.ports:
        if p.get("container_port") == container_port and p.get("effective"):
            return int(p["effective"])
    return container_port  # host networking: the program binds the port it always binds


_WELCOME = {
    "nginx": ("/usr/share/nginx/html", "<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>"
              "<body><h1>Welcome to nginx!</h1></body></html>\n"),
    "httpd": ("/usr/local/apache2/htdocs", "<html><body><h1>It works!</h1></body></html>\n"),
}


def _web_image_plan(ctx: TaskContext, image: str, default_unused=None) -> ProcessPlan:
    if ctx.app.get("cmd") or ctx.app.get("args"):
        return _shell_image_plan(ctx, image, [])
    docroot_path, page = _WELCOME[image]
    docroot = container_to_host(docroot_path, ctx.sandbox, ctx.mounts)
    docroot.mkdir(parents=True, exist_ok=True)
    index = docroot / "index.html"
    if not index.exists():
        index.write_text(page)
    port = _mapped_port(ctx, 80)
    python = shutil.which("python3", path=DEFAULT_PATH) or "python3"
    env = _docker_base_env()
    env.update(ctx.env)
    argv = [python, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(docroot), str(port)]
    return ProcessPlan(argv=argv, env=env, cwd=ctx.sandbox, stop_group=False, exit_label="Container")


def postgres_bin_dir(tag: str = "", data_version: str | None = None) -> Path:
    """The PostgreSQL bin dir to use: the cluster's version, else the tag's, else the newest."""
    installed = {}
    for d in POSTGRES_ROOT.glob("*/bin"):
        if (d / "postgres").is_file() and (d / "initdb").is_file():
            installed[d.parent.name] = d
    if not installed:
        raise LaunchError(
            f"Failed to launch container: Failed to pull image 'postgres{':' + tag if tag else ''}': "
            f"PostgreSQL server is not installed ({POSTGRES_ROOT}/*/bin/postgres not found)"
        )
    for want in (data_version, _tag_major(tag)):
        if want and want in installed:
            return installed[want]

    def key(v):
        return [int(x) for x in re.findall(r"\d+", v)]

    return installed[max(installed, key=key)]


def _tag_major(tag: str) -> str | None:
    m = re.match(r"^(\d+)(?:\.(\d+))?", tag or "")
    if not m:
        return None
    major = int(m.group(1))
    if major < 10 and m.group(2) is not None:
        return f"{major}.{m.group(2)}"  # 9.x majors have two components
    return str(major)


# The OS's binaries write their own major into PG_VERSION, so the major of the image that initialized a
# data directory (what PG_VERSION holds in a real container) is kept next to it, written once by initdb's
# run and never changed, as PG_VERSION is.
IMAGE_MAJOR_FILE = "PG_VERSION.localmarathon-image"


def _initializing_major(pgdata: Path, data_version: str | None) -> str | None:
    """The PostgreSQL major of the image that initialized ``pgdata``; None for an empty directory."""
    if data_version is None:
        return None
    recorded = pgdata / IMAGE_MAJOR_FILE
    if recorded.is_file():
        return recorded.read_text().strip() or data_version
    return data_version  # initialized before the image's major was recorded: the binaries' own


def _sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _file_env(ctx: TaskContext) -> dict:
    """The entrypoint's file_env: VAR from the file named by VAR_FILE (trailing newlines dropped, as
    command substitution does), VAR_FILE unset; both set is an error."""
    env = dict(ctx.env)
    for var in ("POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_INITDB_ARGS"):
        file_var = var + "_FILE"
        if file_var not in env:
            continue
        if env.get(var):
            raise LaunchError(f"Container exited: error: both {var} and {file_var} are set (but are exclusive)")
        host = container_to_host(env.pop(file_var), ctx.sandbox, ctx.mounts)
        try:
            env[var] = host.read_text().rstrip("\n")
        except OSError as err:
            raise LaunchError(f"Container exited: {file_var}: cannot read the file ({err.strerror})") from None
    return env


def _postgres_plan(ctx: TaskContext, image: str, tag: str) -> ProcessPlan:
    cleanup: list[Callable] = []
    try:
        return _postgres_plan_inner(ctx, tag, cleanup)
    except BaseException:
        ProcessPlan(argv=[], env={}, cwd=ctx.sandbox, cleanup=cleanup).run_cleanup()  # no temp dir left behind
        raise


def _postgres_plan_inner(ctx: TaskContext, tag: str, cleanup: list) -> ProcessPlan:
    image = "postgres"
    app = ctx.app
    app_args = [str(a) for a in (app.get("args") or [])]
    if app.get("cmd") or (app_args and app_args[0] != "postgres" and not app_args[0].startswith("-")):
        return _shell_image_plan(ctx, image, [])  # the entrypoint just execs other commands
    server_args = app_args[1:] if app_args and app_args[0] == "postgres" else app_args

    user_env = _file_env(ctx)
    pg_user = user_env.get("POSTGRES_USER") or "postgres"
    pg_db = user_env.get("POSTGRES_DB") or pg_user
    password = user_env.get("POSTGRES_PASSWORD") or ""
    container_pgdata = user_env.get("PGDATA") or "/var/lib/postgresql/data"
    pgdata = container_to_host(container_pgdata, ctx.sandbox, ctx.mounts)
    version_file = pgdata / "PG_VERSION"
    data_version = version_file.read_text().strip() if version_file.is_file() else None
    bindir = postgres_bin_dir(tag, data_version)
    # The image's own major (postgres:16 is PostgreSQL 16), whichever OS binaries run it.
    image_major = _tag_major(tag) or bindir.parent.name
    initialized_by = _initializing_major(pgdata, data_version)

    privileged = os.geteuid() == 0
    if privileged:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise LaunchError(
                "Failed to launch container: image 'postgres' needs the 'postgres' OS user to run the server "
                "unprivileged, and it does not exist (install the Debian postgresql package)"
            ) from None
    else:
        pw = pwd.getpwuid(os.geteuid())
    uid, gid = pw.pw_uid, pw.pw_gid

    # The official entrypoint (as root): mkdir -p "$PGDATA"; chmod 700; chown -R postgres. Our own
    # persistent volume roots go to postgres too, so PGDATA may be a subdirectory; host paths do not.
    if privileged:
        for host in {Path(v) for v in ctx.volumes.values()}:
            if host.is_dir() and host.stat().st_uid != uid:
                os.chown(host, uid, gid)
    pgdata.mkdir(parents=True, exist_ok=True)
    if privileged:
        _chown_tree(pgdata, uid, gid)
        os.chown(ctx.sandbox, uid, gid)
    os.chmod(pgdata, 0o700)

    sockdir = ctx.sandbox
    container_port = int(user_env.get("PGPORT") or 5432) if str(user_env.get("PGPORT") or "5432").isdigit() else 5432
    port = _mapped_port(ctx, container_port)
    if len(f"{sockdir}/.s.PGSQL.{port}") > MAX_SOCKET_PATH:
        # Too long for a unix socket: a short directory in our data dir (gone with it even if we are
        # killed before cleaning up), else in the system temp dir.
        short = Path(ctx.data_dir or "/nonexistent") / "run" / hashlib.sha1(ctx.task_id.encode()).hexdigest()[:12]
        if ctx.data_dir and len(f"{short}/.s.PGSQL.{port}") <= MAX_SOCKET_PATH:
            short.mkdir(parents=True, exist_ok=True)
            os.chmod(short, 0o700)
            sockdir = short
        else:
            sockdir = Path(tempfile.mkdtemp(prefix="lm-pg-"))
        if privileged:
            os.chown(sockdir, uid, gid)
        cleanup.append(lambda d=sockdir: shutil.rmtree(d, ignore_errors=True))
    if privileged:
        ensure_reachable(pgdata, pw, ctx.data_dir, f"PGDATA {container_pgdata!r} at")
        ensure_reachable(sockdir / "x", pw, ctx.data_dir, "the socket directory")
    if port != container_port:
        alias = sockdir / f".s.PGSQL.{container_port}"
        if alias.is_symlink():
            alias.unlink()
        if not alias.exists():
            alias.symlink_to(f".s.PGSQL.{port}")

    initdb = bindir / "initdb"
    postgres = bindir / "postgres"
    q = shlex.quote
    lines = ["set -e"]
    if data_version is None:
        init = [str(initdb), f"--username={pg_user}", "-D", str(pgdata)]
        if password:
            pwfile = ctx.sandbox / ".lm-pgpass"
            fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(password + "\n")
            if privileged:
                os.chown(pwfile, uid, gid)
            cleanup.append(lambda p=pwfile: p.unlink(missing_ok=True))
            init += [f"--pwfile={pwfile}"]
        # The official image: scram-sha-256 for TCP when a password is set, POSTGRES_HOST_AUTH_METHOD wins;
        # unix-socket connections inside the container are trusted.
        method = user_env.get("POSTGRES_HOST_AUTH_METHOD") or ("scram-sha-256" if password else "trust")
        init += [f"--auth-host={method}", "--auth-local=trust"]
        init += shlex.split(user_env.get("POSTGRES_INITDB_ARGS") or "")
        lines.append("echo 'localmarathon postgres entrypoint: initializing the database cluster'")
        lines.append(" ".join(q(a) for a in init))
        if password:
            lines.append(f"rm -f {q(str(pwfile))}")
        if pg_db != "postgres":
            sql = f"CREATE DATABASE {_sql_ident(pg_db)};"
            lines.append(f"printf '%s\\n' {q(sql)} | {q(str(postgres))} --single -D {q(str(pgdata))} postgres >/dev/null")
        lines.append(f"printf '%s\\n' {q(image_major)} > {q(str(pgdata / IMAGE_MAJOR_FILE))}")
        lines.append("echo 'PostgreSQL init process complete; ready for start up.'")
    else:
        lines.append("echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'")
        if initialized_by != image_major:
            # The server of the image checks PG_VERSION at start and stops with this message.
            version = re.match(r"^\d+(?:\.\d+)*", tag or "")
            running = version.group(0) if version and "." in version.group(0) else image_major
            detail = (f"DETAIL:  The data directory was initialized by PostgreSQL version {initialized_by}, "
                      f"which is not compatible with this version {running}.")
            lines.append(f"echo {q('FATAL:  database files are incompatible with server')} >&2")
            lines.append(f"echo {q(detail)} >&2")
            lines.append("exit 1")
    serve = [str(postgres), "-D", str(pgdata), *server_args,
             "-c", "listen_addresses=127.0.0.1", "-p", str(port), "-k", str(sockdir)]
    lines.append("exec " + " ".join(q(a) for a in serve))

    env = _docker_base_env({"PATH": f"{bindir}:{DEFAULT_PATH}", "PG_MAJOR": bindir.parent.name,
                            "PGDATA": "/var/lib/postgresql/data"})
    env.update(user_env)
    health_env = {}
    if "PGHOST" not in ctx.env:
        health_env["PGHOST"] = str(sockdir)
    env.update(health_env)
    env.update({"HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name})
    return ProcessPlan(
        argv=["/bin/sh", "-c", "\n".join(lines), "docker-entrypoint.sh"],
        env=env, cwd=ctx.sandbox, user=pw if privileged else None,
        stop_signal=signal.SIGINT,  # the image's STOPSIGNAL: fast shutdown
        stop_group=False, min_kill_grace=2.0, exit_label="Container",
        health_env=health_env, cleanup=cleanup,
    )


SHELL_IMAGES = {
    "busybox": ["/bin/sh"],
    "alpine": ["/bin/sh"],
    "ubuntu": ["/bin/bash"],
    "debian": ["/bin/bash"],
    "centos": ["/bin/bash"],
    "bash": ["bash"],
    "python": ["python3"],
}


def _is_pgbouncer(name: str) -> bool:
    return name.rsplit("/", 1)[-1] == "pgbouncer"  # edoburu/pgbouncer, bitnami/pgbouncer, pgbouncer/pgbouncer


def _pooler_plan(ctx: TaskContext) -> ProcessPlan:
    """A pgbouncer image: pooler.py, configured through the image's environment; it listens on the
    host port mapped to LISTEN_PORT (host networking: LISTEN_PORT itself)."""
    if ctx.app.get("cmd") or ctx.app.get("args"):
        return _shell_image_plan(ctx, "pgbouncer", [])
    env = _docker_base_env()
    env.update(ctx.env)
    env["LISTEN_PORT"] = str(_mapped_port(ctx, int(env.get("LISTEN_PORT") or 5432)))
    python = shutil.which("python3", path=DEFAULT_PATH) or "python3"
    argv = [python, str(Path(__file__).with_name("pooler.py"))]
    return ProcessPlan(argv=argv, env=env, cwd=ctx.sandbox, stop_group=False, exit_label="Container")


def supported_images() -> list[str]:
    return sorted({"postgres", "nginx", "httpd", "pgbouncer", *SHELL_IMAGES})


def plan_for(ctx: TaskContext) -> ProcessPlan:
    """How to run this task on this host; LaunchError if it cannot be run."""
    ref = app_image(ctx.app)
    if not ref:
        return _command_plan(ctx)
    name, tag = parse_image(ref)
    if name == "postgres":
        return _postgres_plan(ctx, name, tag)
    if name in SHELL_IMAGES:
        return _shell_image_plan(ctx, name, SHELL_IMAGES[name])
    if name in _WELCOME:
        return _web_image_plan(ctx, name)
    if _is_pgbouncer(name):
        return _pooler_plan(ctx)
    raise LaunchError(
        f"Failed to launch container: Failed to pull image '{ref}': image not supported by localmarathon "
        f"(supported: {', '.join(supported_images())})"
    )
