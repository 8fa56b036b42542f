"""PlanVersion: the one rule of which Marathon version a plan is made for (app and group executors)."""
from __future__ import annotations

from ansible_collections.dcos.marathon.plugins.module_utils._executor import PlanVersion
from ansible_collections.dcos.marathon.plugins.module_utils._versions import BASELINE


class FakeModule(object):
    """known_marathon_version (pinned or cached) and marathon_version (one GET /v2/info, counted)."""

    def __init__(self, known=None, exact="1.4.9"):
        self.known_marathon_version = known
        self._exact = exact
        self.info_reads = 0

    @property
    def marathon_version(self):
        self.info_reads += 1
        return self._exact


class FakeRequest(object):
    def __init__(self):
        self.versions = []

    def for_version(self, version):
        self.versions.append(version)


class FakePlan(object):
    def __init__(self, writes):
        self.writes = writes


def writes(plan):
    return plan.writes


def make_plan(request, outcome):
    return FakePlan(outcome)


def test_a_plan_that_writes_nothing_never_reads_the_version():
    module, request = FakeModule(), FakeRequest()
    versions = PlanVersion(module, request, needs_exact=False)
    versions.assume_from({"id": "/a"})
    plan = versions.plan(writes, make_plan, request, False)
    assert not plan.writes
    assert module.info_reads == 0
    assert request.versions == [BASELINE]


def test_a_plan_that_writes_is_made_again_with_the_exact_version():
    module, request = FakeModule(), FakeRequest()
    versions = PlanVersion(module, request, needs_exact=False)
    versions.assume_from(None)
    calls = []

    def counting_plan(req, outcome):
        calls.append(list(req.versions))
        return FakePlan(outcome)

    versions.plan(writes, counting_plan, request, True)
    assert module.info_reads == 1
    assert request.versions[-1] == "1.4.9"
    assert len(calls) == 2 and calls[1][-1] == "1.4.9"
    # The exact version is kept: the next round (after a lock) does not read it again.
    versions.plan(writes, counting_plan, request, True)
    assert module.info_reads == 1 and len(calls) == 3


def test_fields_some_version_lacks_read_the_version_first():
    module, request = FakeModule(), FakeRequest()
    PlanVersion(module, request, needs_exact=True)
    assert module.info_reads == 1 and request.versions == ["1.4.9"]


def test_a_known_version_is_used_without_a_request():
    module, request = FakeModule(known="1.11.0"), FakeRequest()
    versions = PlanVersion(module, request, needs_exact=True)
    versions.assume_from({"id": "/a"})
    versions.plan(writes, make_plan, request, True)
    assert module.info_reads == 0 and request.versions == ["1.11.0"]
