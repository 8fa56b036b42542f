"""pytest plugin: the fixtures of every suite that starts localmarathon.

* ``localmarathon`` (alias ``lm``): a fresh server per test (function scope, its own data dir under
  ``tmp_path``, port 0) at ``localmarathon_time_scale`` (10 unless a conftest overrides that fixture);
* ``api``: an ``Api`` client of it (``localmarathon.testing``); a suite that wants a subclass
  (e.g. one that checks every answer) overrides ``api``.

Enable with ``-p localmarathon.pytest_plugin`` or ``pytest_plugins = ["localmarathon.pytest_plugin"]``
(installed packages register it automatically through the pytest11 entry point).
"""

from __future__ import annotations

import pytest

from .testing import Api, LocalMarathon

DEFAULT_TIME_SCALE = 10.0


@pytest.fixture
def localmarathon_time_scale() -> float:
    """How many times faster than Marathon the server runs its clocks (``--time-scale``)."""
    return DEFAULT_TIME_SCALE


@pytest.fixture
def localmarathon(tmp_path, localmarathon_time_scale):
    with LocalMarathon(tmp_path / "lm", time_scale=localmarathon_time_scale) as lm:
        yield lm


@pytest.fixture
def lm(localmarathon):
    """The suites' short name of ``localmarathon``."""
    return localmarathon


@pytest.fixture
def api(lm) -> Api:
    return Api(lm)
