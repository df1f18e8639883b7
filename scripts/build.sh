#!/usr/bin/env bash
# Release build of the WebAssembly core into pkg/, of the gadget's page module into pkg-gadget/
# (feature `gadget-module`: pkg/ without the browser extension's exports, issue 8 item 9) and of
# the scanner module into pkg-scanner/ (feature `scan-module`, only `scan` exported; bundled as
# dist/tpr-auditor-scanner.js), each:
#   1. wasm-pack build --target no-modules --release --out-dir pkg --no-typescript
#      (classic-script glue: a global `wasm_bindgen(...)`, initialised with explicitly
#      passed bytes: `await wasm_bindgen({module_or_path: bytes})`)
#   2. wasm-opt -Oz from npm's binaryen 132 (node_modules/.bin/wasm-opt) only; any
#      other wasm-opt is refused (Debian's binaryen 108 corrupts wasm-bindgen output)
#   3. node smoke test: the glue + module initialise outside a browser
#   4. raw and gzip sizes
#
# usage: scripts/build.sh [CRATE_DIR]     (default: the repository root)
# env:   NO_WASM_OPT=1   skip wasm-opt (prints "wasm-opt: none")
#        SKIP_WASM_SMOKE=1  skip the node smoke test
# Run scripts/setup.sh first (scripts/demo.sh and scripts/test.sh do).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRATE_DIR="$(cd "${1:-${CRATE_DIR:-$ROOT}}" && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say() { printf 'build: %s\n' "$*"; }
die() { printf 'build: ERROR: %s\n' "$*" >&2; exit 1; }

# Features rustc 1.95 enables by default for wasm32-unknown-unknown
# (`rustc --print cfg --target wasm32-unknown-unknown`): wasm-opt must accept them all.
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)
NPM_WASM_OPT="$ROOT/node_modules/.bin/wasm-opt"
WASM_OPT_WANT="wasm-opt version 132"

command -v wasm-pack >/dev/null || die "wasm-pack not found: run scripts/setup.sh"
command -v wasm-bindgen >/dev/null || die "wasm-bindgen not found: run scripts/setup.sh"

crate_name="$(cd "$CRATE_DIR" && cargo metadata --no-deps --format-version 1 \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s);const dir=process.argv[1];const p=m.packages.find(p=>require("path").dirname(p.manifest_path)===dir)||m.packages[0];process.stdout.write(p.name.replace(/-/g,"_"))})' "$CRATE_DIR")"
PKG="$CRATE_DIR/pkg"
SCANNER_PKG="$CRATE_DIR/pkg-scanner"
GADGET_PKG="$CRATE_DIR/pkg-gadget"

# Resolve wasm-opt before building, refusing anything that is not npm's pinned binaryen,
# whatever PATH or WASM_OPT say.
if [[ "${NO_WASM_OPT:-}" == 1 ]]; then
  wasm_opt_line="wasm-opt: none (NO_WASM_OPT=1)"
else
  if [[ -n "${WASM_OPT:-}" && "$(readlink -f "$WASM_OPT")" != "$(readlink -f "$NPM_WASM_OPT" 2>/dev/null)" ]]; then
    die "WASM_OPT=$WASM_OPT refused: only npm's binaryen ($NPM_WASM_OPT) is allowed (SPEC §11)"
  fi
  [[ -x "$NPM_WASM_OPT" ]] || die "$NPM_WASM_OPT missing: run scripts/setup.sh (or NO_WASM_OPT=1 to skip)"
  real="$(readlink -f "$NPM_WASM_OPT")"
  [[ "$real" == "$ROOT/node_modules/binaryen/"* ]] || die "$NPM_WASM_OPT resolves to $real, not npm's binaryen: refused"
  version="$("$NPM_WASM_OPT" --version)"
  [[ "$version" == "$WASM_OPT_WANT"* ]] || die "$NPM_WASM_OPT is '$version', expected '$WASM_OPT_WANT': refused"
  wasm_opt_line="wasm-opt: $NPM_WASM_OPT -> $real ($version)"
fi

say "crate: $CRATE_DIR ($crate_name)"
say "$(wasm-pack --version), $(wasm-bindgen --version)"

