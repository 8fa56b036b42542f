"""Fixtures of the reliability suite (docs/reliability.md).

Everything is real: each test starts its own localmarathon process on 127.0.0.1 (port 0), runs
the collection's modules as separate Python processes exactly as Ansible ships them (the module
file with an args file), or ansible-playbook with a generated playbook, and judges the outcome
from the server's request log (requests.jsonl), its data directory and the module's JSON result.

The controller process collects one record per test (category, outcome, duration, the
properties a test recorded, such as "lost" or "examples") and writes them to
tests/output/reliability/results.json (or $RELIABILITY_RESULTS); scripts/reliability_report.py
turns that file into docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localmarathon.testing import LocalMarathon, provenance

REPO = Path(__file__).resolve().parents[2]
RESULTS = Path(os.environ.get("RELIABILITY_RESULTS") or REPO / "tests" / "output" / "reliability" / "results.json")
TIME_SCALE = 20.0
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

CATEGORIES = {
    "test_faults.py": "faults",
    "test_bad_input.py": "bad_input",
    "test_data_safety.py": "data_safety",
    "test_secrets.py": "secrets",
    "test_tls.py": "tls",
    "test_failfast.py": "fail_fast",
}


# ---- result collection (controller side; with xdist the reports arrive from the workers) ----

_records: list[dict] = []
_started = time.time()


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        fname = report.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
        if fname not in CATEGORIES:
            return  # tests of the suite's own tools are not reliability cases
        props = dict(report.user_properties)
        _records.append({
            "nodeid": report.nodeid,
            "category": CATEGORIES[fname],
            "outcome": report.outcome,
            "duration": round(report.duration, 3),
            "case": props.pop("case", None),
            "lost": props.pop("lost", []),
            "examples": props.pop("examples", None),
            "properties": props,
            # The first line of the failure is enough for the report; the full text is in pytest's output.
            "failure": (str(report.longrepr).strip().splitlines() or [""])[-1][:300] if report.failed else None,
        })


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput") or not _records:
        return
    import ansible

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "started": _started,
        "finished": time.time(),
        "python": platform.python_version(),
        "ansible_core": ansible.__version__,
        "time_scale": TIME_SCALE,
        "provenance": provenance(REPO),
        "workers": os.environ.get("PYTEST_XDIST_WORKER_COUNT") or getattr(session.config.option, "numprocesses", None),
        "records": sorted(_records, key=lambda r: r["nodeid"]),
    }
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    tmp.replace(RESULTS)


# ---- running the collection's modules ----------------------------------------------------------


@pytest.fixture(scope="session")
def collections_root(tmp_path_factory) -> Path:
    """A collections tree with dcos.marathon pointing at this checkout (independent of make venv)."""
    root = tmp_path_factory.mktemp("collections")
    ns = root / "ansible_collections" / "dcos"
    ns.mkdir(parents=True)
    (ns / "marathon").symlink_to(REPO)
    return root


class ModuleRun:
    """One module process; ``result`` is its JSON answer (None if stdout was not JSON)."""

    def __init__(self, proc: subprocess.Popen, started: float, args_file: Path):
        self.proc = proc
        self.started = started
        self.args_file = args_file
        self.rc = None
        self.stdout = self.stderr = ""
        self.result = None
        self.seconds = None

    def wait(self, timeout: float = 180) -> "ModuleRun":
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"module did not finish within {timeout}s: {out[-2000:]} {err[-2000:]}")
        self.seconds = time.time() - self.started
        self.rc, self.stdout, self.stderr = self.proc.returncode, out, err
        try:
            self.result = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
        except ValueError:
            self.result = None
        self.args_file.unlink(missing_ok=True)  # it may hold credentials
        return self

    @property
    def failed(self) -> bool:
        return bool(self.result and self.result.get("failed"))

    @property
    def msg(self) -> str:
        return str((self.result or {}).get("msg", ""))

    def assert_clean(self):
        """A JSON answer, no traceback anywhere."""
        assert self.result is not None, f"module printed no JSON result: rc={self.rc} {self.stdout[-2000:]} {self.stderr[-2000:]}"
        for text in (self.stdout, self.stderr):
            assert "Traceback (most recent call last)" not in text, text[-3000:]
        assert "exception" not in self.result, self.result.get("exception")
        assert "MODULE FAILURE" not in self.msg, self.msg


@pytest.fixture
def module_runner(collections_root, tmp_path):
    """``start(name, args, check=False, diff=False)`` → ModuleRun (running); ``run(...)`` waits."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(collections_root)
    # The connection options fall back to these; a test sets what it means.
    for name in ("MARATHON_URL", "DCOS_URL", "DCOS_ACS_TOKEN", "DCOS_USERNAME", "DCOS_PASSWORD", "DCOS_SERVICE_ACCOUNT",
                 "DCOS_PRIVATE_KEY", "MARATHON_VALIDATE_CERTS", "MARATHON_CA_PATH"):
        env.pop(name, None)
    counter = iter(range(1_000_000))

    class Runner:
        def start(self, name, args, check=False, diff=False, extra_env=None) -> ModuleRun:
            payload = dict(args)
            # The module runs alone, as it runs once the action plugin has the version cached
            # (localmarathon's); a test that means the module to read it sets marathon_version=None.
            payload.setdefault("marathon_version", "1.10.26")
            payload["_ansible_check_mode"] = check
            payload["_ansible_diff"] = diff
            path = tmp_path / f"args-{next(counter)}.json"
            path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": payload}))
            path.chmod(0o600)
            proc = subprocess.Popen(
                [sys.executable, "-m", f"ansible_collections.dcos.marathon.plugins.modules.{name}", str(path)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(tmp_path),
                env=dict(env, **(extra_env or {})),
            )
            return ModuleRun(proc, time.time(), path)

        def run(self, name, args, timeout=180, **kw) -> ModuleRun:
            return self.start(name, args, **kw).wait(timeout)

    return Runner()


@pytest.fixture
def playbook_runner(collections_root, tmp_path):
    """``run(plays, *args)`` runs ansible-playbook (the venv's) on a generated playbook against
    localhost; returns the CompletedProcess (text stdout/stderr)."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    # Our own empty config, so the checkout's ansible.cfg or a user's ~/.ansible.cfg plays no part.
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_root), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_HOME=str(tmp_path / "ansible-home"),
               ANSIBLE_CONFIG=str(config), ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_STDOUT_CALLBACK="default")
    for name in ("MARATHON_URL", "DCOS_URL", "DCOS_ACS_TOKEN", "DCOS_USERNAME", "DCOS_PASSWORD", "DCOS_PRIVATE_KEY"):
        env.pop(name, None)
    counter = iter(range(1_000_000))

    class Runner:
        def run(self, plays, *args, timeout=300, extra_env=None):
            path = tmp_path / f"play-{next(counter)}.yml"
            path.write_text(json.dumps(plays, indent=1))
            cmd = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), str(path), *args]
            return subprocess.run(cmd, env=dict(env, **(extra_env or {})), cwd=str(tmp_path), capture_output=True,
                                  text=True, timeout=timeout, check=False)

    return Runner()


# ---- localmarathon -----------------------------------------------------------------------------


def log_since(lm: LocalMarathon, since: float) -> list[dict]:
    """Non-admin requests logged at or after ``since`` (epoch seconds)."""
    return [r for r in lm.requests() if r["time"] >= since]


def writes_since(lm: LocalMarathon, since: float) -> list[dict]:
    return [r for r in log_since(lm, since) if r["write"]]


def volumes(lm: LocalMarathon) -> dict[str, Path]:
    """Persistence id → directory of every local persistent volume on disk."""
    root = lm.data_dir / "volumes"
    return {p.name: p for p in sorted(root.iterdir())} if root.is_dir() else {}


# The lm and api fixtures (localmarathon.testing.Api) come from localmarathon.pytest_plugin.
@pytest.fixture
def localmarathon_time_scale() -> float:
    return TIME_SCALE
