"""Agent: real task processes, states, environment, kill, and no orphans."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from localmarathon import agent as agent_mod
from localmarathon.agent import Agent, LaunchSpec, build_task_env, launch_delay
from localmarathon.testing import wait_for

TIME_SCALE = 20.0


def marked_pids(marker: str, root=None) -> list[int]:
    """Live processes carrying ``marker`` in their environment or working below ``root``.

    PostgreSQL overwrites its environment block with its process title, so its processes are
    found by their working directory (the data directory) instead. Zombies match neither.
    """
    needle = marker.encode()
    root = os.path.realpath(root) + "/" if root else None
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if root is not None and (os.readlink(f"/proc/{entry}/cwd") + "/").startswith(root):
                found.append(int(entry))
                continue
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle in fh.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def wait_no_marked(marker: str, timeout: float = 5.0, root=None) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        left = marked_pids(marker, root)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


class Recorder:
    """Collects on_status calls and lets a test wait for a state."""

    def __init__(self):
        self.events: list[tuple[float, str, str, str | None, object]] = []
        self.threads: set[int] = set()
        self.cond = threading.Condition()

    def __call__(self, task_id, state, message=None, healthy=None):
        with self.cond:
            self.events.append((time.monotonic(), task_id, state, message, healthy))
            self.threads.add(threading.get_ident())
            self.cond.notify_all()

    def states(self, task_id):
        return [e[2] for e in self.events if e[1] == task_id]

    def wait(self, task_id, state, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if e[1] == task_id and e[2] == state:
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{task_id} never reached {state}; saw {self.states(task_id)}")
                self.cond.wait(left)

    def final(self, task_id, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if e[1] == task_id and e[2] in agent_mod.TERMINAL_STATES:
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{task_id} did not end; saw {self.states(task_id)}")
                self.cond.wait(left)


@pytest.fixture
def marker():
    return "LM_AGENT_TEST_" + uuid.uuid4().hex


@pytest.fixture
def agent(tmp_path, marker):
    a = Agent(tmp_path / "data", "S0", time_scale=TIME_SCALE)
    yield a
    a.shutdown(timeout=5)
    left = wait_no_marked(marker, root=a.data_dir)
    assert not left, f"task processes left behind: {left}"


_counter = iter(range(1, 1_000_000))


def spec_for(agent: Agent, app: dict, marker: str, host_ports=(), volumes=None, version="2026-01-02T03:04:05.678Z"):
    app = dict(app)
    app.setdefault("id", "/test/app")
    app["env"] = {**(app.get("env") or {}), "LM_TEST_MARKER": marker}
    n = next(_counter)
    task_id = f"test_app.instance-{uuid.uuid4()}._app.{n}"
    return LaunchSpec(
        task_id=task_id, instance_id=task_id.rsplit("._app", 1)[0], app=app, app_version=version,
        sandbox_dir=agent.data_dir / "sandboxes" / task_id, volumes=dict(volumes or {}),
        host_ports=list(host_ports),
    )


def read_env_file(path: Path) -> dict:
    env = {}
    for chunk in path.read_bytes().split(b"\0"):
        if b"=" in chunk:
            k, v = chunk.split(b"=", 1)
            env[k.decode()] = v.decode()
    return env


# -------------------------------------------------------------------------------------------------


def test_cmd_app_runs_in_sandbox_with_marathon_env(agent, marker):
    rec = Recorder()
    app = {
        "id": "/prod/web", "cmd": "echo out; echo err >&2; env -0 > env.bin; pwd > pwd.txt",
        "cpus": 0.25, "mem": 64, "disk": 0, "gpus": 0,
        "portDefinitions": [{"port": 10000, "name": "http"}, {"port": 10001}],
        "labels": {"team": "db", "a.b-c": "x y"},
        "env": {"APP_SETTING": "1", "DB_PASSWORD": {"secret": "dbpass"}, "HOST": "overridden-by-app"},
    }
    spec = spec_for(agent, app, marker, host_ports=[31001, 31002])
    agent.launch(spec, rec)
    end = rec.final(spec.task_id)
    assert rec.states(spec.task_id) == ["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    assert end[3] == "Command exited with status 0"
    assert len(rec.threads) == 1 and threading.get_ident() not in rec.threads

    sandbox = spec.sandbox_dir
    assert (sandbox / "stdout").read_text() == "out\n"
    assert (sandbox / "stderr").read_text() == "err\n"
    assert Path((sandbox / "pwd.txt").read_text().strip()).resolve() == sandbox.resolve()
    env = read_env_file(sandbox / "env.bin")
    expected = {
        "MESOS_SANDBOX": str(sandbox), "MESOS_TASK_ID": spec.task_id, "MARATHON_APP_ID": "/prod/web",
        "MARATHON_APP_VERSION": "2026-01-02T03:04:05.678Z",
        "MARATHON_APP_RESOURCE_CPUS": "0.25", "MARATHON_APP_RESOURCE_MEM": "64.0",
        "MARATHON_APP_RESOURCE_DISK": "0.0", "MARATHON_APP_RESOURCE_GPUS": "0",
        "PORT0": "31001", "PORT1": "31002", "PORT": "31001", "PORTS": "31001,31002",
        "PORT_HTTP": "31001", "PORT_10000": "31001", "PORT_10001": "31002",
        "MARATHON_APP_LABELS": "TEAM A_B_C", "MARATHON_APP_LABEL_TEAM": "db", "MARATHON_APP_LABEL_A_B_C": "x y",
        "APP_SETTING": "1", "HOST": "overridden-by-app",
    }
    for key, value in expected.items():
        assert env.get(key) == value, key
    assert "DB_PASSWORD" not in env
    assert "MARATHON_APP_DOCKER_IMAGE" not in env
    # the agent's own environment is inherited, as Mesos' command executor passes it on
    assert env.get("PATH") == os.environ.get("PATH")


def test_args_app_is_executed_without_a_shell(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"args": ["/bin/echo", "$HOME", "a  b"]}, marker)
    agent.launch(spec, rec)
    assert rec.final(spec.task_id)[2] == "TASK_FINISHED"
    assert (spec.sandbox_dir / "stdout").read_text() == "$HOME a  b\n"


def test_nonzero_exit_is_task_failed_with_status(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"cmd": "exit 7"}, marker)
    agent.launch(spec, rec)
    end = rec.final(spec.task_id)
    assert end[2] == "TASK_FAILED"
    assert end[3] == "Command exited with status 7"


def test_missing_program_fails_clearly(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"args": ["no-such-program-xyz"]}, marker)
    agent.launch(spec, rec)
    end = rec.final(spec.task_id)
    assert rec.states(spec.task_id) == ["TASK_STAGING", "TASK_STARTING", "TASK_FAILED"]
    assert end[3].startswith("Failed to launch container: Failed to execute 'no-such-program-xyz'")


def test_kill_sends_sigterm_to_the_process_group(agent, marker):
    rec = Recorder()
    # The background child must get SIGTERM too (Mesos kills the task's process tree).
    cmd = ("(trap 'echo child-term >> child.txt; exit 0' TERM; touch child.ready; sleep 60 & wait) & child=$!; "
           "trap 'echo parent-term; wait $child; exit 0' TERM; touch parent.ready; sleep 60 & wait")
    spec = spec_for(agent, {"cmd": cmd, "taskKillGracePeriodSeconds": 100}, marker)
    agent.launch(spec, rec)
    rec.wait(spec.task_id, "TASK_RUNNING")
    # Both shells have set their traps (a SIGTERM before that would just end them).
    wait_for(lambda: all((spec.sandbox_dir / f).exists() for f in ("child.ready", "parent.ready")), 10,
             "the task's shells to set their traps")
    agent.kill(spec.task_id)
    end = rec.final(spec.task_id)
    assert end[2] == "TASK_KILLED"
    # It exited on SIGTERM by itself, not by SIGKILL after the 5 s (100/20) grace.
    assert end[3] == "Command exited with status 0"
    assert (spec.sandbox_dir / "stdout").read_text() == "parent-term\n"
    assert (spec.sandbox_dir / "child.txt").read_text() == "child-term\n"
    assert wait_no_marked(marker) == []


def test_kill_escalates_to_sigkill_after_scaled_grace(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"cmd": "trap '' TERM; touch ready; while :; do sleep 0.02; done",
                            "taskKillGracePeriodSeconds": 10}, marker)
    agent.launch(spec, rec)
    rec.wait(spec.task_id, "TASK_RUNNING")
    wait_for(lambda: (spec.sandbox_dir / "ready").exists(), 10, "the task to ignore SIGTERM")
    started = time.monotonic()
    agent.kill(spec.task_id)
    end = rec.final(spec.task_id, timeout=30)
    took = end[0] - started
    assert end[2] == "TASK_KILLED"
    assert end[3] == "Command terminated with signal Killed"
    # grace 10 s / time scale 20 = 0.5 s: SIGKILL not before it, and not after the unscaled 10 s
    assert 0.45 <= took < 10.0, took
    assert wait_no_marked(marker) == []


def test_explicit_zero_grace_kills_at_once(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"cmd": "trap '' TERM; sleep 30", "taskKillGracePeriodSeconds": 100}, marker)
    agent.launch(spec, rec)
    rec.wait(spec.task_id, "TASK_RUNNING")
    started = time.monotonic()
    agent.kill(spec.task_id, grace_seconds=0)
    end = rec.final(spec.task_id)
    assert end[2] == "TASK_KILLED" and end[0] - started < 5.0  # not the app's 100 s / 20 = 5 s


def test_kill_right_after_launch_never_reports_running_after_killed(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"cmd": "sleep 30"}, marker)
    agent.launch(spec, rec)
    agent.kill(spec.task_id)
    end = rec.final(spec.task_id)
    assert end[2] == "TASK_KILLED"
    states = rec.states(spec.task_id)
    assert states[0] == "TASK_STAGING" and states[-1] == "TASK_KILLED"
    assert states.count("TASK_KILLED") == 1


def test_kill_unknown_or_finished_task_is_a_no_op(agent, marker):
    rec = Recorder()
    agent.kill("nope.instance-x._app.1")
    spec = spec_for(agent, {"cmd": "true"}, marker)
    agent.launch(spec, rec)
    rec.final(spec.task_id)
    agent.kill(spec.task_id)
    time.sleep(0.1)
    assert rec.states(spec.task_id)[-1] == "TASK_FINISHED"
    assert rec.states(spec.task_id).count("TASK_FINISHED") == 1


def test_leftover_background_processes_die_with_the_task(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"cmd": "sleep 60 & echo $! > bg.pid; exit 0"}, marker)
    agent.launch(spec, rec)
    assert rec.final(spec.task_id)[2] == "TASK_FINISHED"
    pid = int((spec.sandbox_dir / "bg.pid").read_text())
    wait_for(lambda: pid not in marked_pids(marker), 10, "the background process to die with its task")


def test_duplicate_task_id_is_refused(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"cmd": "sleep 30"}, marker)
    agent.launch(spec, rec)
    with pytest.raises(ValueError, match="already running"):
        agent.launch(spec, rec)
    agent.kill(spec.task_id, grace_seconds=0)
    rec.final(spec.task_id)


def test_persistent_and_host_volumes_are_visible_in_the_sandbox(agent, marker, tmp_path):
    rec = Recorder()
    vol = tmp_path / "data" / "volumes" / "test_app#data#1"
    vol.mkdir(parents=True)
    (vol / "old.txt").write_text("kept\n")
    app = {
        "cmd": 'cat "$MESOS_SANDBOX/data/old.txt" && echo new > "$MESOS_SANDBOX/data/new.txt" && echo h > logs/h.txt',
        "container": {"type": "MESOS", "volumes": [
            {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}},
            {"containerPath": "logs", "hostPath": "scratch", "mode": "RW"},
        ]},
    }
    spec = spec_for(agent, app, marker, volumes={"data": vol})
    agent.launch(spec, rec)
    assert rec.final(spec.task_id)[2] == "TASK_FINISHED", rec.events
    assert (spec.sandbox_dir / "stdout").read_text() == "kept\n"
    assert (vol / "new.txt").read_text() == "new\n"
    assert (spec.sandbox_dir / "data").is_symlink()
    assert (spec.sandbox_dir / "scratch" / "h.txt").read_text() == "h\n"


def test_missing_reservation_fails_the_task(agent, marker):
    rec = Recorder()
    app = {"cmd": "true", "container": {"type": "MESOS", "volumes": [
        {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]}}
    spec = spec_for(agent, app, marker)
    agent.launch(spec, rec)
    end = rec.final(spec.task_id)
    assert rec.states(spec.task_id) == ["TASK_STAGING", "TASK_FAILED"]
    assert "no reserved volume for persistent volume 'data'" in end[3]


def test_bridge_port_mappings_and_docker_env(agent, marker, monkeypatch):
    monkeypatch.setenv("LM_AGENT_ONLY", "1")
    rec = Recorder()
    app = {
        "cmd": "env -0 > env.bin",
        "container": {"type": "DOCKER", "docker": {"image": "busybox:1.36"}, "portMappings": [
            {"containerPort": 8080, "hostPort": 0, "name": "web"},
            {"containerPort": 9000, "hostPort": 0},
        ]},
        "networks": [{"mode": "container/bridge"}],
    }
    spec = spec_for(agent, app, marker, host_ports=[31010, 31011])
    running_wall = []

    def on_status(task_id, state, message=None, healthy=None):
        if state == "TASK_RUNNING":
            running_wall.append(time.time())
        rec(task_id, state, message, healthy)

    launched_wall = time.time()
    agent.launch(spec, on_status)
    assert rec.final(spec.task_id)[2] == "TASK_FINISHED"
    env = read_env_file(spec.sandbox_dir / "env.bin")
    assert env["PORT0"] == "31010" and env["PORT1"] == "31011" and env["PORTS"] == "31010,31011"
    assert env["PORT_WEB"] == "31010" and env["PORT_8080"] == "31010" and env["PORT_9000"] == "31011"
    assert env["MARATHON_APP_DOCKER_IMAGE"] == "busybox:1.36"
    assert "MESOS_DIRECTORY" not in env
    # a container starts from the image's environment, not the agent's
    assert "LM_AGENT_ONLY" not in env
    info = agent.task_info(spec.task_id)
    assert info["ports"] == [31010, 31011]
    assert info["container_ports"] == {8080: 31010, 9000: 31011}
    assert info["instance_id"] == spec.instance_id and info["sandbox"] == str(spec.sandbox_dir)
    # started_at is the wall-clock time of TASK_RUNNING: after the launch, before its report
    assert launched_wall <= info["started_at"] <= running_wall[0]


def test_unknown_image_fails_like_a_pull_failure(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"container": {"type": "DOCKER", "docker": {"image": "acme/secret-sauce:2"}}}, marker)
    agent.launch(spec, rec)
    end = rec.final(spec.task_id)
    assert rec.states(spec.task_id) == ["TASK_STAGING", "TASK_FAILED"]
    assert end[3].startswith("Failed to launch container: Failed to pull image 'acme/secret-sauce:2': "
                             "image not supported by localmarathon (supported: ")
    assert "postgres" in end[3]


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to the app's user needs root")
def test_app_user_is_honoured(agent, marker):
    rec = Recorder()
    nobody = pwd.getpwnam("nobody")
    spec = spec_for(agent, {"cmd": "id -u; echo $USER", "user": "nobody"}, marker)
    agent.launch(spec, rec)
    assert rec.final(spec.task_id)[2] == "TASK_FINISHED"
    assert (spec.sandbox_dir / "stdout").read_text() == f"{nobody.pw_uid}\nnobody\n"


def test_unknown_app_user_fails(agent, marker):
    rec = Recorder()
    spec = spec_for(agent, {"cmd": "true", "user": "no-such-user-xyz"}, marker)
    agent.launch(spec, rec)
    end = rec.final(spec.task_id)
    if os.geteuid() == 0:
        assert end[2] == "TASK_FAILED" and "user 'no-such-user-xyz' does not exist" in end[3]
    else:
        assert end[2] == "TASK_FINISHED"


def test_shutdown_kills_every_task_and_refuses_new_ones(tmp_path, marker):
    a = Agent(tmp_path / "data", "S1", time_scale=TIME_SCALE)
    rec = Recorder()
    specs = [spec_for(a, {"cmd": "trap '' TERM; sleep 60"}, marker) for _ in range(3)]
    for s in specs:
        a.launch(s, rec)
    for s in specs:
        rec.wait(s.task_id, "TASK_RUNNING")
    assert sorted(a.task_ids()) == sorted(s.task_id for s in specs)
    started = time.monotonic()
    a.shutdown(timeout=2)
    assert time.monotonic() - started < 2 + 2  # its timeout, plus the 2 s it gives a SIGKILL at most
    for s in specs:
        assert rec.states(s.task_id)[-1] == "TASK_KILLED"
    assert wait_no_marked(marker, timeout=10) == []
    with pytest.raises(RuntimeError, match="shut down"):
        a.launch(spec_for(a, {"cmd": "true"}, marker), rec)


HOST_SCRIPT = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from localmarathon.agent import Agent, LaunchSpec
    data, marker = Path(sys.argv[1]), sys.argv[2]
    a = Agent(data, "S0")
    running = []
    done = threading.Event()
    def cb(task_id, state, message=None, healthy=None):
        if state == "TASK_RUNNING":
            running.append(task_id)
            if len(running) == 2:
                done.set()
    cmds = ["sleep 300", "trap '' TERM; (sleep 300 & sleep 300 & wait) & sleep 300 & wait"]
    for i, cmd in enumerate(cmds):
        app = {"id": "/orphan", "cmd": cmd, "env": {"LM_TEST_MARKER": marker}}
        tid = f"orphan.instance-{i}._app.1"
        a.launch(LaunchSpec(tid, tid[:-7], app, "v", data / "sandboxes" / tid, {}, []), cb)
    done.wait(10)
    print("ready", flush=True)
    threading.Event().wait()
""")


