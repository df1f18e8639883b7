#!/usr/bin/env python3
"""Builds the browser extension (SPEC section 10, issue 5/7) from extension/ into
dist/extension/{chromium,firefox}/ plus one zip per browser, from the already built pkg/.

usage: build_extension.py PKG_DIR OUT_DIR [SCANNER_PKG_DIR]
       build_extension.py --check OUT_DIR     (only the manifest check of a built OUT_DIR)

Per browser:
  manifest.json   extension/manifest.base.json with extension/manifest.<browser>.json merged
                  in (objects key by key, everything else replaced; "//" comments dropped;
                  @VERSION@ and @WIKIMEDIA_MATCHES@ substituted). No runtime browser checks:
                  what differs is chosen here (manifest keys, platform.<browser>.js).
  page.js         the page-world bundle (scripts/bundle.py) with extension/page/prelude.js
  core/           wasm-bindgen's no-modules glue and the optimised .wasm (extension pages,
                  the background and the fallback core host load them)
  scanner.js      the scanner module (scripts/bundle.py --scanner, from SCANNER_PKG_DIR,
                  default pkg-scanner/ next to PKG_DIR): run in a page's world on request by
                  the background (scripting.executeScript), never web-accessible
  icons/          PNGs drawn here with the standard library (zlib)
  everything else extension/*.js|html|css and _locales/ as they are
Then checks the manifests (check_manifest) and writes tpr-auditor-<browser>-<version>.zip.
"""
import json
import pathlib
import re
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "extension"
BROWSERS = ("chromium", "firefox")

# SPEC section 3, the "wikimedia-production" preset, as match patterns.
WIKIMEDIA_HOSTS = [
    "*.wikipedia.org", "*.wikimedia.org", "*.wikidata.org", "*.wiktionary.org",
    "*.wikibooks.org", "*.wikinews.org", "*.wikiquote.org", "*.wikisource.org",
    "*.wikiversity.org", "*.wikivoyage.org", "*.mediawiki.org", "*.wikifunctions.org",
    "wikimediafoundation.org", "*.wmfusercontent.org", "w.wiki",
]
WIKIMEDIA_MATCHES = [f"*://{h}/*" for h in WIKIMEDIA_HOSTS]
# Wikimedia Cloud (Toolforge and Cloud VPS, SPEC section 3 party `cloud`): no content scripts
# (no wiki runs there), but host access, so the network records include the tools a wiki page
# contacts without the optional all-sites grant. `*.` also matches the bare domain.
CLOUD_MATCHES = [f"*://*.{h}/*" for h in ("toolforge.org", "wmcloud.org", "wmflabs.org", "wikimedia.cloud")]
WIKIMEDIA_HOST_ACCESS = WIKIMEDIA_MATCHES + CLOUD_MATCHES
# What the options page may request at the user's click: all sites (the network records of
# third-party loads) or any one wiki the user adds.
OPTIONAL_HOST_ACCESS = ["*://*/*"]

# Files of extension/ every browser gets, and those one browser gets.
COMMON_FILES = ["bridge.js", "background.js", "common.js", "core-host.js", "options.html",
                "options.js", "popup.html", "popup.js", "pages.css", "panel.html", "panel.js"]
BROWSER_FILES = {"chromium": ["service-worker.js", "offscreen.html"], "firefox": []}


def crate_version():
    for line in (ROOT / "Cargo.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise SystemExit("no version in Cargo.toml")


def merge(base, overlay):
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for k, v in overlay.items():
            out[k] = merge(base[k], v) if k in base else v
        return out
    return overlay


def strip_comments(value):
    if isinstance(value, dict):
        return {k: strip_comments(v) for k, v in value.items() if not k.startswith("//")}
    if isinstance(value, list):
        return [strip_comments(v) for v in value]
    return value


def substitute(value, version):
    if isinstance(value, dict):
        return {k: substitute(v, version) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, version) for v in value]
    if value == "@WIKIMEDIA_MATCHES@":
        return list(WIKIMEDIA_MATCHES)
    if value == "@WIKIMEDIA_HOST_ACCESS@":
        return list(WIKIMEDIA_HOST_ACCESS)
    if value == "@VERSION@":
        return version
    return value


def manifest_for(browser, version):
    base = json.loads((SRC / "manifest.base.json").read_text(encoding="utf-8"))
    overlay = json.loads((SRC / f"manifest.{browser}.json").read_text(encoding="utf-8"))
    return substitute(strip_comments(merge(base, overlay)), version)


