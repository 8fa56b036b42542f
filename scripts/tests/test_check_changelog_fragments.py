"""scripts/check_changelog_fragments.py against real git repositories made in a temporary directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check_changelog_fragments.py"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def commit(repo: Path, message: str, files: dict[str, str | None]) -> str:
    """Write (or, for None, delete) the files and commit them; returns the commit's hash."""
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def check(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--repo", str(repo)], capture_output=True, text=True,
                          check=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A collection with a release (changelog.yaml) and, before it, a plugin change without a fragment."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "start", {"README.md": "r\n"})
    commit(root, "module", {"plugins/modules/app.py": "v1\n"})
    commit(root, "release 0.1.0", {"changelogs/changelog.yaml": "releases: {0.1.0: {}}\n",
                                   "changelogs/fragments/0.1.0.yml": "release_summary: first\n"})
    return root


def test_commits_before_the_release_are_not_checked(repo: Path):
    result = check(repo)
    assert result.returncode == 0, result.stderr
    assert "every commit since the last release" in result.stdout


def test_plugin_change_without_fragment_fails_naming_the_commit(repo: Path):
    commit(repo, "app: fix with fragment", {"plugins/modules/app.py": "v2\n",
                                            "changelogs/fragments/fix.yml": "bugfixes:\n  - app - fixed.\n"})
    bad = commit(repo, "role: change without fragment", {"roles/pg/tasks/main.yml": "- x\n"})
    commit(repo, "docs only", {"README.md": "r2\n"})
    result = check(repo)
    assert result.returncode == 1
    assert "1 commit(s)" in result.stderr
    assert f"{bad[:7]} role: change without fragment" in result.stderr
    assert "with fragment" not in result.stderr and "docs only" not in result.stderr


@pytest.mark.parametrize("path", ["roles/pg/defaults/main.yml", "playbooks/deploy.yml",
                                  "plugins/module_utils/_http.py"])
def test_each_user_visible_directory_needs_a_fragment(repo: Path, path: str):
    commit(repo, "change", {path: "x\n"})
    assert check(repo).returncode == 1


def test_changing_an_existing_fragment_counts(repo: Path):
    commit(repo, "fix", {"plugins/modules/app.py": "v2\n", "changelogs/fragments/fix.yml": "bugfixes:\n  - a.\n"})
    commit(repo, "fix again", {"plugins/modules/app.py": "v3\n", "changelogs/fragments/fix.yml": "bugfixes:\n  - b.\n"})
    assert check(repo).returncode == 0


def test_deleting_a_fragment_or_a_file_elsewhere_does_not_count(repo: Path):
    commit(repo, "fix", {"plugins/modules/app.py": "v2\n", "changelogs/fragments/fix.yml": "bugfixes:\n  - a.\n"})
    commit(repo, "drop fragment", {"plugins/modules/app.py": "v3\n", "changelogs/fragments/fix.yml": None})
    commit(repo, "notes beside", {"plugins/modules/app.py": "v4\n", "changelogs/fragments/old/x.yml": "a\n",
                                  "changelogs/fragments/x.txt": "a\n"})
    result = check(repo)
    assert result.returncode == 1
    assert "2 commit(s)" in result.stderr


def test_trivial_fragment_is_the_escape(repo: Path):
    commit(repo, "refactor", {"plugins/module_utils/_x.py": "y\n",
                              "changelogs/fragments/refactor.yml": "trivial:\n  - app - internal rename.\n"})
    assert check(repo).returncode == 0


def test_a_new_release_starts_the_count_again(repo: Path):
    commit(repo, "unlogged", {"plugins/modules/app.py": "v2\n"})
    assert check(repo).returncode == 1
    commit(repo, "release 0.2.0", {"changelogs/changelog.yaml": "releases: {0.1.0: {}, 0.2.0: {}}\n"})
    assert check(repo).returncode == 0


def test_merge_commits_are_skipped_but_their_branch_is_checked(repo: Path):
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "feature with fragment", {"plugins/modules/app.py": "v2\n",
                                           "changelogs/fragments/feature.yml": "minor_changes:\n  - a.\n"})
    git(repo, "checkout", "-q", "main")
    commit(repo, "main with fragment", {"roles/pg/x.yml": "1\n", "changelogs/fragments/main.yml": "bugfixes:\n  - b.\n"})
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    assert check(repo).returncode == 0
    git(repo, "checkout", "-q", "feature")
    commit(repo, "feature without fragment", {"plugins/modules/app.py": "v3\n"})
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature again", "feature")
    result = check(repo)
    assert result.returncode == 1
    assert "feature without fragment" in result.stderr and "merge feature" not in result.stderr


def test_shallow_clone_without_the_release_is_refused_clearly(repo: Path, tmp_path: Path):
    for n in range(3):
        commit(repo, f"fix {n}", {"plugins/modules/app.py": f"v{n}\n",
                                  f"changelogs/fragments/f{n}.yml": "bugfixes:\n  - a.\n"})
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(shallow))
    result = check(shallow)
    assert result.returncode == 2
    assert "shallow clone" in result.stderr and "git fetch --unshallow" in result.stderr
    # Deep enough to hold the release and its parent: checked as in a full clone.
    deeper = tmp_path / "deeper"
    git(tmp_path, "clone", "-q", "--depth", "5", f"file://{repo}", str(deeper))
    assert git(deeper, "rev-parse", "--is-shallow-repository") == "true"
    assert check(deeper).returncode == 0


def test_not_a_git_work_tree(tmp_path: Path):
    result = check(tmp_path)
    assert result.returncode == 2
    assert "git" in result.stderr


def test_the_collection_changelog_config_accepts_a_trivial_fragment(tmp_path: Path):
    """The escape above is only usable if antsibull-changelog lint takes a trivial-only fragment."""
    (tmp_path / "changelogs" / "fragments").mkdir(parents=True)
    shutil.copy(REPO / "galaxy.yml", tmp_path / "galaxy.yml")
    shutil.copy(REPO / "changelogs" / "config.yaml", tmp_path / "changelogs" / "config.yaml")
    (tmp_path / "changelogs" / "fragments" / "refactor.yml").write_text("---\ntrivial:\n  - app - internal rename.\n")
    result = subprocess.run(["antsibull-changelog", "lint"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
