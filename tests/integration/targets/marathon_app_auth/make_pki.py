# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Test PKI for marathon_app_auth: a self-signed certificate for 127.0.0.1 (also the
CA file the module trusts), a second unrelated CA, a service-account key pair and
the localmarathon auth config. Usage: python make_pki.py DIR"""

from __future__ import annotations

import datetime
import ipaddress
import json
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def self_signed(name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    key, cert = self_signed("127.0.0.1")
    (out / "server.key").write_bytes(key_pem(key))
    (out / "server.crt").write_bytes(cert)
    _other_key, other = self_signed("some other CA")
    (out / "other-ca.crt").write_bytes(other)
    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (out / "deployer.pem").write_bytes(key_pem(sa))
    public = sa.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    config = {"users": {"ops": "ops-Pa55word"}, "service_accounts": {"deployer": public},
              "token_ttl_seconds": 3600}
    (out / "auth-config.json").write_text(json.dumps(config))


if __name__ == "__main__":
    main()
