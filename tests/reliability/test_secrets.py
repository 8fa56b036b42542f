"""Category 4: secrets never reach output, return values or diffs (issue 8, item 4).

One localmarathon with DC/OS authentication (a user and a service account) and real PostgreSQL;
scenarios covering every way a secret enters the collection run with ansible-playbook -vvv --diff:
user login, service-account login (key as PEM content and as a file), a given ACS token, secret
app environment (by name and by secret_env), updates of a secret (diff), check mode, failed
logins, the stateful_postgres role (which also runs marathon_app_info and marathon_task_info) and
removal. Every registered result is
written to a file. The captured stdout/stderr, that file and the module's own return values
must contain none of the passwords, tokens or private key material used, nor any JWT at all.
"""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import shutil
import tempfile
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
    config = {"users": {"ops": user_pw}, "service_accounts": {"deployer": public}, "token_ttl_seconds": 3600}
    with LocalMarathon(world_dir / "lm", auth="dcos", auth_config=config, time_scale=60.0) as lm:
        token = requests.post(lm.url + LOGIN_PATH, json={"uid": "ops", "password": user_pw}, timeout=10).json()["token"]
        secret_values = {"user password": user_pw, "app password": app_pw, "changed app password": app_pw2,
                         "secret_env value": conn_secret, "PostgreSQL password": pg_pw, "wrong password": wrong_pw,
                         "private key": _key_pem(key), "other private key": _key_pem(other_key), "ACS token": token}
        # Secrets reach the playbook only as extra vars from a file, as from a vault.
        vars_file = world_dir / "secrets.json"
        vars_file.write_text(json.dumps({
            "user_pw": user_pw, "app_pw": app_pw, "app_pw2": app_pw2, "conn_secret": conn_secret, "pg_pw": pg_pw,
            "wrong_pw": wrong_pw, "sa_key": _key_pem(key), "other_key": _key_pem(other_key), "acs_token": token,
        }))
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
        ]
        role = {"role": "dcos.marathon.stateful_postgres", "stateful_postgres_app_id": "/sec/pg",
                "stateful_postgres_password": "{{ pg_pw }}", "stateful_postgres_cpus": 0.2,
                "stateful_postgres_mem": 256, "stateful_postgres_marathon_url": lm.url,
                "stateful_postgres_dcos_username": "ops", "stateful_postgres_dcos_password": "{{ user_pw }}",
                "stateful_postgres_wait_timeout": 120}
        dump = {"name": "write every registered result", "ansible.builtin.copy": {
            "dest": str(results_file), "mode": "0600",
            "content": "{{ {'create': r_create, 'rerun': r_rerun, 'check': r_check, 'update': r_update, "
                       "'stop': r_stop, 'start': r_start, 'wrong_pw': r_wrong_pw, "
                       "'wrong_key': r_wrong_key, 'bad_token': r_bad_token, 'absent': r_absent, "
                       "'role_app': stateful_postgres_app} | to_nice_json }}"}}
        plays = [play(lm.url, tasks),
                 {"hosts": "localhost", "gather_facts": False, "roles": [role],
                  "post_tasks": [task("stop the role's app", "dcos.marathon.marathon_app", dict(
                      user, marathon_url=lm.url, app_id="/sec/pg", state="absent", allow_data_loss=True)), dump]}]
        out = playbook_runner.run(plays, "-vvv", "--diff", "-e", f"@{vars_file}", timeout=400)
        output = out.stdout + out.stderr
        assert out.returncode == 0, output[-5000:]
        results = json.loads(results_file.read_text())

    # The scenarios did what they claim (so that the scan below means something).
    assert results["create"]["changed"] and not results["rerun"]["changed"]
    assert results["check"]["changed"] and "env" in results["check"]["changes"]
    assert results["update"]["changed"] and results["stop"]["changed"] and results["start"]["changed"]
    assert results["wrong_pw"]["failed"] and "401" in results["wrong_pw"]["msg"]
    assert results["wrong_key"]["failed"] and results["bad_token"]["failed"]
    assert results["role_app"]["tasks_healthy"] == 1
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
    record_property("secrets_checked", len(secret_values))
    record_property("needles", len(needles(secret_values)))
    record_property("output_bytes", len(output))
    record_property("lost", hits)
    assert not hits, hits
