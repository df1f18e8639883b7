#!/usr/bin/env python3
"""Bundles the page-world auditor into ONE classic script (SPEC §10): the synchronous
bootstrap, wasm-bindgen's no-modules glue, the optimised .wasm (deflate-raw compressed, as
base64: src/js/inflate.js unpacks it with the browser's DecompressionStream), and the loader,
all inside one function so that nothing but `window.tprAuditor` (and the bootstrap's
symbol-keyed handle) becomes visible to the page.

usage: bundle.py PKG_DIR OUT_FILE [--options JSON] [--prelude FILE]
       bundle.py --scanner SCANNER_PKG_DIR OUT_FILE
  --options JSON   a TPR_OPTIONS object literal baked in (e.g. '{"packaging":"gadget"}')
  --prelude FILE   packaging code placed inside the closure between the glue and the loader
                   (the extension's extension/page/prelude.js, which defines TPR_EXTENSION)
  --scanner        the lazily loaded scanner module instead (issue 7/7): its no-modules glue,
                   its .wasm (deflated, as base64), src/js/inflate.js and src/js/scanner.js
                   in one closure, which registers
                   under Symbol.for('tpr-auditor.scanner') and defines no global name
"""
import base64
import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def deflate_raw(wasm):
    """The .wasm's deflate-raw compression (RFC 1951, no header), what
    DecompressionStream('deflate-raw') inflates, and the name of the compressor. Zopfli (Debian
    package `zopfli`, installed by scripts/setup.sh; `--deflate`, 15 iterations) makes it ~5 %
    smaller than zlib level 9, which is used, and said, when the zopfli command is missing.
    Zopfli's output for the same bytes is reused from target/deflate-cache/ (it takes seconds,
    and a build bundles each module three times)."""
    zopfli = shutil.which("zopfli")
    if zopfli:
        cache = ROOT / "target" / "deflate-cache"
        key = hashlib.sha256(b"zopfli --deflate --i15\0" + wasm).hexdigest()[:32]
        hit = cache / f"{key}.deflate"
        if hit.is_file():
            raw = hit.read_bytes()
        else:
            with tempfile.TemporaryDirectory() as tmp:
                src = pathlib.Path(tmp) / "module.wasm"
                src.write_bytes(wasm)
                raw = subprocess.run([zopfli, "--deflate", "--i15", "-c", str(src)],
                                     check=True, stdout=subprocess.PIPE).stdout
            cache.mkdir(parents=True, exist_ok=True)
            hit.write_bytes(raw)
        how = "zopfli --i15"
    else:
        z = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        raw = z.compress(wasm) + z.flush()
        how = "zlib -9 (no zopfli command: scripts/setup.sh installs it, ~5 % smaller)"
    if zlib.decompress(raw, -15) != wasm:
        sys.exit(f"bundle: {how} output does not inflate to the .wasm")
    return raw, how


def packed(wasm):
    """base64 of the .wasm's deflate-raw compression, its length and the compressor's name.
    Issue 8 item 9: gzip of base64 of the plain .wasm is ~56 % of the .wasm's size, gzip of
    base64 of its deflated bytes ~41 % (the base64 of random-looking bytes gzips back to ~101 %
    of them)."""
    raw, how = deflate_raw(wasm)
    return base64.b64encode(raw).decode("ascii"), len(raw), how


def crate_version():
    cargo = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    return next(line.split('"')[1] for line in cargo.splitlines() if line.startswith("version = "))


def bundle_scanner(pkg, out):
    version = crate_version()
    glue = (pkg / "tpr_auditor_scanner.js").read_text(encoding="utf-8")
    wasm = (pkg / "tpr_auditor_scanner_bg.wasm").read_bytes()
    register = (ROOT / "src/js/scanner.js").read_text(encoding="utf-8")
    inflate = (ROOT / "src/js/inflate.js").read_text(encoding="utf-8")
    b64, deflated, how = packed(wasm)
    parts = [
        f"/*! TPR Auditor {version}: static scanner (WebAssembly, embedded), loaded on first use"
        " by tprAuditor.scan and the panel's Scan view. Built by scripts/bundle.py; do not edit. */\n",
        "(function () {\n",
        glue,
        "\n;\n",
        f"const TPR_VERSION = {json.dumps(version)};\n",
        f'const TPR_SCANNER_WASM_DEFLATE_BASE64 = "{b64}";\n',
        f"const TPR_SCANNER_WASM_SIZE = {len(wasm)};\n",
        inflate,
        "\n",
        register,
        "\n})();\n",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(parts), encoding="utf-8")
    print(f"bundle: {out} {out.stat().st_size} bytes (scanner wasm {len(wasm)} bytes,"
          f" deflate-raw {deflated} bytes by {how}, version {version})")


def main(argv):
    if len(argv) == 4 and argv[1] == "--scanner":
        bundle_scanner(pathlib.Path(argv[2]), pathlib.Path(argv[3]))
        return
    if len(argv) < 3:
        sys.exit(__doc__)
    pkg = pathlib.Path(argv[1])
    out = pathlib.Path(argv[2])
    options = None
    prelude = ""
    rest = argv[3:]
    while rest:
        if len(rest) >= 2 and rest[0] == "--options":
            options = json.loads(rest[1])
        elif len(rest) >= 2 and rest[0] == "--prelude":
            prelude = pathlib.Path(rest[1]).read_text(encoding="utf-8")
        else:
            sys.exit(__doc__)
        rest = rest[2:]
    version = crate_version()
    glue = (pkg / "tpr_auditor.js").read_text(encoding="utf-8")
    wasm = (pkg / "tpr_auditor_bg.wasm").read_bytes()
    bootstrap = (ROOT / "src/js/bootstrap.js").read_text(encoding="utf-8")
    loader = (ROOT / "src/js/loader.js").read_text(encoding="utf-8")
    inflate = (ROOT / "src/js/inflate.js").read_text(encoding="utf-8")
    b64, deflated, how = packed(wasm)
    parts = [
        f"/*! TPR Auditor {version}: bootstrap + core (WebAssembly, embedded) + loader."
        " Built by scripts/bundle.py; do not edit. */\n",
        "(function () {\n",
        bootstrap,
        "\n;\n",
        glue,
        "\n;\n",
        f"const TPR_VERSION = {json.dumps(version)};\n",
        f"const TPR_OPTIONS = {json.dumps(options)};\n" if options is not None else "",
        f'const TPR_WASM_DEFLATE_BASE64 = "{b64}";\n',
        f"const TPR_WASM_SIZE = {len(wasm)};\n",
        inflate,
        "\n",
        prelude,
        "\n;\n" if prelude else "",
        loader,
        "\n})();\n",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(parts), encoding="utf-8")
    print(f"bundle: {out} {out.stat().st_size} bytes (wasm {len(wasm)} bytes, deflate-raw {deflated} bytes"
          f" by {how}, version {version})")


if __name__ == "__main__":
    main(sys.argv)