# ---- icons -------------------------------------------------------------------------------
def png(size, pixel):
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y, size)) for x in range(size)) for y in range(size)
    )

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def icon_pixel(x, y, n):
    """A blue rounded square (Codex progressive blue) with a white eye and a red pupil."""
    cx = cy = (n - 1) / 2
    r = n * 0.18
    # Rounded square mask.
    dx = max(abs(x - cx) - (n / 2 - r), 0)
    dy = max(abs(y - cy) - (n / 2 - r), 0)
    if dx * dx + dy * dy > r * r:
        return (0, 0, 0, 0)
    ex, ey = (x - cx) / (n * 0.40), (y - cy) / (n * 0.24)
    d = ((x - cx) ** 2 + (y - cy) ** 2) ** 0.5
    if d <= n * 0.11:
        return (0xD7, 0x33, 0x33, 255)
    if ex * ex + ey * ey <= 1:
        return (255, 255, 255, 255)
    return (0x33, 0x66, 0xCC, 255)


# ---- manifest check (issue 5/7 item 12, the Chromium build; Firefox also gets web-ext lint) --
REQUIRED_KEYS = ["manifest_version", "name", "version", "description", "default_locale", "icons",
                 "action", "background", "content_scripts", "permissions", "host_permissions",
                 "options_ui", "content_security_policy"]
ALLOWED_PERMISSIONS = {
    "chromium": {"storage", "webRequest", "declarativeNetRequest", "scripting", "offscreen"},
    "firefox": {"storage", "webRequest", "declarativeNetRequest", "scripting"},
}


def check_manifest(browser, m, out):
    """Problems of one built manifest (empty: fine)."""
    problems = []
    for k in REQUIRED_KEYS:
        if k not in m:
            problems.append(f"missing key {k}")
    if m.get("manifest_version") != 3:
        problems.append("manifest_version must be 3")
    extra = set(m.get("permissions", [])) - ALLOWED_PERMISSIONS[browser]
    if extra:
        problems.append(f"permissions beyond what the extension uses: {sorted(extra)}")
    missing = ALLOWED_PERMISSIONS[browser] - set(m.get("permissions", []))
    if missing:
        problems.append(f"permissions the code needs are missing: {sorted(missing)}")
    for p in ("webRequestBlocking", "tabs", "cookies", "history", "<all_urls>"):
        if p in m.get("permissions", []):
            problems.append(f"permission {p} is not needed")
    # Host access (issue 5/7 item 2): Wikimedia's hosts at install, everything else optional,
    # asked for at the user's click on the options page.
    if m.get("host_permissions") != WIKIMEDIA_HOST_ACCESS:
        problems.append("host_permissions must be exactly the Wikimedia wiki and Cloud hosts")
    if m.get("optional_host_permissions") != OPTIONAL_HOST_ACCESS:
        problems.append(f"optional_host_permissions must be exactly {OPTIONAL_HOST_ACCESS}")
    for key in ("permissions", "optional_permissions"):
        for p in m.get(key, []):
            if "://" in p or p == "<all_urls>":
                problems.append(f"host pattern {p} in {key}: host access belongs in (optional_)host_permissions")
    csp = m.get("content_security_policy", {})
    if set(csp) != {"extension_pages"}:
        problems.append(f"CSP keys must be extension_pages only, found {sorted(csp)}")
    ep = csp.get("extension_pages", "")
    if "'wasm-unsafe-eval'" not in ep:
        problems.append("extension_pages CSP lacks 'wasm-unsafe-eval' (the core is WebAssembly)")
    if "'unsafe-eval'" in ep.replace("'wasm-unsafe-eval'", "") or "'unsafe-inline'" in ep:
        problems.append("extension_pages CSP allows more than 'wasm-unsafe-eval'")
    cs = m.get("content_scripts", [])
    worlds = [c.get("world") for c in cs]
    if worlds != ["ISOLATED", "MAIN"]:
        problems.append(f"content scripts must be ISOLATED then MAIN, found {worlds}")
    for c in cs:
        if c.get("run_at") != "document_start" or c.get("all_frames") is not True:
            problems.append("content scripts must run at document_start in all frames")
        if c.get("matches") != WIKIMEDIA_MATCHES:
            problems.append("content scripts must match the Wikimedia hosts only")
    if browser == "chromium":
        if "service_worker" not in m.get("background", {}):
            problems.append("Chromium needs background.service_worker")
        if "browser_specific_settings" in m:
            problems.append("browser_specific_settings is Firefox's")
    else:
        gecko = m.get("browser_specific_settings", {}).get("gecko", {})
        if not gecko.get("id"):
            problems.append("Firefox needs browser_specific_settings.gecko.id")
        smv = gecko.get("strict_min_version", "0")
        if int(smv.split(".")[0]) < 140:
            problems.append("world MAIN content scripts need Firefox 128, the data collection declaration 140")
        if "data_collection_permissions" not in gecko:
            problems.append("Firefox needs the data collection declaration")
        if "scripts" not in m.get("background", {}):
            problems.append("Firefox needs background.scripts")
    if "web_accessible_resources" in m:
        problems.append("no web_accessible_resources: the scanner is injected by the background")
    if not (out / "scanner.js").is_file():
        problems.append("scanner.js (the scanner module) is not built")
    # Every file the manifest names exists.
    named = []
    named += list(m.get("icons", {}).values())
    named += list(m.get("action", {}).get("default_icon", {}).values())
    named += [m.get("action", {}).get("default_popup"), m.get("options_ui", {}).get("page")]
    named += m.get("background", {}).get("scripts", [])
    named += [m.get("background", {}).get("service_worker")] if browser == "chromium" else []
    for c in cs:
        named += c.get("js", [])
    for f in named:
        if f and not (out / f).is_file():
            problems.append(f"{f} is named but not built")
    # Every __MSG_x__ has a message.
    messages = json.loads((out / "_locales/en/messages.json").read_text(encoding="utf-8"))
    text = json.dumps(m)
    for key in re.findall(r"__MSG_(\w+)__", text):
        if key not in messages:
            problems.append(f"message {key} is not in _locales/en")
    return problems


