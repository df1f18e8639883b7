#!/usr/bin/env bash
# Builds the browser extension (issue 5/7) from extension/ and the built pkg/ into
# dist/extension/{chromium,firefox}/ and one zip per browser, with the manifest check of
# scripts/build_extension.py. Run scripts/build.sh first (it calls this at its end).
#
# usage: scripts/build-extension.sh [PKG_DIR [OUT_DIR [SCANNER_PKG_DIR]]]
#        (default: pkg/, dist/extension/ and pkg-scanner/ of the repository)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="${1:-$ROOT/pkg}"
OUT="${2:-$ROOT/dist/extension}"
SCANNER_PKG="${3:-$(dirname "$PKG")/pkg-scanner}"
[[ -f "$PKG/tpr_auditor_bg.wasm" && -f "$PKG/tpr_auditor.js" ]] || {
  echo "build-extension: $PKG has no built core: run scripts/build.sh" >&2; exit 1; }
exec python3 "$ROOT/scripts/build_extension.py" "$PKG" "$OUT" "$SCANNER_PKG"
