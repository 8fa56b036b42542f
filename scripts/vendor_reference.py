#!/usr/bin/env python3
"""Keep tests/reference (the Marathon reference files the tests read) and its SOURCES.md in step.

    python scripts/vendor_reference.py --check
    python scripts/vendor_reference.py --from DIR PATH [PATH ...]

--check fails when a file under tests/reference/marathon-api has no row in SOURCES.md, or a row
names a file that is not there. --from copies each PATH (relative to DIR/marathon-api, the layout
of a full reference set whose own SOURCES.md names every file's repository, commit and original
path) byte for byte into tests/reference/marathon-api and adds its row from DIR's SOURCES.md.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "reference"
ROW = re.compile(r"^\| `([^`]+)` \|")
TOTAL = re.compile(r"^Total: \d+ files\.$")


def vendored_files(root: Path) -> set[str]:
    base = root / "marathon-api"
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}


def table_rows(sources: Path) -> dict[str, str]:
    rows = {}
    for line in sources.read_text().splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = line
    return rows


def check(root: Path) -> list[str]:
    files, rows = vendored_files(root), table_rows(root / "SOURCES.md")
    problems = [f"{name}: vendored, but SOURCES.md has no row for it" for name in sorted(files - rows.keys())]
    problems += [f"{name}: listed in SOURCES.md, but not in marathon-api/" for name in sorted(rows.keys() - files)]
    return problems


def add(root: Path, source: Path, names: list[str]) -> None:
    source_rows = table_rows(source / "marathon-api" / "SOURCES.md")
    sources_md = root / "SOURCES.md"
    rows = table_rows(sources_md)
    for name in names:
        if name not in source_rows:
            sys.exit(f"vendor_reference: {name} has no row in {source}/marathon-api/SOURCES.md")
        target = root / "marathon-api" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "marathon-api" / name, target)
        rows[name] = source_rows[name]
    # Rewrite the table in place: the rows sorted by file, the total after them.
    lines = sources_md.read_text().splitlines()
    kept = [line for line in lines if not ROW.match(line) and not TOTAL.match(line)]
    while kept and not kept[-1].strip():
        kept.pop()
    sources_md.write_text("\n".join(kept + [rows[k] for k in sorted(rows)] + ["", f"Total: {len(rows)} files."]) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--from", dest="source", type=Path)
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    if args.source:
        add(REFERENCE, args.source, args.paths)
    problems = check(REFERENCE)
    for problem in problems:
        print(f"tests/reference: {problem}", file=sys.stderr)
    if not problems:
        print(f"tests/reference: {len(vendored_files(REFERENCE))} files, each with its source in SOURCES.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
