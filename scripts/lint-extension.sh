#!/usr/bin/env bash
# Lints the built extension (issue 5/7 item 12): `web-ext lint` (npm web-ext, pinned in
# package.json) on the Firefox build with warnings as errors, then the manifest check of
# scripts/build_extension.py on both builds (required keys, minimal permissions, CSP with
# 'wasm-unsafe-eval' for extension pages only, content scripts, files, messages).
# usage: scripts/lint-extension.sh [DIST_EXTENSION_DIR]   (default dist/extension; build first)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="${1:-$ROOT/dist/extension}"
WEB_EXT="$ROOT/node_modules/.bin/web-ext"
[[ -x "$WEB_EXT" ]] || { echo "lint-extension: $WEB_EXT missing: run scripts/setup.sh" >&2; exit 1; }
[[ -f "$DIST/firefox/manifest.json" ]] || { echo "lint-extension: $DIST not built: run scripts/build.sh" >&2; exit 1; }
"$WEB_EXT" lint --source-dir "$DIST/firefox" --no-config-discovery --warnings-as-errors
python3 "$ROOT/scripts/build_extension.py" --check "$DIST"
