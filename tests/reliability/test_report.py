"""scripts/reliability_report.py: counts, losses and failures reach the Markdown (not a reliability case)."""

from __future__ import annotations

import importlib.util
import json

from conftest import REPO

spec = importlib.util.spec_from_file_location("reliability_report", REPO / "scripts" / "reliability_report.py")
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def _rec(category, case, outcome="passed", lost=(), examples=None, failure=None):
    return {"nodeid": f"tests/reliability/x.py::t[{case}]", "category": category, "outcome": outcome,
            "duration": 1.25, "case": case, "lost": list(lost), "examples": examples, "properties": {},
            "failure": failure}


DATA = {"started": 1795600000.0, "finished": 1795600100.0, "python": "3.11", "ansible_core": "2.19", "time_scale": 20.0,
        "workers": 2, "records": [
            _rec("faults", "stopped: drop-write"),
            _rec("faults", "started: drop-write", "failed", ["volume X is gone"], failure="AssertionError: lost"),
            _rec("faults", "stopped: lock-wait"),
            _rec("bad_input", "hypothesis: args", examples=40),
            _rec("tls", "ca_path", "failed", failure="AssertionError: TLS error"),
        ]}


def test_render_counts_and_losses():
    text = report.render(DATA)
    assert "| 1. Faults during marathon_app runs | 3 | 2 |  | 1 finding(s), see below |" in text
    assert "| 2. Bad input and malformed replies | 1 | 1 | 40 | nothing |" in text
    assert "| 5. TLS | 1 | 0 |  | nothing; 1 case(s) failed otherwise |" in text
    assert "| **All** | **5** | **3** | **40** | **1 finding(s)** |" in text
    assert "| started: drop-write | **FAILED** | 1.2 | volume X is gone; failure: AssertionError: lost |" in text
    # The fault matrix marks the failed cell and the missing combinations.
    assert "| drop-write | ok | **FAILED** |" in text and "| lock-wait | ok | n/a |" in text
    assert "hypothesis: args (40 examples)" in text


def test_check_mode_and_missing_results(tmp_path, capsys):
    results = tmp_path / "results.json"
    results.write_text(json.dumps(DATA))
    out = tmp_path / "reliability.md"
    assert report.main(["--results", str(results), "--output", str(out)]) == 0
    assert report.main(["--results", str(results), "--output", str(out), "--check"]) == 0
    out.write_text(out.read_text() + "edited\n")
    assert report.main(["--results", str(results), "--output", str(out), "--check"]) == 1
    try:
        report.main(["--results", str(tmp_path / "none.json"), "--output", str(out)])
    except SystemExit as exc:
        assert "no results" in str(exc)
    else:
        raise AssertionError("missing results were accepted")
