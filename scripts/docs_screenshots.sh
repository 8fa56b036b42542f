#!/usr/bin/env bash
# Look at the built docs site as a reader would: serve it on 127.0.0.1 and take screenshots of the index,
# a module page, the role page, the callback page and the guides with headless Chromium (Debian's
# chromium package). Not part of the test gate; run it after 'make docs' and look at the PNGs.
#
# Usage: scripts/docs_screenshots.sh [SITE_DIR] [OUT_DIR]
#   (defaults: build/docs/html and build/docs/screenshots of the checkout)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SITE=${1:-$REPO/build/docs/html}
SHOTS=${2:-$REPO/build/docs/screenshots}
CHROMIUM=${CHROMIUM:-chromium}
if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
    echo "docs_screenshots.sh: no $CHROMIUM; install it with 'apt-get install -y chromium'" >&2
    exit 1
fi
if [[ ! -f "$SITE/index.html" ]]; then
    echo "docs_screenshots.sh: no site at $SITE; run 'make docs' first" >&2
    exit 1
fi
mkdir -p "$SHOTS"
work=$(mktemp -d)
server=""
cleanup() {
    [[ -z "$server" ]] || kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the system picks a free one, which the server prints.
python3 -u -m http.server --bind 127.0.0.1 --directory "$SITE" 0 >"$work/server.log" 2>&1 &
server=$!
port=""
for _ in $(seq 50); do
    port=$(grep -oE 'port [0-9]+' "$work/server.log" | head -n1 | cut -d' ' -f2 || true)
    [[ -n "$port" ]] && break
    sleep 0.1
done
if [[ -z "$port" ]]; then
    echo "docs_screenshots.sh: the web server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

pages=(
    "index:index.html"
    "marathon_app:collections/dcos/marathon/marathon_app_module.html"
    "stateful_postgres:collections/dcos/marathon/stateful_postgres_role.html"
    "rollout_summary:collections/dcos/marathon/rollout_summary_callback.html"
    "collection:collections/dcos/marathon/index.html"
    "playbooks:guides/playbooks.html"
    "overview:guides/overview.html"
)
for entry in "${pages[@]}"; do
    name=${entry%%:*}
    # Every host name but 127.0.0.1 resolves to nothing: the page may load only from this server.
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
        --user-data-dir="$work/profile-$name" --window-size=1280,2000 \
        --screenshot="$SHOTS/$name.png" "http://127.0.0.1:$port/${entry#*:}" >"$work/chromium-$name.log" 2>&1 ||
        { echo "chromium failed on ${entry#*:}:" >&2; cat "$work/chromium-$name.log" >&2; exit 1; }
    echo "$SHOTS/$name.png"
done
