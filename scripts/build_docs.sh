#!/usr/bin/env bash
# Build the HTML docs site (make docs). antsibull-docs writes the pages of the modules, the role (from
# its argument_specs) and the callback; the guides are the repository's Markdown files (README.md and
# docs/*.md, read through myst-parser), and the playbooks page comes from the playbooks' header comments
# (scripts/docsite_playbooks.py). Sphinx makes the HTML with every warning an error. Nothing is fetched
# from the network.
#
# Usage: scripts/build_docs.sh [OUT]     (default OUT: build/docs of the checkout; the site is OUT/html)
# Environment: DOCS_COLLECTIONS_PATH, the directory that holds ansible_collections/dcos/marathon
#   (default: the checkout's collections/ link that make venv makes; the test gate passes its copy).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$REPO/build/docs}
COLLECTIONS=${DOCS_COLLECTIONS_PATH:-$REPO/collections}
COLL="$COLLECTIONS/ansible_collections/dcos/marathon"
if [[ ! -f "$COLL/galaxy.yml" ]]; then
    echo "build_docs.sh: no collection at $COLL (run 'make venv', which links the checkout there)" >&2
    exit 1
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC="$OUT/rst"
rm -rf "$SRC" "$OUT/html" "$OUT/doctrees"
# antsibull-docs writes only into a directory that no one else may write to.
mkdir -m 0700 "$SRC"

# Run outside the checkout so that its ansible.cfg does not apply: the collection comes from COLLECTIONS.
(cd "$OUT" && ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS" antsibull-docs collection --use-current --fail-on-error \
    --cleanup everything --dest-dir "$SRC" dcos.marathon)

cp "$REPO/scripts/docsite/conf.py" "$REPO/scripts/docsite/index.rst" "$SRC/"
mkdir "$SRC/guides"
cp "$COLL/README.md" "$SRC/guides/overview.md"
cp "$COLL/docs/rollout.md" "$SRC/guides/rollout.md"
cp "$COLL/docs/architecture.md" "$SRC/guides/architecture.md"
cp "$COLL/docs/README.md" "$SRC/guides/developer-notes.md"
cp "$COLL/docs/reliability.md" "$SRC/guides/reliability.md"
python "$REPO/scripts/docsite_playbooks.py" "$COLL/playbooks" "$SRC/guides/playbooks.md"

sphinx-build -b html -W --keep-going -n -q -d "$OUT/doctrees" "$SRC" "$OUT/html"
echo "docs site: $OUT/html/index.html"
