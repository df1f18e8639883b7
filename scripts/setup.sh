#!/usr/bin/env bash
# Installs everything the build and the tests need, pinned, and nothing twice.
# Idempotent: each tool's version is checked first, so a warm run takes ~1 s.
#
#   rustup: wasm32-unknown-unknown target, rustfmt, clippy
#   cargo install: wasm-pack 0.15.1, wasm-bindgen-cli 0.2.130, geckodriver 0.37.1
#   apt: chromium, chromium-driver, firefox-esr, zopfli (apt-get update only if one is missing;
#        zopfli deflates the WebAssembly the bundles embed: scripts/bundle.py)
#   npm ci: binaryen 132.0.0 (wasm-opt), playwright-core 1.65.1 (never downloads browsers),
#           axe-core 4.14.1 (accessibility check of the panel in tests/e2e/panel.mjs)
#
# Only crates.io, PyPI, Debian and npm are reachable here: nothing may download
# prebuilt binaries or browsers. Never use Debian's `binaryen` (108): its wasm-opt
# corrupts wasm-bindgen output (SPEC §11).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Pins. wasm-bindgen-cli must equal the crate's `wasm-bindgen = "=0.2.130"`.
WASM_PACK_VERSION=0.15.1
WASM_BINDGEN_VERSION=0.2.130
GECKODRIVER_VERSION=0.37.1
WASM_TARGET=wasm32-unknown-unknown
APT_PACKAGES=(chromium chromium-driver firefox-esr zopfli)
NODE_MAJOR_MIN=20

export PATH="$HOME/.cargo/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

did=()      # what this run changed
ok=()       # what was already in place
t0=$SECONDS

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# Prints "<name> <version>" of a command, or nothing if absent.
first_line() { "$@" 2>/dev/null | head -n1 || true; }

# --- Rust toolchain pieces ---------------------------------------------------
command -v rustup >/dev/null || die "rustup not found (it is part of the machine image; it cannot be downloaded here)"
command -v cargo >/dev/null || die "cargo not found"

if rustup target list --installed | grep -qx "$WASM_TARGET"; then
  ok+=("rust target $WASM_TARGET")
else
  say "rustup target add $WASM_TARGET"
  rustup target add "$WASM_TARGET"
  did+=("rustup target add $WASM_TARGET")
fi

installed_components="$(rustup component list --installed)"
for comp in rustfmt clippy; do
  if grep -q "^$comp" <<<"$installed_components"; then
    ok+=("rust component $comp")
  else
    say "rustup component add $comp"
    rustup component add "$comp"
    did+=("rustup component add $comp")
  fi
done

# --- cargo-installed tools ---------------------------------------------------
# cargo_tool <binary> <expected version> <crate> [extra cargo install args...]
cargo_tool() {
  local bin="$1" want="$2" crate="$3"; shift 3
  local have
  have="$(first_line "$bin" --version | awk '{print $2}')"
  if [[ "$have" == "$want" ]]; then
    ok+=("$bin $want")
    return
  fi
  say "cargo install $crate --version $want $* (found: ${have:-none})"
  local t=$SECONDS
  cargo install "$crate" --version "=$want" --force "$@"
  did+=("cargo install $crate $want ($((SECONDS - t)) s)")
}

cargo_tool wasm-pack "$WASM_PACK_VERSION" wasm-pack --locked
# No --locked: a version in wasm-bindgen-cli's own lockfile is not on crates.io.
cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli
have_runner="$(first_line wasm-bindgen-test-runner --version | awk '{print $2}')"
[[ "$have_runner" == "$WASM_BINDGEN_VERSION" ]] \
  || die "wasm-bindgen-test-runner is '${have_runner:-missing}', expected $WASM_BINDGEN_VERSION"
cargo_tool geckodriver "$GECKODRIVER_VERSION" geckodriver --locked

