#!/usr/bin/env bash
# The main job: install what is missing, build the auditor (dist/tpr-auditor.js), and serve the
# demo wiki page (www/) with scripts/demo-server.py until Ctrl-C:
#   http://wiki.demo.test:PORT/wiki/Demo_page   the page (the banner prints the Chromium command
#                                               that resolves the demo's host names to 127.0.0.1)
#   127.0.0.1:FAKE_PORT                         the fake third-party / cloud hosts (any Host)
# Both listen on 127.0.0.1 only; nothing the demo does leaves the machine.
#
# env: PORT=8080        port of the demo wiki (127.0.0.1)
#      FAKE_PORT=8089   port of the fake hosts (127.0.0.1)
#      DEMO_NO_SERVE=1  set up, build and print the instructions, then exit without serving
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PORT="${PORT:-8080}"
export FAKE_PORT="${FAKE_PORT:-8089}"
HOST=127.0.0.1

say() { printf 'demo: %s\n' "$*"; }

say "setup"
scripts/setup.sh
say "build"
scripts/build.sh
if [[ -f dist/tpr-auditor.js ]]; then
  say "auditor bundle: dist/tpr-auditor.js ($(stat -c %s dist/tpr-auditor.js) bytes), served as /tpr-auditor.js"
else
  say "WARNING: dist/tpr-auditor.js was not built: the demo page runs without the auditor"
fi

has_content() { [[ -d "$1" ]] && [[ -n "$(find "$1" -mindepth 1 -maxdepth 1 -print -quit)" ]]; }

echo
echo "=============================================================================="
python3 scripts/demo-server.py --banner
cat <<EOF

 Browser extension (built: $ROOT/dist/extension/)
   Chromium: chrome://extensions -> "Developer mode" on -> "Load unpacked"
             -> $ROOT/dist/extension/chromium
   Firefox:  about:debugging#/runtime/this-firefox -> "Load Temporary Add-on..."
             -> $(ls "$ROOT"/dist/extension/tpr-auditor-firefox-*.zip 2>/dev/null | head -1)
   It runs on Wikimedia wikis; add other wikis on its options page. To see the network
   records of third-party loads too (CSS fonts and images no page hook sees), click
   "Record requests to all sites" there: host access beyond Wikimedia is optional.

 On-wiki gadget (built: $ROOT/dist/gadget/)
   As a default gadget for everyone (interface administrators):
     TPR_DEPLOY_API=https://WIKI/w/api.php TPR_DEPLOY_USER='Name@botname' \\
       TPR_DEPLOY_PASSWORD=... scripts/deploy-gadget.sh
   Or by hand: MediaWiki:Gadget-tpr-auditor.js = dist/gadget/Gadget-tpr-auditor.js
     plus the line in dist/gadget/ for MediaWiki:Gadgets-definition.
   For yourself only, once that page exists on the wiki, add to Special:MyPage/common.js
     the line in dist/gadget/install-user-script.js.
EOF
echo "=============================================================================="

if [[ "${DEMO_NO_SERVE:-}" == 1 ]]; then
  say "DEMO_NO_SERVE=1: not serving"
  exit 0
fi

for p in "$PORT" "$FAKE_PORT"; do
  if (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null; then
    echo "demo: ERROR: port $p on $HOST is already in use (set PORT=... / FAKE_PORT=...)" >&2
    exit 1
  fi
done
say "serving $ROOT/www (Ctrl-C to stop)"
exec python3 scripts/demo-server.py --port "$PORT" --fake-port "$FAKE_PORT" --no-banner
