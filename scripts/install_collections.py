"""Unpack community.postgresql from the pinned `ansible` wheel into the venv's site-packages.

Usage: python scripts/install_collections.py <downloaded ansible wheel>
Run by `make venv` with the venv's python, after `pip download` fetched the wheel pinned (with its
hash) in requirements/collections.txt. Ansible finds collections under
site-packages/ansible_collections, so ansible-playbook, ansible-test and ansible-lint all see it.
"""

import json
import shutil
import sys
import sysconfig
import zipfile
from pathlib import Path

COLLECTIONS = ("community/postgresql",)


def main(wheel):
    target_root = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
    with zipfile.ZipFile(wheel) as archive:
        for collection in COLLECTIONS:
            prefix = f"ansible_collections/{collection}/"
            target = target_root / collection
            if target.exists():
                shutil.rmtree(target)
            members = [name for name in archive.namelist() if name.startswith(prefix) and not name.endswith("/")]
            if not members:
                sys.exit(f"{wheel} has no {collection} collection")
            for name in members:
                dest = target / name[len(prefix):]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(archive.read(name))
            version = json.loads((target / "MANIFEST.json").read_text())["collection_info"]["version"]
            print(f"installed {collection.replace('/', '.')} {version} into {target}")


if __name__ == "__main__":
    main(sys.argv[1])