def build(pkg, out_root, scanner_pkg):
    version = crate_version()
    out_root.mkdir(parents=True, exist_ok=True)
    page_js = out_root / "page.js"
    scanner_js = out_root / "scanner.js"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts/bundle.py"), "--scanner", str(scanner_pkg), str(scanner_js)],
        check=True,
    )
    subprocess.run(
        [sys.executable, str(ROOT / "scripts/bundle.py"), str(pkg), str(page_js),
         "--options", json.dumps({"packaging": "extension", "failureNote": False}),
         "--prelude", str(SRC / "page/prelude.js")],
        check=True,
    )
    failed = False
    for browser in BROWSERS:
        out = out_root / browser
        if out.exists():
            shutil.rmtree(out)
        (out / "core").mkdir(parents=True)
        (out / "icons").mkdir()
        shutil.copy(page_js, out / "page.js")
        shutil.copy(scanner_js, out / "scanner.js")
        shutil.copy(pkg / "tpr_auditor.js", out / "core/tpr_auditor.js")
        shutil.copy(pkg / "tpr_auditor_bg.wasm", out / "core/tpr_auditor_bg.wasm")
        for f in COMMON_FILES + BROWSER_FILES[browser]:
            shutil.copy(SRC / f, out / f)
        shutil.copy(SRC / f"platform.{browser}.js", out / "platform.js")
        shutil.copytree(SRC / "_locales", out / "_locales")
        for size in (16, 32, 48, 128):
            (out / f"icons/icon-{size}.png").write_bytes(png(size, icon_pixel))
        m = manifest_for(browser, version)
        (out / "manifest.json").write_text(json.dumps(m, indent=2) + "\n", encoding="utf-8")
        problems = check_manifest(browser, m, out)
        for p in problems:
            print(f"build-extension: {browser}: manifest check: {p}", file=sys.stderr)
        failed |= bool(problems)
        archive = out_root / f"tpr-auditor-{browser}-{version}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(out.rglob("*")):
                if f.is_file():
                    z.write(f, f.relative_to(out).as_posix())
        print(f"build-extension: {browser}: {out} ({sum(f.stat().st_size for f in out.rglob('*') if f.is_file())} bytes), "
              f"{archive.name} ({archive.stat().st_size} bytes), manifest check "
              f"{'FAILED' if problems else 'ok'}")
    page_js.unlink()
    scanner_js.unlink()
    return 1 if failed else 0


def check_built(out_root):
    failed = False
    for browser in BROWSERS:
        out = out_root / browser
        m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        problems = check_manifest(browser, m, out)
        for p in problems:
            print(f"check-extension: {browser}: {p}", file=sys.stderr)
        print(f"check-extension: {browser}: manifest check {'FAILED' if problems else 'ok'}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    if sys.argv[1] == "--check":
        sys.exit(check_built(pathlib.Path(sys.argv[2])))
    pkg_dir = pathlib.Path(sys.argv[1])
    scanner_dir = pathlib.Path(sys.argv[3]) if len(sys.argv) == 4 else pkg_dir.parent / "pkg-scanner"
    sys.exit(build(pkg_dir, pathlib.Path(sys.argv[2]), scanner_dir))