# build_module OUT_DIR OUT_NAME [CARGO_ARGS...]: wasm-pack (no-modules glue), wasm-opt
# (cached), node smoke test, raw and gzip sizes. Used for the page modules (pkg/, pkg-gadget/)
# and the lazily loaded scanner module (pkg-scanner/, feature `scan-module`).
# env: MODULE_OPT_LEVEL (rustc opt-level, default the profile's "z") and MODULE_WASM_OPT
# (default -Oz): the scanner is built for speed (opt-level 3, -O3; see below).
build_module() {
  local out="$1" name="$2"; shift 2
  local opt_level="${MODULE_OPT_LEVEL:-z}" wasm_opt_level="${MODULE_WASM_OPT:--Oz}"
  local wasm="$out/${name}_bg.wasm" glue="$out/${name}.js" t raw_before key cache_dir raw gz glue_raw
  t=$SECONDS
  # wasm-pack's update check asks crates.io's web API, which is unreachable here: its
  # "failed to get wasm-pack version" warning is harmless.
  (cd "$CRATE_DIR" && CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt_level" wasm-pack build --target no-modules \
    --release --out-dir "$out" --out-name "$name" --no-typescript -- "$@")
  say "wasm-pack ($name) done in $((SECONDS - t)) s"
  [[ -f "$wasm" && -f "$glue" ]] || die "expected $wasm and $glue"
  raw_before=$(stat -c %s "$wasm")

  say "$wasm_opt_line"
  if [[ "${NO_WASM_OPT:-}" != 1 ]]; then
    # wasm-opt takes ~10 s on the full core; its output for an unchanged input (same
    # bytes, same wasm-opt, same flags) is reused from target/wasm-opt-cache/.
    key="$(cat "$wasm" <(printf '%s\n' "$version" "${WASM_OPT_FEATURES[*]}" "$wasm_opt_level") | sha256sum | cut -c1-32)"
    cache_dir="$(cd "$CRATE_DIR" && cargo metadata --no-deps --format-version 1 | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory')/wasm-opt-cache"
    if [[ -f "$cache_dir/$key.wasm" ]]; then
      cp "$cache_dir/$key.wasm" "$wasm"
      say "wasm-opt $wasm_opt_level: input unchanged, reused $cache_dir/$key.wasm ($raw_before -> $(stat -c %s "$wasm") bytes)"
    else
      t=$SECONDS
      "$NPM_WASM_OPT" "$wasm_opt_level" "${WASM_OPT_FEATURES[@]}" "$wasm" -o "$wasm.opt"
      mv "$wasm.opt" "$wasm"
      say "wasm-opt $wasm_opt_level done in $((SECONDS - t)) s ($raw_before -> $(stat -c %s "$wasm") bytes)"
      mkdir -p "$cache_dir"
      find "$cache_dir" -name '*.wasm' -mtime +7 -delete 2>/dev/null || true
      cp "$wasm" "$cache_dir/$key.wasm"
    fi
  fi

  if [[ "${SKIP_WASM_SMOKE:-}" == 1 ]]; then
    say "smoke test skipped (SKIP_WASM_SMOKE=1)"
  else
    node "$ROOT/scripts/wasm-smoke.js" "$glue" "$wasm"
  fi

  raw=$(stat -c %s "$wasm")
  gz=$(gzip -9c "$wasm" | wc -c)
  glue_raw=$(stat -c %s "$glue")
  say "size: ${wasm#"$CRATE_DIR"/} raw $raw bytes ($((raw / 1024)) KiB), gzip -9 $gz bytes ($((gz / 1024)) KiB)"
  say "size: ${glue#"$CRATE_DIR"/} raw $glue_raw bytes"
}

# The page module (default features), then the scanner module: only `scan` is exported
# (feature `scan-module` compiles the page runtime, panel and extension glue out).
build_module "$PKG" "$crate_name"
# The scanner is built for speed, not size (issue 7/7 item 11, >= 12 MB/s as WebAssembly): with
# opt-level 3 and wasm-opt -O3 it scans ~35 % faster in Chromium than with "z" / -Oz, for
# ~350 KB more raw WebAssembly (~60 KB more deflated), loaded only on the first scan.
MODULE_OPT_LEVEL=3 MODULE_WASM_OPT=-O3 build_module "$SCANNER_PKG" "${crate_name}_scanner" --features scan-module
# The gadget's page module: the same without the extension's exports (the gadget never has the
# extension; 64 KB less WebAssembly on every wiki page view).
build_module "$GADGET_PKG" "$crate_name" --features gadget-module

# The scanner as one classic script, loaded on first use (src/web/scanner.rs).
python3 "$ROOT/scripts/bundle.py" --scanner "$SCANNER_PKG" "$CRATE_DIR/dist/tpr-auditor-scanner.js"

# The page-world bundle (bootstrap + glue + embedded wasm + loader): one classic script.
python3 "$ROOT/scripts/bundle.py" "$PKG" "$CRATE_DIR/dist/tpr-auditor.js"

# The on-wiki gadget (dist/gadget/): ES2017 check, size budget, installation material.
"$ROOT/scripts/build-gadget.sh" "$GADGET_PKG" "$CRATE_DIR/dist/gadget" "$SCANNER_PKG"

# The browser extension (dist/extension/{chromium,firefox}/ and a zip per browser).
"$ROOT/scripts/build-extension.sh" "$PKG" "$CRATE_DIR/dist/extension" "$SCANNER_PKG"