def test_tasks_die_when_the_agent_process_is_sigkilled(tmp_path, marker):
    host = subprocess.Popen([sys.executable, "-c", HOST_SCRIPT, str(tmp_path / "data"), marker],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert host.stdout.readline().strip() == "ready"
        # 4 sleeps, 2 shells, 1 subshell (the first shell may exec its sleep): wait until all forked
        wait_for(lambda: len(marked_pids(marker)) >= 6, 30, "every task process to fork")
        host.send_signal(signal.SIGKILL)
        host.wait(5)
        left = wait_no_marked(marker, timeout=10)
        assert left == [], f"orphans after the agent died: {left}"
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
        for pid in marked_pids(marker):  # never leave anything behind, even when failing
            os.kill(pid, signal.SIGKILL)


def test_cmd_task_is_running_before_its_command_does_anything(agent, marker):
    # TASK_RUNNING is reported once the process exists, not after the command got somewhere. How fast
    # that is depends on the machine's load; bench/localmarathon_bench.py measures it
    # (cmd_post_to_running_s), a test does not.
    rec = Recorder()
    spec = spec_for(agent, {"cmd": "while [ ! -e go ]; do sleep 0.01; done; echo went"}, marker)
    agent.launch(spec, rec)
    rec.wait(spec.task_id, "TASK_RUNNING", timeout=30)
    assert rec.states(spec.task_id) == ["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING"]
    (spec.sandbox_dir / "go").touch()
    assert rec.final(spec.task_id)[2] == "TASK_FINISHED"
    assert (spec.sandbox_dir / "stdout").read_text() == "went\n"


# ---- pure helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value,text", [(1, "1.0"), (0.1, "0.1"), (128, "128.0"), (0, "0.0"), (0.001, "0.001"),
                                        (1e7, "1.0E7"), (0.0001, "1.0E-4"), (2.5, "2.5")])
