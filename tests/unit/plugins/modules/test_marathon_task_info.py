# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# SPDX-License-Identifier: Apache-2.0
"""marathon_task_info.count_to_wait_for: the default count of each wait condition."""

from __future__ import annotations

import pytest

from ansible_collections.dcos.marathon.plugins.modules.marathon_task_info import count_to_wait_for

VOLUME = {"containerPath": "pgdata", "mode": "RW", "persistent": {"size": 100}}


def resident(instances, reserved):
    return {"id": "/db", "instances": instances, "container": {"type": "MESOS", "volumes": [VOLUME]},
            "tasks": [{"id": "db.%d" % i, "localVolumes": [{"containerPath": "pgdata"}]} for i in range(reserved)]}


@pytest.mark.parametrize("instances, reserved, expected", [
    (0, 1, 1),  # stopped: its one reservation is suspended
    (0, 3, 3),
    (1, 3, 2),  # scaled from 3 to 1
    (0, 0, 0),  # created stopped: nothing reserved, nothing can run, nothing to wait for
    (1, 1, 1),  # running (or crash-looping): none suspended until it is scaled down
    (2, 0, 1),  # not placed yet
])
def test_suspended_default_count(instances, reserved, expected):
    app = resident(instances, reserved)
    assert count_to_wait_for(None, app, "/db", "suspended", None, [], {}) == expected


def test_an_explicit_count_wins():
    assert count_to_wait_for(None, resident(0, 0), "/db", "suspended", 2, [], {}) == 2


def test_running_and_healthy_default_to_the_instances():
    app = dict(resident(3, 3), healthChecks=[{"protocol": "TCP"}])
    assert count_to_wait_for(None, app, "/db", "running", None, [], {}) == 3
    assert count_to_wait_for(None, app, "/db", "healthy", None, [], {}) == 3
