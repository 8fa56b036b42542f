"""pytest plugin: the ``localmarathon`` fixture (function scope, fresh data dir, time_scale=10).

Enable with ``-p localmarathon.pytest_plugin`` or ``pytest_plugins = ["localmarathon.pytest_plugin"]``
(installed packages register it automatically through the pytest11 entry point).
"""

from __future__ import annotations

import pytest

from .testing import LocalMarathon


@pytest.fixture
def localmarathon(tmp_path):
    with LocalMarathon(tmp_path / "lm", time_scale=10) as lm:
        yield lm
