#!/usr/bin/env python3
"""Write the docs site's playbooks page (Markdown) from the playbooks' own header comments.

    python scripts/docsite_playbooks.py PLAYBOOK_DIR OUTPUT.md

antsibull-docs documents modules, plugins and roles, but not playbooks. Each playbook of the collection
starts with a comment that says what it does and how to run it; this page shows that comment, the
plays with their hosts, and the name to run it by from an installed collection. A playbook without
such a comment is an error, so a new playbook cannot land undocumented.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

COLLECTION = "dcos.marathon"
# Backslash-escaped so that the comment's words stay words (CommonMark escapes any ASCII punctuation).
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|{}])")


def header_comment(text: str) -> list[str]:
    """The comment lines before the first YAML line, without their '#' and one space."""
    lines = []
    for line in text.splitlines():
        if line.strip() == "---":
            continue
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return lines


def comment_to_markdown(lines: list[str]) -> list[str]:
    """Prose paragraphs; indented lines (commands, settings tables) become literal blocks."""
    out: list[str] = []
    paragraph: list[str] = []
    code: list[str] = []

    def flush() -> None:
        if paragraph:
            out.extend([" ".join(MARKDOWN_SPECIAL.sub(r"\\\1", p) for p in paragraph), ""])
            paragraph.clear()
        if code:
            indent = min(len(c) - len(c.lstrip()) for c in code if c.strip())
            out.extend(["```text", *(c[indent:] for c in code), "```", ""])
            code.clear()

    for line in lines:
        if not line.strip():
            flush()
        elif line.startswith("  "):
            if paragraph:
                flush()
            code.append(line.rstrip())
        else:
            if code:
                flush()
            paragraph.append(line.strip())
    flush()
    return out


def playbook_section(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    comment = header_comment(text)
    if not any(line.strip() for line in comment):
        raise ValueError(f"{path.name} has no header comment that says what it does and how to run it")
    plays = yaml.safe_load(text) or []
    name = path.stem
    out = [f"## {COLLECTION}.{name}", "", f"`playbooks/{path.name}`; from an installed collection: "
           f"`ansible-playbook {COLLECTION}.{name}`.", ""]
    out += comment_to_markdown(comment)
    out += ["Plays:", ""]
    for play in plays:
        if "import_playbook" in play:
            out.append(f"- imports `{play['import_playbook']}`")
        else:
            title = MARKDOWN_SPECIAL.sub(r"\\\1", str(play.get("name", "(unnamed)")))
            out.append(f"- {title} (hosts: `{play.get('hosts', 'all')}`)")
    out.append("")
    return out


def render(playbook_dir: Path) -> str:
    playbooks = sorted(playbook_dir.glob("*.yml"))
    if not playbooks:
        raise ValueError(f"no playbooks in {playbook_dir}")
    out = ["# Playbooks", "",
           "Each inventory host is one Marathon cluster; the modules run on the controller. See the "
           "[overview](overview.md) for the connection variables, and the role "
           f"{{ref}}`{COLLECTION}.stateful_postgres <ansible_collections.{COLLECTION}.stateful_postgres_role>` "
           "for every setting.", ""]
    for path in playbooks:
        out += playbook_section(path)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        page = render(Path(argv[0]))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"docsite_playbooks: {exc}", file=sys.stderr)
        return 1
    Path(argv[1]).write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
