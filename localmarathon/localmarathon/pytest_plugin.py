"""pytest plugin: the fixtures of every suite that starts localmarathon.

* ``localmarathon`` (alias ``lm``): a fresh server per test (function scope, its own data dir under
  ``tmp_path``, port 0) at ``localmarathon_time_scale`` (10 unless a conftest overrides that fixture),
  speaking ``localmarathon_marathon_version`` (the ``--marathon-version`` option of pytest, 1.10 when
  not given; a test or conftest may override the fixture, e.g. with ``pytest.mark.parametrize``);
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


def pytest_addoption(parser):
    parser.addoption("--marathon-version", default=None,
                     help="Marathon release the localmarathon fixtures reproduce (1.4 ... 1.11, or e.g. 1.4.5)")


@pytest.fixture
def localmarathon_marathon_version(request) -> str | None:
    """The Marathon release of the ``localmarathon`` fixture; None = the server's default (1.10)."""
    return request.config.getoption("--marathon-version")


@pytest.fixture
def localmarathon(tmp_path, localmarathon_time_scale, localmarathon_marathon_version):
    with LocalMarathon(tmp_path / "lm", time_scale=localmarathon_time_scale,
                       marathon_version=localmarathon_marathon_version) as lm:
        yield lm


@pytest.fixture
def lm(localmarathon):
    """The suites' short name of ``localmarathon``."""
    return localmarathon


@pytest.fixture
def api(lm) -> Api:
    return Api(lm)