def test_scala_double_rendering(value, text):
    assert agent_mod._scala_double(value) == text


@pytest.mark.parametrize("failures,expected", [(0, 0.0), (1, 1.0), (2, 1.15), (3, 1.3225), (100, 3600.0)])
def test_launch_delay_is_marathons_backoff(failures, expected):
    assert launch_delay(1, 1.15, 3600, failures) == pytest.approx(expected)


def test_launch_delay_is_scaled():
    assert launch_delay(10, 2, 300, 3, time_scale=20) == pytest.approx(2.0)


def test_env_without_ports_has_empty_ports_and_no_port():
    spec = LaunchSpec("a.instance-1._app.1", "a.instance-1", {"id": "/a", "cmd": "x", "portDefinitions": []},
                      "v1", Path("/sb"), {}, [])
    env = build_task_env(spec)
    assert env["PORTS"] == "" and "PORT" not in env and "PORT0" not in env
    assert env["MARATHON_APP_LABELS"] == ""


def test_user_network_mapping_without_host_port_uses_container_port():
    app = {"id": "/a", "networks": [{"mode": "container", "name": "dcos"}],
           "container": {"type": "DOCKER", "docker": {"image": "busybox"},
                         "portMappings": [{"containerPort": 80, "name": "http"},
                                          {"containerPort": 9090, "hostPort": 0}]}}
    spec = LaunchSpec("a.instance-1._app.1", "a.instance-1", app, "v1", Path("/sb"), {}, [31500])
    env = build_task_env(spec, "127.0.0.1")
    assert env["PORT0"] == "80" and env["PORT_HTTP"] == "80"
    assert env["PORT1"] == "31500" and env["PORT_9090"] == "31500"
    assert env["PORTS"] == "80,31500"


