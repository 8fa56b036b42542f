"""Category 5: localmarathon over HTTPS with a certificate from a CA generated here (issue 8, item 5).

The default (validate_certs=true, the system CAs) must fail with a clear message and no write;
ca_path with the generated CA must work; validate_certs=false must work and warn.
"""

from __future__ import annotations

import datetime
import json
import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from localmarathon.testing import LocalMarathon

from conftest import TIME_SCALE, log_since, writes_since

APP = {"id": "/tls/web", "cmd": "sleep 100000", "cpus": 0.1, "mem": 32, "instances": 1}


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(directory):
    """A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated second CA."""
    now = datetime.datetime.now(datetime.timezone.utc)
    paths = {}

    def ca(cn):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return key, cert

    ca_key, ca_cert = ca("reliability test CA")
    _other_key, other_cert = ca("some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    for name, data in (("ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM)),
                       ("other-ca.pem", other_cert.public_bytes(serialization.Encoding.PEM)),
                       ("server.pem", cert.public_bytes(serialization.Encoding.PEM)),
                       ("server.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))):
        paths[name] = directory / name
        paths[name].write_bytes(data)
    paths["server.key"].chmod(0o600)
    return paths


@pytest.fixture(scope="module")
def tls_lm(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    pki = make_pki(directory)
    with LocalMarathon(directory / "lm", tls=(pki["server.pem"], pki["server.key"]), time_scale=TIME_SCALE) as lm:
        assert lm.url.startswith("https://127.0.0.1:")
        yield lm, pki


def _args(lm, **extra):
    return dict({"marathon_url": lm.url, "definition": APP, "wait_timeout": 30, "retries": 0}, **extra)


@pytest.mark.parametrize("ca", ["system CAs", "another CA"])
def test_untrusted_certificate_fails_clearly(ca, tls_lm, module_runner, record_property):
    lm, pki = tls_lm
    record_property("case", f"default validate_certs=true with {ca}")
    extra = {"ca_path": str(pki["other-ca.pem"])} if ca == "another CA" else {}
    since = time.time()
    run = module_runner.run("marathon_app", _args(lm, **extra))
    run.assert_clean()
    assert run.failed, run.result
    assert "TLS error" in run.msg and "certificate_verify_failed" in run.msg.lower(), run.msg
    assert "ca_path" in run.msg and "validate_certs" in run.msg, "the message names the way out: " + run.msg
    assert lm.url in run.msg, run.msg
    # The handshake fails before any HTTP request reaches the server.
    assert log_since(lm, since) == []
    record_property("lost", [])


def test_ca_path_succeeds(tls_lm, module_runner, record_property):
    lm, pki = tls_lm
    record_property("case", "ca_path with the generated CA")
    since = time.time()
    run = module_runner.run("marathon_app", _args(lm, ca_path=str(pki["ca.pem"])))
    run.assert_clean()
    assert not run.failed, run.msg
    assert run.result["changed"] is True and run.result["tasks_running"] == 1
    assert not run.result.get("warnings"), run.result.get("warnings")
    assert len(writes_since(lm, since)) == 1
    # Idempotent over TLS as well: the second run only reads.
    again = module_runner.run("marathon_app", _args(lm, ca_path=str(pki["ca.pem"])))
    assert again.result["changed"] is False and len(writes_since(lm, since)) == 1
    record_property("lost", [])


def test_validate_certs_false_works_and_warns(tls_lm, module_runner, record_property):
    lm, _pki = tls_lm
    record_property("case", "validate_certs=false")
    run = module_runner.run("marathon_app", _args(lm, validate_certs=False))
    run.assert_clean()
    assert not run.failed, run.msg
    # ansible-core 2.19 returns structured warnings to the controller; their text is inside.
    warnings = json.dumps(run.result.get("warnings") or [])
    assert "validate_certs=false" in warnings and "not checked" in warnings, warnings
    # urllib3's own InsecureRequestWarning must not leak to stderr once per request.
    assert "InsecureRequestWarning" not in run.stderr
    record_property("lost", [])


def test_plain_http_client_against_https_fails_clearly(tls_lm, module_runner, record_property):
    lm, _pki = tls_lm
    record_property("case", "http:// URL against the HTTPS server")
    since = time.time()
    run = module_runner.run("marathon_app", _args(lm, marathon_url=lm.url.replace("https://", "http://")))
    run.assert_clean()
    assert run.failed and "http://127.0.0.1" in run.msg, run.msg
    assert "use https:// in marathon_url" in run.msg, "the message names the way out: " + run.msg
    # The TLS server never reads the plain request as HTTP: nothing reaches the API.
    assert log_since(lm, since) == []
    record_property("lost", [])


def _playbook(collections_root, tmp_path, lm, name, inventory_vars, *extra, stdout_callback="default"):
    """ansible-playbook on the collection's own playbooks/<name> against one TLS cluster."""
    inventory = tmp_path / f"{name}-hosts.yml"
    host = dict({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "marathon_url": lm.url, "stateful_postgres_app_id": "/tls/pg",
                 "stateful_postgres_password": "tls-test-pw-4471"}, **inventory_vars)
    inventory.write_text(json.dumps({"all": {"children": {"marathon_clusters": {"hosts": {"cluster-a": host}}}}}))
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARATHON_", "DCOS_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_root), ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(config),
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_STDOUT_CALLBACK=stdout_callback, ANSIBLE_RETRY_FILES_ENABLED="0")
    playbook = collections_root / "ansible_collections" / "dcos" / "marathon" / "playbooks" / name
    cmd = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), str(playbook), *extra]
    return subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)


def test_marathon_validate_certs_means_the_same_in_every_playbook(
        tls_lm, collections_root, tmp_path, record_property):
    """The inventory's marathon_validate_certs reaches every module call: the role's (deploy.yml)
    and rollout.yml's own, which share the role's one connection mapping."""
    lm, _pki = tls_lm
    record_property("case", "marathon_validate_certs=false in deploy.yml and rollout.yml")
    stopped = ("-e", "state=stopped")
    since = time.time()
    for name in ("deploy.yml", "rollout.yml"):
        run = _playbook(collections_root, tmp_path, lm, name, {"marathon_validate_certs": False}, *stopped)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
        # Every module call of the run warned that it does not check the certificate.
        assert "validate_certs=false" in run.stdout + run.stderr, name
    # deploy.yml created the app (stopped); rollout.yml found nothing to change.
    assert len(writes_since(lm, since)) == 1
    for name in ("deploy.yml", "rollout.yml"):
        run = _playbook(collections_root, tmp_path, lm, name, {}, *stopped)
        assert run.returncode != 0, name
        assert "TLS error" in run.stdout and "certificate_verify_failed" in run.stdout.lower(), run.stdout[-3000:]
    assert len(writes_since(lm, since)) == 1
    record_property("lost", [])
