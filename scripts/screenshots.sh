#!/usr/bin/env bash
# Screenshots of the live panel into docs/img/ (issue 3/7 item 11): runs the panel's end-to-end
# test (tests/e2e/panel.mjs, headless Chromium, after scripts/build.sh), which writes
#   panel-log-{light,dark}.png                      the test wiki page with the log open (1200×760)
#   panel-{summary,destinations,sources,consent,details}-{light,dark}.png   the panel alone
# and checks each one's size (PNG header) and that it is not blank.
# usage: scripts/screenshots.sh [DIR]   (default docs/img; the test's default is /tmp/tpr-panel-shots)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$ROOT/docs/img}"
mkdir -p "$DIR"
TPR_SCREENSHOTS_DIR="$DIR" CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" node "$ROOT/tests/e2e/panel.mjs"
ls -l "$DIR"/panel-*.png