def test_callbacks_may_kill_and_may_raise(agent, marker):
    rec = Recorder()

    def on_status(task_id, state, message=None, healthy=None):
        rec(task_id, state, message, healthy)
        if state == "TASK_RUNNING":
            agent.kill(task_id, grace_seconds=0)  # re-entering the agent from its own thread
        if state == "TASK_STARTING":
            raise RuntimeError("scheduler bug")  # logged; the task goes on

    spec = spec_for(agent, {"cmd": "sleep 30"}, marker)
    agent.launch(spec, on_status)
    end = rec.final(spec.task_id, timeout=5)
    assert end[2] == "TASK_KILLED"
    assert rec.states(spec.task_id) == ["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"]


def test_ended_tasks_are_forgotten_after_a_bounded_history(agent, marker, monkeypatch):
    monkeypatch.setattr(agent_mod, "ENDED_TASKS_KEPT", 2)
    rec = Recorder()
    specs = [spec_for(agent, {"cmd": "true"}, marker) for _ in range(3)]
    for s in specs:
        agent.launch(s, rec)
        rec.final(s.task_id)
    # the worker files the task away right after its last report
    wait_for(lambda: agent.task_info(specs[0].task_id) is None, 10, "the oldest ended task to be forgotten")
    assert agent.task_info(specs[2].task_id)["task_id"] == specs[2].task_id
    assert agent.task_ids() == []
