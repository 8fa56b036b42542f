# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""Properties of the normalization that must hold for any app definition."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.dcos.marathon.plugins.module_utils._app_spec import (
    compare_apps,
    normalize_app_definition,
    secret_values,
)


# The comparison record, read the ways these tests need it.
def app_differs(desired, live):
    return compare_apps(desired, live).differs


def diff_app(desired, live, extra_names=()):
    return compare_apps(desired, live).diff(extra_names)


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies
given = hypothesis.given
settings = hypothesis.settings
# Generating examples takes longer on a busy machine; that is no failure of the code under test.
NOT_TOO_SLOW = [hypothesis.HealthCheck.too_slow]

names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
env_names = st.from_regex(r"[A-Z][A-Z_]{0,10}", fullmatch=True)
text = st.text(alphabet="abcxyz0123456789-_/ .:@", min_size=1, max_size=12)
whole = st.integers(min_value=0, max_value=4096)

health_check = st.fixed_dictionaries(
    {"protocol": st.sampled_from(["HTTP", "HTTPS", "TCP", "MESOS_HTTP", "MESOS_TCP"])},
    optional={"path": st.just("/health"), "gracePeriodSeconds": whole, "intervalSeconds": whole,
              "portIndex": st.just(0), "ignoreHttp1xx": st.booleans()},
)
constraint = st.lists(st.sampled_from(["hostname", "rack", "UNIQUE", "CLUSTER", "GROUP_BY", "a", "3"]),
                      min_size=2, max_size=3)
persistent = st.fixed_dictionaries(
    {"containerPath": names, "mode": st.just("RW"), "persistent": st.fixed_dictionaries({"size": st.integers(1, 100)})}
)

app = st.fixed_dictionaries(
    {"id": st.lists(names, min_size=1, max_size=3).map("/".join), "cmd": text},
    optional={
        "cpus": st.sampled_from([0.1, 0.5, 1, 1.0, 2]),
        "mem": whole,
        "disk": whole,
        "instances": st.integers(0, 5),
        "env": st.dictionaries(env_names, text, max_size=4),
        "labels": st.dictionaries(names, text, max_size=3),
        "constraints": st.lists(constraint, max_size=3),
        "healthChecks": st.lists(health_check, max_size=3),
        "portDefinitions": st.lists(st.fixed_dictionaries({"port": st.just(0)}, optional={"name": names}),
                                    max_size=2),
        "container": st.fixed_dictionaries({"type": st.just("MESOS"), "volumes": st.lists(persistent, max_size=2)}),
        "upgradeStrategy": st.fixed_dictionaries({"minimumHealthCapacity": st.sampled_from([0, 0.5, 1])}),
    },
)


def floats_for_ints(value):
    """What a server that writes doubles (128.0) would send back."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return dict((k, floats_for_ints(v)) for k, v in value.items())
    if isinstance(value, list):
        return [floats_for_ints(v) for v in value]
    return value


@settings(max_examples=200, deadline=None, suppress_health_check=NOT_TOO_SLOW)
@given(app)
def test_normalization_is_idempotent(defn):
    once = normalize_app_definition(defn)
    assert normalize_app_definition(once) == once


@settings(max_examples=200, deadline=None, suppress_health_check=NOT_TOO_SLOW)
@given(app)
def test_doubles_and_reordering_are_no_change(defn):
    echoed = floats_for_ints(copy.deepcopy(defn))
    echoed = dict(reversed(list(echoed.items())))
    if echoed.get("constraints"):
        echoed["constraints"] = list(reversed(echoed["constraints"]))
    if echoed.get("healthChecks"):
        echoed["healthChecks"] = list(reversed(echoed["healthChecks"]))
    echoed["id"] = "/" + defn["id"] + "/"
    assert not app_differs(normalize_app_definition(defn), normalize_app_definition(echoed))


@settings(max_examples=200, deadline=None, suppress_health_check=NOT_TOO_SLOW)
@given(app, st.integers(6, 9))
def test_a_changed_instance_count_is_always_seen(defn, count):
    changed = dict(defn, instances=count)
    assert app_differs(normalize_app_definition(changed), normalize_app_definition(defn))


@settings(max_examples=200, deadline=None, suppress_health_check=NOT_TOO_SLOW)
@given(app, text)
def test_secret_values_never_in_diff(defn, secret):
    secret = "S3cr3t-" + secret
    defn = dict(defn, env=dict(defn.get("env") or {}, DB_PASSWORD=secret))
    other = dict(defn, env=dict(defn["env"], DB_PASSWORD=secret + "-new"))
    diff = diff_app(normalize_app_definition(other), normalize_app_definition(defn))
    assert secret not in json.dumps(diff)
    assert secret in secret_values(defn)