# --- Debian packages: browsers and drivers, zopfli ---------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]]; then
    ok+=("apt $p")
  else
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=()
  [[ $(id -u) -eq 0 ]] || SUDO=(sudo)
  say "apt-get update; apt-get install ${missing[*]}"
  t=$SECONDS
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}"
  did+=("apt-get install ${missing[*]} ($((SECONDS - t)) s)")
fi
if dpkg-query -W -f='${Status}' binaryen 2>/dev/null | grep -q 'install ok installed'; then
  say "WARNING: Debian's binaryen is installed; scripts/build.sh ignores it and uses npm's wasm-opt."
fi

# --- npm devDependencies -----------------------------------------------------
command -v node >/dev/null || die "node not found (need Node.js >= $NODE_MAJOR_MIN)"
command -v npm >/dev/null || die "npm not found"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= NODE_MAJOR_MIN)) || die "Node.js $(node --version) is too old; need >= $NODE_MAJOR_MIN"

# node_modules is current when every package-lock entry is installed at its locked version.
npm_current() {
  [[ -f node_modules/.package-lock.json ]] || return 1
  node -e '
    const fs = require("fs");
    const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
    for (const [path, meta] of Object.entries(lock)) {
      if (!path) continue;
      let v;
      try { v = JSON.parse(fs.readFileSync(path + "/package.json", "utf8")).version; } catch { process.exit(1); }
      if (v !== meta.version) process.exit(1);
    }
  '
}
[[ -f package-lock.json ]] || die "package-lock.json missing (run 'npm install' once and commit it)"
if npm_current; then
  ok+=("npm packages (binaryen $(node -p 'require("./node_modules/binaryen/package.json").version'), playwright-core $(node -p 'require("./node_modules/playwright-core/package.json").version'), axe-core $(node -p 'require("./node_modules/axe-core/package.json").version'))")
else
  say "npm ci"
  t=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error
  did+=("npm ci ($((SECONDS - t)) s)")
fi

# --- sanity checks -----------------------------------------------------------
wasm_opt_version="$(first_line node_modules/.bin/wasm-opt --version)"
[[ "$wasm_opt_version" == "wasm-opt version 132"* ]] || die "npm wasm-opt reports '$wasm_opt_version', expected version 132"

if [[ -f Cargo.lock ]]; then
  locked_wb="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3}' Cargo.lock)"
  if [[ -n "$locked_wb" && "$locked_wb" != "$WASM_BINDGEN_VERSION" ]]; then
    die "Cargo.lock has wasm-bindgen $locked_wb but wasm-bindgen-cli is $WASM_BINDGEN_VERSION; they must match"
  fi
fi

chromium_major="$(first_line /usr/bin/chromium --version 2>/dev/null | grep -o '[0-9]\+\.' | head -n1 | tr -d .)"
driver_major="$(first_line /usr/bin/chromedriver --version | awk '{print $2}' | cut -d. -f1)"
[[ -n "$chromium_major" && "$chromium_major" == "$driver_major" ]] \
  || die "chromium ($chromium_major) and chromedriver ($driver_major) major versions differ"

# --- report ------------------------------------------------------------------
say "already present: ${#ok[@]} item(s)"
for x in "${ok[@]}"; do say "  = $x"; done
if ((${#did[@]})); then
  say "installed/changed: ${#did[@]} item(s)"
  for x in "${did[@]}"; do say "  + $x"; done
else
  say "nothing to install"
fi
say "versions: $(rustc --version | awk '{print "rustc", $2}'), $(first_line wasm-pack --version), $(first_line wasm-bindgen --version), $(first_line geckodriver --version | awk '{print $1, $2}'), $(/usr/bin/chromium --version 2>/dev/null | awk '{print $1, $2}'), $(first_line /usr/bin/chromedriver --version | awk '{print $1, $2}'), $(first_line firefox-esr --version | sed 's/Mozilla //'), node $(node --version), $wasm_opt_version"
say "done in $((SECONDS - t0)) s"
