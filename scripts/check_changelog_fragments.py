#!/usr/bin/env python3
"""Every commit since the last release that changes what users get must add or change a changelog fragment.

    python scripts/check_changelog_fragments.py [--repo DIR]

The last release is the newest commit that changed changelogs/changelog.yaml (antsibull-changelog
release writes it). Each commit after it (merges excepted: the commits they bring in are checked
one by one) that changes a file under plugins/, roles/ or playbooks/ must add or change a file
changelogs/fragments/*.yml in the same commit. A change users cannot see (a refactoring, a test,
a comment) gets a fragment with only a `trivial:` section, which the release leaves out of
CHANGELOG.rst:

    trivial:
      - marathon_app - the planner's comparison record is a dataclass.

The history back to the last release must be in the clone: a shallow clone that cuts it off is
refused with the command that fetches it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

RELEASE_FILE = "changelogs/changelog.yaml"
FRAGMENT_DIR = "changelogs/fragments/"
FRAGMENT_SUFFIXES = (".yml", ".yaml")
USER_VISIBLE = ("plugins/", "roles/", "playbooks/")


class CheckError(Exception):
    """The check cannot run (not a git work tree, history missing); the message says what to do."""


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CheckError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def shallow_boundaries(repo: Path) -> set[str]:
    """Commits whose parents the clone lacks (empty for a full clone)."""
    if git(repo, "rev-parse", "--is-shallow-repository").strip() != "true":
        return set()
    shallow = Path(git(repo, "rev-parse", "--git-path", "shallow").strip())
    if not shallow.is_absolute():
        shallow = repo / shallow
    return set(shallow.read_text().split()) if shallow.exists() else set()


def last_release(repo: Path) -> str:
    boundaries = shallow_boundaries(repo)
    release = git(repo, "log", "-1", "--format=%H", "--", RELEASE_FILE).strip()
    # At a shallow boundary git sees every file as added, so the commit found there need not be the release.
    if boundaries and (not release or release in boundaries):
        raise CheckError(
            f"this is a shallow clone and the commit that last changed {RELEASE_FILE} (the last release) is not in "
            "its history, so the commits since the release cannot be checked; fetch the history with "
            "'git fetch --unshallow' and run again")
    if not release:
        raise CheckError(f"no commit changes {RELEASE_FILE}: without a release there is nothing to check from")
    return release


def changed_files(repo: Path, commit: str) -> list[tuple[str, str]]:
    """(status letter, path) of each file the commit changes against its parent."""
    out = git(repo, "diff-tree", "-r", "--root", "--no-commit-id", "--no-renames", "--name-status", "-z", commit)
    fields = out.split("\0")
    return [(fields[i][0], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]


def is_fragment(path: str) -> bool:
    return path.startswith(FRAGMENT_DIR) and path.endswith(FRAGMENT_SUFFIXES) and "/" not in path[len(FRAGMENT_DIR):]


def commits_without_fragment(repo: Path) -> tuple[str, list[str]]:
    """The last release and the commits after it that change users' files without a fragment (oldest first)."""
    release = last_release(repo)
    missing = []
    for commit in git(repo, "rev-list", "--reverse", "--no-merges", f"{release}..HEAD").split():
        files = changed_files(repo, commit)
        touches = any(path.startswith(USER_VISIBLE) for _status, path in files)
        # A fragment that the commit deletes documents nothing.
        documented = any(status in "AM" and is_fragment(path) for status, path in files)
        if touches and not documented:
            missing.append(commit)
    return release, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the git work tree to check (default: this checkout)")
    args = parser.parse_args(argv)
    try:
        release, missing = commits_without_fragment(args.repo)
    except CheckError as exc:
        print(f"changelog fragments: {exc}", file=sys.stderr)
        return 2
    short = git(args.repo, "rev-parse", "--short=12", release).strip()
    if not missing:
        print(f"changelog fragments: every commit since the last release ({short}) that changes "
              f"{', '.join(USER_VISIBLE)} adds or changes a fragment")
        return 0
    print(f"changelog fragments: {len(missing)} commit(s) since the last release ({short}) change "
          f"{', '.join(USER_VISIBLE)} without adding or changing a file in {FRAGMENT_DIR}:", file=sys.stderr)
    for commit in missing:
        print("  " + git(args.repo, "log", "-1", "--format=%h %<(100,trunc)%s", commit).strip(), file=sys.stderr)
    print(f"Add a fragment to each such commit ({FRAGMENT_DIR}<branch>.yml with bugfixes:/minor_changes: entries; "
          "a change users cannot see gets only a 'trivial:' entry), for example with 'git commit --fixup' and "
          "'git rebase -i --autosquash' before the branch is merged.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
