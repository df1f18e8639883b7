#!/usr/bin/env bash
# Runs every check and test, each as one step that passes or fails, and ends with
# the line `N passed, N failed` (exit status non-zero if any step failed).
#
#   setup         scripts/setup.sh (pinned tools, browsers, npm packages)
#   fmt           cargo fmt --check
#   clippy        cargo clippy --all-targets -- -D warnings             (native)
#   clippy-wasm   cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
#   test          cargo test                                            (native, incl. doctests)
#   wasm-chromium cargo test --target wasm32-unknown-unknown --tests    (headless Chromium)
#   wasm-firefox  cargo test --target wasm32-unknown-unknown --tests    (headless Firefox)
#   build         scripts/build.sh (release pkg/ + npm wasm-opt + node smoke test)
#   js-bootstrap  node --test tests/js/  (src/js/bootstrap.js hooks in headless Chromium)
#   e2e ...       end-to-end browser tests (tests/e2e/, added by later issues)
#
# The wasm steps run through wasm-bindgen-test-runner (.cargo/config.toml). It picks
# its browser from GECKODRIVER / SAFARIDRIVER / CHROMEDRIVER (first one set wins, in
# that order; *_REMOTE before those), so each step sets exactly one and unsets the
# rest. Browser flags and prefs come from webdriver.json (WASM_BINDGEN_TEST_WEBDRIVER_JSON).
# Per-test-binary timeout: WASM_BINDGEN_TEST_TIMEOUT (default here 120 s; runner's own is 20 s).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

CHROMIUM_BIN=/usr/bin/chromium
CHROMEDRIVER_BIN=/usr/bin/chromedriver
FIREFOX_BIN=/usr/bin/firefox-esr
GECKODRIVER_BIN="$HOME/.cargo/bin/geckodriver"
WASM_TARGET=wasm32-unknown-unknown

names=() results=() times=()
passed=0 failed=0
T0=$SECONDS

# step <name> <command...>: runs one step, records pass/fail and its duration.
step() {
  local name="$1"; shift
  printf '\n===== [%s] %s\n' "$name" "$*"
  local start rc
  start=$(date +%s.%N)
  "$@"
  rc=$?
  local secs
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  names+=("$name") times+=("$secs")
  if ((rc == 0)); then
    results+=(PASS); passed=$((passed + 1))
    printf '===== [%s] PASS in %s s\n' "$name" "$secs"
  else
    results+=("FAIL(rc=$rc)"); failed=$((failed + 1))
    printf '===== [%s] FAIL (exit %s) in %s s\n' "$name" "$rc" "$secs"
  fi
  return "$rc"
}

summary() {
  printf '\n===== summary (total %s s)\n' "$((SECONDS - T0))"
  local i
  for i in "${!names[@]}"; do
    printf '  %-14s %-12s %7s s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
  done
  printf '%d passed, %d failed\n' "$passed" "$failed"
}

# Every webdriver env var the runner looks at, so each browser step can clear them all.
DRIVER_VARS=(GECKODRIVER GECKODRIVER_REMOTE GECKODRIVER_ARGS SAFARIDRIVER SAFARIDRIVER_REMOTE
  SAFARIDRIVER_ARGS CHROMEDRIVER CHROMEDRIVER_REMOTE CHROMEDRIVER_ARGS MSEDGEDRIVER
  MSEDGEDRIVER_REMOTE MSEDGEDRIVER_ARGS NO_HEADLESS WASM_BINDGEN_TEST_ONLY_NODE
  WASM_BINDGEN_TEST_ONLY_WEB WASM_BINDGEN_USE_BROWSER WASM_BINDGEN_TEST_ADDRESS)

# wasm_tests <driver var> <driver path> <browser binary>
wasm_tests() {
  local var="$1" driver="$2" browser="$3" v unset_args=()
  [[ -x "$browser" ]] || { echo "browser missing: $browser (run scripts/setup.sh)"; return 1; }
  [[ -x "$driver" ]] || { echo "driver missing: $driver (run scripts/setup.sh)"; return 1; }
  for v in "${DRIVER_VARS[@]}"; do unset_args+=(-u "$v"); done
  env "${unset_args[@]}" \
    "$var=$driver" \
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/webdriver.json" \
    WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}" \
    cargo test --target "$WASM_TARGET" --tests
}

# e2e_node <script>: one end-to-end test script (node, playwright-core, Debian chromium).
e2e_node() {
  CHROMIUM="$CHROMIUM_BIN" node "$1"
}

# --- setup: nothing else can run without it ------------------------------------
if ! step setup scripts/setup.sh; then
  echo "setup failed: not running the other steps"
  summary
  exit 1
fi

# --- Rust: format, lints, native tests -----------------------------------------
step fmt cargo fmt --all -- --check --color never
step clippy cargo clippy --all-targets -- -D warnings
step clippy-wasm cargo clippy --all-targets --target "$WASM_TARGET" -- -D warnings
step test cargo test

# --- WebAssembly tests in real browsers (tests/web.rs) -------------------------
step wasm-chromium wasm_tests CHROMEDRIVER "$CHROMEDRIVER_BIN" "$CHROMIUM_BIN"
step wasm-firefox wasm_tests GECKODRIVER "$GECKODRIVER_BIN" "$FIREFOX_BIN"

# --- release build: pkg/ (wasm-pack + npm wasm-opt + node smoke test) -----------
step build scripts/build.sh

# --- bootstrap hooks in headless Chromium (tests/js/, playwright-core, node --test) ---
step js-bootstrap node --test tests/js/

# ===== END-TO-END TESTS ============================================================
# Browser tests against real pages (tests/e2e/, playwright-core with Debian's
# Chromium; Firefox through geckodriver or directly; never a downloaded browser).
# The real-MediaWiki tests each set up and start their own wiki instance
# (tests/mediawiki/, /tmp/tpr-mw*, ports 8088/8098/8108) and stop what they started.
step e2e-demo e2e_node tests/e2e/demo.mjs
step e2e-scan-demo e2e_node tests/e2e/scan-demo.mjs
step e2e-differential e2e_node tests/e2e/differential.mjs
step e2e-panel e2e_node tests/e2e/panel.mjs
step csp-oracle node tests/e2e/csp-oracle.mjs
step e2e-mediawiki e2e_node tests/e2e/mediawiki.mjs
step e2e-scan-wiki e2e_node tests/e2e/scan-wiki.mjs
step e2e-consent-wiki e2e_node tests/e2e/consent-wiki.mjs
step e2e-consent-wiki-ff node tests/e2e/consent-wiki-firefox.mjs
step e2e-gadget e2e_node tests/e2e/gadget.mjs
step lint-extension scripts/lint-extension.sh
step e2e-extension e2e_node tests/e2e/extension.mjs
step e2e-extension-mw e2e_node tests/e2e/extension-mediawiki.mjs
step e2e-extension-ff node tests/e2e/extension-firefox.mjs
step e2e-extension-ff-mw node tests/e2e/extension-firefox-mediawiki.mjs
# ===== END OF END-TO-END TESTS ===================================================

summary
((failed == 0))
