#!/usr/bin/env bash
# The main job: install what is missing, build the WebAssembly core, and serve the
# demo page (www/) on http://127.0.0.1:8080/ until Ctrl-C.
#
# env: PORT=8080       port to serve on (127.0.0.1 only)
#      DEMO_NO_SERVE=1 set up and build, then exit without serving
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${PORT:-8080}"
HOST=127.0.0.1

say() { printf 'demo: %s\n' "$*"; }

say "setup"
scripts/setup.sh
say "build"
scripts/build.sh

# www/pkg is a copy of pkg/ (both are git-ignored), so www/ is self-contained.
rm -rf www/pkg
mkdir -p www
cp -r pkg www/pkg
rm -f www/pkg/.gitignore www/pkg/package.json
say "copied pkg/ -> www/pkg/ ($(ls www/pkg | tr '\n' ' '))"

has_content() { [[ -d "$1" ]] && [[ -n "$(find "$1" -mindepth 1 -maxdepth 1 ! -name pkg -print -quit)" ]]; }

cat <<EOF

==============================================================================
 Demo page:  http://$HOST:$PORT/
EOF
has_content www || echo "   (www/ has no demo page yet: it comes in a later issue; only www/pkg/ is served)"
cat <<EOF

 Browser extension (directory: $ROOT/extension)
   Chromium: open chrome://extensions, switch on "Developer mode",
             "Load unpacked", choose the extension/ directory.
   Firefox:  open about:debugging#/runtime/this-firefox,
             "Load Temporary Add-on...", choose extension/manifest.json.
EOF
has_content extension || echo "   (extension/ is empty: the extension comes in a later issue)"
cat <<EOF

 On-wiki gadget
   One classic script with the WebAssembly embedded, plus its
   Gadgets-definition line; install it as MediaWiki:Gadget-*.js or load it
   as a user script (Special:MyPage/common.js).
EOF
if has_content dist; then
  echo "   Built files: $ROOT/dist/"
else
  echo "   (the gadget build comes in a later issue)"
fi
echo "=============================================================================="

if [[ "${DEMO_NO_SERVE:-}" == 1 ]]; then
  say "DEMO_NO_SERVE=1: not serving"
  exit 0
fi

if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
  echo "demo: ERROR: port $PORT on $HOST is already in use (set PORT=...)" >&2
  exit 1
fi
say "serving $ROOT/www on http://$HOST:$PORT/ (Ctrl-C to stop)"
exec python3 -m http.server "$PORT" --bind "$HOST" --directory "$ROOT/www"
