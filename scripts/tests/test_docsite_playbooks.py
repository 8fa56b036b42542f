"""scripts/docsite_playbooks.py: the docs site's playbooks page from the playbooks' header comments."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("docsite_playbooks", REPO / "scripts" / "docsite_playbooks.py")
docsite_playbooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(docsite_playbooks)

PLAYBOOK = """---
# Deploy *PostgreSQL* on every cluster [each host]; stateful_postgres_state / _allow_data_loss
# apply to all.
#
#   ansible-playbook playbooks/deploy.yml
#   ansible-playbook playbooks/deploy.yml -e state=stopped   # keep the volume
# Settings:
#   rollout_hosts   host pattern
- name: PostgreSQL on Marathon
  hosts: all
  tasks: []
"""


def test_prose_is_escaped_and_indented_lines_are_literal(tmp_path: Path):
    (tmp_path / "deploy.yml").write_text(PLAYBOOK)
    page = docsite_playbooks.render(tmp_path)
    assert "## dcos.marathon.deploy" in page
    assert "`ansible-playbook dcos.marathon.deploy`" in page
    assert ("Deploy \\*PostgreSQL\\* on every cluster \\[each host\\]; stateful\\_postgres\\_state / "
            "\\_allow\\_data\\_loss apply to all.") in page
    assert ("```text\nansible-playbook playbooks/deploy.yml\n"
            "ansible-playbook playbooks/deploy.yml -e state=stopped   # keep the volume\n```") in page
    assert "Settings:\n\n```text\nrollout_hosts   host pattern\n```" in page
    assert "- PostgreSQL on Marathon (hosts: `all`)" in page


def test_a_playbook_without_header_comment_is_refused(tmp_path: Path):
    (tmp_path / "bare.yml").write_text("---\n- name: x\n  hosts: all\n")
    with pytest.raises(ValueError, match="bare.yml has no header comment"):
        docsite_playbooks.render(tmp_path)


def test_every_playbook_of_the_collection_has_a_section():
    page = docsite_playbooks.render(REPO / "playbooks")
    for playbook in sorted((REPO / "playbooks").glob("*.yml")):
        assert f"## dcos.marathon.{playbook.stem}\n" in page
