"""Category 4: secrets never reach output, return values or diffs (issue 8, item 4), and on DC/OS
Enterprise the database password is never readable from Marathon (issue 18).

One localmarathon as DC/OS Enterprise (--enterprise: a secret store, Marathon with the secrets
feature) with DC/OS authentication (a user and a service account) and real PostgreSQL;
scenarios covering every way a secret enters the collection run with ansible-playbook -vvv --diff:
user login, service-account login (key as PEM content and as a file), a given ACS token, secret
app environment (by name and by secret_env), updates of a secret (diff), check mode, failed
logins, the stateful_postgres role (which also runs marathon_app_info and marathon_task_info) and
removal, dcos_secret (create, rerun, check mode, update), and the role with
stateful_postgres_password_secret (the vaulted password written to the secret store, then changed).
Every registered result is written to a file. The captured stdout/stderr, that file and the
module's own return values must contain none of the passwords, tokens or private key material used,
nor any JWT at all. The passwords that went to the secret store must also be in no answer of
Marathon's API (apps, every version, tasks, deployments, groups, queue), no event of the stream
and no line of localmarathon's request log.
"""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from localmarathon.testing import LOGIN_PATH, LocalMarathon

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def _key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def world_dir():
    # PostgreSQL (the role's app) runs as the postgres user, which must reach the data dir.
    path = Path(tempfile.mkdtemp(prefix="rel-secrets-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def needles(values: dict) -> dict:
    """Strings whose presence anywhere is a leak: each secret whole, and each line of the key body."""
    out = {}
    for name, value in values.items():
        out[name] = value
        if "PRIVATE KEY-----" in value:
            body = [ln for ln in value.splitlines() if ln and not ln.startswith("-----")]
            for i, line in enumerate(body):
                out[f"{name} line {i + 1}"] = line
    return out


def play(lm_url, tasks):
    return {"hosts": "localhost", "gather_facts": False,
            "module_defaults": {"group/dcos.marathon.marathon": {"marathon_url": lm_url},
                                # secret_env is given only where a definition is; the stop/start
                                # tasks by app_id must mask DB_CONN from the app's label alone.
                                "dcos.marathon.marathon_app": {"wait_timeout": 120}},
            "tasks": tasks}


def task(name, module, args, register=None, **extra):
    t = {"name": name, module: args, **extra}
    if register:
        t["register"] = register
    return t


class EventCapture:
    """Marathon's event stream (/v2/events), raw, from now until closed."""

    def __init__(self, url, token):
        self.chunks = []
        self.resp = requests.get(url + "/v2/events", stream=True, timeout=30,
                                 headers={"Accept": "text/event-stream", "Authorization": "token=" + token})
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            # Byte by byte: a larger read blocks until it is filled, and holds the connection
            # so that close() would wait for it.
            for line in self.resp.iter_lines(chunk_size=1, decode_unicode=True):
                self.chunks.append(line + "\n")
        except Exception:  # closed by the test
            pass

    def close(self):
        self.resp.close()
        self.thread.join(timeout=5)
        return "".join(self.chunks)


def marathon_reads(url, token):
    """Every Marathon answer about the apps: lists with embeds, each app and each of its versions,
    tasks, deployments, groups and the queue."""
    s = requests.Session()
    s.headers["Authorization"] = "token=" + token
    texts = []

    def get(path):
        r = s.get(url + path, timeout=30)
        assert r.status_code == 200, (path, r.status_code)
        texts.append(r.text)
        return r.json()

    apps = get("/v2/apps?embed=apps.tasks&embed=apps.deployments&embed=apps.lastTaskFailure")["apps"]
    for app in apps:
        get("/v2/apps" + app["id"])
        for version in get("/v2/apps" + app["id"] + "/versions")["versions"]:
            get("/v2/apps" + app["id"] + "/versions/" + version)
    for path in ("/v2/tasks", "/v2/deployments", "/v2/groups?embed=group.apps", "/v2/queue", "/v2/info"):
        get(path)
    return "\n".join(texts)


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries not installed")
def test_no_secret_in_output_results_or_diffs(world_dir, playbook_runner, record_property):
    record_property("case", "every secret-bearing scenario at -vvv --diff")
    user_pw = "ops-" + secrets.token_urlsafe(18)
    app_pw = "app-" + secrets.token_urlsafe(18)
    app_pw2 = "app2-" + secrets.token_urlsafe(18)
    conn_secret = "conn-" + secrets.token_urlsafe(18)
    pg_pw = "pg-" + secrets.token_urlsafe(18)
    wrong_pw = "wrong-" + secrets.token_urlsafe(18)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    key_file = world_dir / "deployer.pem"
    key_file.write_text(_key_pem(key))
    key_file.chmod(0o600)
    # Only in the secret store: never in Marathon either.
    stored = {"dcos_secret value": "store-" + secrets.token_urlsafe(18),
              "changed dcos_secret value": "store2-" + secrets.token_urlsafe(18),
              "vaulted PostgreSQL password (secret store)": "eepg-" + secrets.token_urlsafe(18),
              "changed vaulted PostgreSQL password (secret store)": "eepg2-" + secrets.token_urlsafe(18)}
    config = {"users": {"ops": user_pw}, "service_accounts": {"deployer": public}, "token_ttl_seconds": 3600}
    with LocalMarathon(world_dir / "lm", auth="dcos", auth_config=config, time_scale=60.0,
                       extra_args=["--enterprise"]) as lm:
        token = requests.post(lm.url + LOGIN_PATH, json={"uid": "ops", "password": user_pw}, timeout=10).json()["token"]
        secret_values = {"user password": user_pw, "app password": app_pw, "changed app password": app_pw2,
                         "secret_env value": conn_secret, "PostgreSQL password": pg_pw, "wrong password": wrong_pw,
                         "private key": _key_pem(key), "other private key": _key_pem(other_key), "ACS token": token,
                         **stored}
        # Secrets reach the playbook only as extra vars from a file, as from a vault.
        vars_file = world_dir / "secrets.json"
        ee_vars = {"store_value": stored["dcos_secret value"], "store_value2": stored["changed dcos_secret value"],
                   "ee_pg_pw": stored["vaulted PostgreSQL password (secret store)"],
                   "ee_pg_pw2": stored["changed vaulted PostgreSQL password (secret store)"]}
        vars_file.write_text(json.dumps({
            "user_pw": user_pw, "app_pw": app_pw, "app_pw2": app_pw2, "conn_secret": conn_secret, "pg_pw": pg_pw,
            "wrong_pw": wrong_pw, "sa_key": _key_pem(key), "other_key": _key_pem(other_key), "acs_token": token,
            **ee_vars,
        }))
        events = EventCapture(lm.url, token)
        results_file = world_dir / "results.json"
        user = {"dcos_username": "ops", "dcos_password": "{{ user_pw }}"}
        sa_content = {"dcos_service_account": "deployer", "dcos_private_key": "{{ sa_key }}"}
        sa_file = {"dcos_service_account": "deployer", "dcos_private_key": str(key_file)}

        def app(pw, conn):
            return {"id": "/sec/web", "cmd": "sleep 100000", "cpus": 0.1, "mem": 32, "instances": 1,
                    "env": {"POSTGRES_PASSWORD": pw, "DB_CONN": conn, "PLAIN": "visible"},
                    "container": {"type": "MESOS", "volumes": [
                        {"containerPath": "data", "mode": "RW", "persistent": {"size": 10}}]},
                    "upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0}}

        ma = "dcos.marathon.marathon_app"
        ds = "dcos.marathon.dcos_secret"
        tasks = [
            task("create with a user login", ma, dict(user, definition=app("{{ app_pw }}", "{{ conn_secret }}"),
                                                      secret_env=["DB_CONN"]), "r_create"),
            task("rerun, no change", ma, dict(user, definition=app("{{ app_pw }}", "{{ conn_secret }}"),
                                              secret_env=["DB_CONN"]), "r_rerun"),
            task("check mode: change the password (diff)", ma,
                 dict(sa_content, definition=app("{{ app_pw2 }}", "{{ conn_secret }}"), secret_env=["DB_CONN"]),
                 "r_check", check_mode=True),
            task("change the password with a service account", ma,
                 dict(sa_content, definition=app("{{ app_pw2 }}", "{{ conn_secret }}"), secret_env=["DB_CONN"]),
                 "r_update"),
            task("stop with the key file", ma, dict(sa_file, app_id="/sec/web", state="stopped"), "r_stop"),
            task("start with a given token", ma, {"dcos_acs_token": "{{ acs_token }}", "app_id": "/sec/web",
                                                  "state": "started"}, "r_start"),
            task("wrong password", ma, {"dcos_username": "ops", "dcos_password": "{{ wrong_pw }}",
                                        "app_id": "/sec/web"}, "r_wrong_pw", ignore_errors=True),
            task("wrong private key", ma, {"dcos_service_account": "deployer", "dcos_private_key": "{{ other_key }}",
                                           "app_id": "/sec/web"}, "r_wrong_key", ignore_errors=True),
            task("token for the wrong cluster path", ma, {"dcos_acs_token": "{{ acs_token }}x", "app_id": "/sec/web"},
                 "r_bad_token", ignore_errors=True),
            task("remove", ma, dict(user, app_id="/sec/web", state="absent", allow_data_loss=True), "r_absent"),
            task("create a secret", ds, dict(user, path="sec/token", value="{{ store_value }}"), "r_secret"),
            task("rerun the secret", ds, dict(user, path="sec/token", value="{{ store_value }}"), "r_secret_rerun"),
            task("check mode: change the secret (diff)", ds, dict(user, path="sec/token", value="{{ store_value2 }}"),
                 "r_secret_check", check_mode=True),
            task("change the secret", ds, dict(sa_content, path="sec/token", value="{{ store_value2 }}"),
                 "r_secret_update"),
        ]
        role = {"role": "dcos.marathon.stateful_postgres", "stateful_postgres_app_id": "/sec/pg",
                "stateful_postgres_password": "{{ pg_pw }}", "stateful_postgres_cpus": 0.2,
                "stateful_postgres_mem": 256, "stateful_postgres_marathon_url": lm.url,
                "stateful_postgres_dcos_username": "ops", "stateful_postgres_dcos_password": "{{ user_pw }}",
                "stateful_postgres_wait_timeout": 120}
        # DC/OS Enterprise: the vaulted password goes to the secret store, the app only references it;
        # then the vault's password changes (the secret is updated, nothing else).
        ee_role = dict(role, stateful_postgres_app_id="/sec/ee-pg", stateful_postgres_password="{{ ee_pg_pw }}",
                       stateful_postgres_password_secret="sec/ee-pg/password")
        ee_role_changed = dict(ee_role, stateful_postgres_password="{{ ee_pg_pw2 }}")
        dump = {"name": "write every registered result", "ansible.builtin.copy": {
            "dest": str(results_file), "mode": "0600",
            "content": "{{ {'create': r_create, 'rerun': r_rerun, 'check': r_check, 'update': r_update, "
                       "'stop': r_stop, 'start': r_start, 'wrong_pw': r_wrong_pw, "
                       "'wrong_key': r_wrong_key, 'bad_token': r_bad_token, 'absent': r_absent, "
                       "'secret': r_secret, 'secret_rerun': r_secret_rerun, 'secret_check': r_secret_check, "
                       "'secret_update': r_secret_update, "
                       "'role_app': role_app, 'ee_role_app': ee_role_app, 'ee_role_secret': ee_role_secret, "
                       "'ee_role_changed_secret': stateful_postgres_secret} | to_nice_json }}"}}
        plays = [play(lm.url, tasks),
                 {"hosts": "localhost", "gather_facts": False, "roles": [role],
                  "post_tasks": [task("stop the role's app", "dcos.marathon.marathon_app", dict(
                      user, marathon_url=lm.url, app_id="/sec/pg", state="absent", allow_data_loss=True)),
                      {"name": "keep the role's result", "ansible.builtin.set_fact": {
                          "role_app": "{{ stateful_postgres_app }}"}}]},
                 {"hosts": "localhost", "gather_facts": False, "roles": [ee_role],
                  "post_tasks": [{"name": "keep the enterprise role's results", "ansible.builtin.set_fact": {
                      "ee_role_app": "{{ stateful_postgres_app }}", "ee_role_secret": "{{ stateful_postgres_secret }}"}}]},
                 {"hosts": "localhost", "gather_facts": False, "roles": [ee_role_changed], "post_tasks": [dump]}]
        # Every result carries the module arguments it ran with ("invocation"), where no_log must mask
        # them: ansible-core 2.21 adds them only when asked (inject_invocation), older cores always.
        out = playbook_runner.run(plays, "-vvv", "--diff", "-e", f"@{vars_file}", timeout=400,
                                  extra_env={"ANSIBLE_INJECT_INVOCATION": "true"})
        output = out.stdout + out.stderr
        assert out.returncode == 0, output[-5000:]
        results = json.loads(results_file.read_text())
        # Everything Marathon serves about the apps, while they still exist.
        marathon_answers = marathon_reads(lm.url, token)
        event_stream = events.close()
        request_log = (lm.data_dir / "requests.jsonl").read_text()

    # The scenarios did what they claim (so that the scan below means something).
    assert results["create"]["changed"] and not results["rerun"]["changed"]
    assert results["check"]["changed"] and "env" in results["check"]["changes"]
    assert results["update"]["changed"] and results["stop"]["changed"] and results["start"]["changed"]
    assert results["wrong_pw"]["failed"] and "401" in results["wrong_pw"]["msg"]
    assert results["wrong_key"]["failed"] and results["bad_token"]["failed"]
    assert results["role_app"]["tasks_healthy"] == 1
    assert results["secret"]["changed"] and not results["secret_rerun"]["changed"]
    assert results["secret_check"]["changed"] and results["secret_check"]["diff"]["after"]["value"] == "changed"
    assert results["secret_update"]["action"] == "update"
    assert results["ee_role_secret"]["action"] == "create" and results["ee_role_app"]["tasks_healthy"] == 1
    assert results["ee_role_changed_secret"]["action"] == "update"
    assert "postgres_password" in marathon_answers and "sec/ee-pg/password" in marathon_answers
    assert "deployment_success" in event_stream
    assert results["create"]["app"]["env"]["PLAIN"] == "visible"
    assert results["create"]["app"]["env"]["DB_CONN"] == "********", "secret_env is masked"
    assert "--- before" in output or '"before"' in output, "diffs were printed"
    assert "ESTABLISH LOCAL CONNECTION" in output and '"invocation"' in output, "the run was verbose"

    texts = {"ansible-playbook output (-vvv --diff)": output, "registered results": json.dumps(results),
             "registered results (raw file)": results_file.read_text()}
    hits = []
    for where, text in texts.items():
        for name, value in needles(secret_values).items():
            if value in text:
                hits.append(f"{name} in {where}")
        for jwt in set(JWT_RE.findall(text)):
            hits.append(f"a JWT ({jwt[:12]}...) in {where}")
    # The secret store's values: also in no Marathon answer, event or request log line.
    for where, text in {"Marathon API answers": marathon_answers, "the event stream": event_stream,
                        "localmarathon's request log": request_log}.items():
        for name, value in stored.items():
            if value in text:
                hits.append(f"{name} in {where}")
    record_property("marathon_answer_bytes", len(marathon_answers))
    record_property("event_stream_bytes", len(event_stream))
    record_property("secrets_checked", len(secret_values))
    record_property("needles", len(needles(secret_values)))
    record_property("output_bytes", len(output))
    record_property("lost", hits)
    assert not hits, hits
