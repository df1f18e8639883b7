#!/usr/bin/env python3
"""Demo server: the www/ demo wiki page on one loopback port, and a fake "internet" on another.
Standard library only. Nothing here reaches outside the machine: the browser must resolve the
demo's host names to 127.0.0.1 (Chromium: the --host-resolver-rules printed in the banner).

Wiki listener (127.0.0.1:PORT, default 8080), meant to be opened as http://wiki.demo.test:PORT/:
  /                               302 to /wiki/Demo_page
  /wiki/Demo_page                 www/index.html (a Vector-like wiki page with gadgets); asked for
                                  under any other Host (e.g. 127.0.0.1) it is a short page saying
                                  how to open the demo, because without the host-resolver rules the
                                  gadgets' requests to real host names would leave the machine
  /w/index.php?title=T&action=raw the wiki page T, a file of www/gadgets/ named in routes.json
  /w/load.php?modules=M&only=scripts (debug mode: one module)   likewise
  /w/load.php?...only=styles      an empty stylesheet
  /tpr-auditor.js                 dist/tpr-auditor.js (--bundle); 404 with a JS comment if missing
  /tpr-auditor-scanner.js         the scanner module next to it (dist/tpr-auditor-scanner.js),
                                  loaded by the auditor on its first scan (same origin)
  /w/api.php, /beacon*, POST, WebSocket, /__health, /__log   as the fake hosts answer them
  any other path                  the file under www/, else 404
  Text files get @@FAKE_PORT@@ replaced by the fake listener's port.

Fake listener (127.0.0.1:FAKE_PORT, default 8089) answers ANY Host: tests/mediawiki/fake-hosts.py
(imported, not copied: scripts, styles, 1x1 images, WebSocket echo, /beacon 204, JSON with CORS,
files of www/thirdparty/), plus what the demo needs: /events as text/event-stream, fonts as a few
bytes, audio as a short silent WAV, and Google-Fonts-like /css and /css2 as CSS.

usage: scripts/demo-server.py [--port N] [--fake-port N] [--bundle FILE] [--log FILE]
                              [--ready-json] [--banner] [--no-banner]
env:   PORT, FAKE_PORT (0 = any free port)
"""
import argparse
import importlib.util
import json
import os
import posixpath
import struct
import sys
import threading
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WWW = os.path.join(ROOT, "www")
GADGETS = os.path.join(WWW, "gadgets")
FAKE_CONTENT = os.path.join(WWW, "thirdparty")
DEFAULT_BUNDLE = os.path.join(ROOT, "dist", "tpr-auditor.js")

# The host name the demo page is opened under. Not 127.0.0.1: SPEC §3 checks loopback (`local`)
# before the page's own origin, so on 127.0.0.1 every first-party request would read `local`.
PAGE_HOST = "wiki.demo.test"
PAGE_PATH = "/wiki/Demo_page"
# Every host name the demo uses resolves to loopback; ports in the URLs pick the listener.
HOST_RESOLVER_RULES = ("MAP *.test 127.0.0.1, MAP *.toolforge.org 127.0.0.1, "
                       "MAP *.wmcloud.org 127.0.0.1, MAP fonts.googleapis.com 127.0.0.1, "
                       "EXCLUDE localhost")
# Flags that keep Chromium quiet on a closed network (SPEC §11).
QUIET_FLAGS = ["--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-quic"]


def _load_fake_hosts():
    path = os.path.join(ROOT, "tests", "mediawiki", "fake-hosts.py")
    spec = importlib.util.spec_from_file_location("tpr_fake_hosts", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fake_hosts = _load_fake_hosts()


def silent_wav(samples=800, rate=8000):
    """A short mono 8-bit silent WAV (0.1 s)."""
    data = b"\x80" * samples
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


WAV = silent_wav()
FONT_CTYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf"}
AUDIO_EXTS = (".wav", ".ogg", ".oga", ".mp3", ".opus")
TEXT_CTYPES = dict(fake_hosts.CTYPES, **{".txt": "text/plain; charset=utf-8"})
TEXT_EXTS = (".html", ".htm", ".js", ".mjs", ".css", ".json", ".svg", ".txt")


class FakeHandler(fake_hosts.Handler):
    """fake-hosts.py's handler plus event streams, fonts, audio and Google-Fonts-like CSS."""

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return super().do_GET()
        path = urlsplit(self.path).path
        ext = os.path.splitext(path)[1].lower()
        if path.rstrip("/").endswith("/events"):
            return self.event_stream()
        if ext in FONT_CTYPES:
            return self.reply(200, FONT_CTYPES[ext], b"wOF2\0demo-font", "font")
        if ext in AUDIO_EXTS:
            return self.reply(200, "audio/wav", WAV, "media")
        if path in ("/css", "/css2"):
            body = b"/* fake web-font stylesheet */\n.demo-webfont { font-family: 'Noto Sans', sans-serif; }\n"
            return self.reply(200, TEXT_CTYPES[".css"], body, "style")
        return super().do_GET()

    def event_stream(self):
        """One message, then the connection closes; `retry` keeps the browser from reconnecting
        within the demo's lifetime (the demo gadget closes its EventSource on the first message)."""
        host = self.headers.get("Host", "")
        body = ("retry: 86400000\nevent: message\ndata: %s\n\n"
                % json.dumps({"ok": True, "host": host, "change": "Demo_page edited"})).encode()
        self.close_connection = True
        self.send_response(200)
        self.cors_headers()
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(200, "eventsource")


class WikiHandler(FakeHandler):
    """The demo wiki: page, gadget routes, static files of www/, the auditor bundle."""

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return super().do_GET()
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        if path in ("/", "/wiki", "/wiki/", "/index.html"):
            return self.redirect(PAGE_PATH)
        if path == PAGE_PATH:
            return self.page()
        if path == "/tpr-auditor.js":
            return self.bundle()
        if path == "/tpr-auditor-scanner.js":
            return self.bundle("tpr-auditor-scanner.js")
        if path == "/w/index.php":
            return self.raw_page(query)
        if path == "/w/load.php":
            return self.load_php(query)
        if path in ("/__health", "/__log", "/w/api.php") or path.startswith("/beacon"):
            return super().do_GET()
        return self.static(path)

    # --- routes ------------------------------------------------------------------------------
    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.record(302, "redirect")

    def page(self):
        host = self.headers.get("Host", "")
        expected = "%s:%d" % (PAGE_HOST, self.server.server_port)
        if host.lower() != expected:
            body = wrong_host_page(host, self.server.server_port, self.server.fake_port).encode()
            return self.reply(200, TEXT_CTYPES[".html"], body, "page-wrong-host")
        return self.file(os.path.join(WWW, "index.html"), "page")

    def bundle(self, sibling=None):
        path = self.server.bundle
        if sibling:
            path = os.path.join(os.path.dirname(path), sibling)
        if os.path.isfile(path):
            return self.file(path, "bundle", substitute=False)
        body = ("/* %s: %s does not exist. Build it with scripts/build.sh "
                "(scripts/demo.sh does). The demo page runs without the auditor meanwhile. */\n"
                % (os.path.basename(path), path)).encode()
        return self.reply(404, TEXT_CTYPES[".js"], body, "bundle-missing")

    def raw_page(self, query):
        title = (query.get("title") or [""])[0].replace(" ", "_")
        if (query.get("action") or [""])[0] != "raw":
            return self.not_found("only action=raw is served here")
        name = self.server.routes.get("index.php", {}).get(title)
        if not name:
            return self.reply(404, TEXT_CTYPES[".js"], ("/* no such page: %s */\n" % title).encode(), "raw-404")
        ctype = TEXT_CTYPES[".css"] if title.endswith(".css") else TEXT_CTYPES[".js"]
        return self.file(os.path.join(GADGETS, name), "raw", ctype=ctype)

    def load_php(self, query):
        only = (query.get("only") or [""])[0]
        modules = (query.get("modules") or [""])[0]
        if only == "styles":
            return self.reply(200, TEXT_CTYPES[".css"], b"/* no styles */\n", "load-styles")
        name = self.server.routes.get("load.php", {}).get(modules)
        if not name:
            # The demo serves debug-mode URLs only: one module per request.
            body = ("/* load.php: unknown module %s (the demo serves single modules only) */\n" % modules).encode()
            return self.reply(404, TEXT_CTYPES[".js"], body, "load-404")
        return self.file(os.path.join(GADGETS, name), "load")

    def static(self, path):
        rel = posixpath.normpath(path).lstrip("/")
        if rel.startswith("..") or "\0" in rel:
            return self.not_found("bad path")
        full = os.path.join(WWW, *rel.split("/"))
        if not os.path.isfile(full):
            return self.not_found("no such file")
        return self.file(full, "static")

    # --- helpers -----------------------------------------------------------------------------
    def not_found(self, why):
        self.reply(404, TEXT_CTYPES[".txt"], ("404: %s\n" % why).encode(), "404")

    def file(self, full, kind, ctype=None, substitute=True):
        ext = os.path.splitext(full)[1].lower()
        with open(full, "rb") as f:
            body = f.read()
        if substitute and ext in TEXT_EXTS:
            body = body.replace(b"@@FAKE_PORT@@", str(self.server.fake_port).encode())
        if ctype is None:
            ctype = TEXT_CTYPES.get(ext) or FONT_CTYPES.get(ext) or {
                ".png": "image/png", ".ico": "image/x-icon"}.get(ext, "application/octet-stream")
        self.reply(200, ctype, body, kind)


def page_url(port):
    return "http://%s:%d%s" % (PAGE_HOST, port, PAGE_PATH)


def chromium_command(port):
    flags = ['--user-data-dir="$(mktemp -d)"'] + QUIET_FLAGS + [
        '--host-resolver-rules="%s"' % HOST_RESOLVER_RULES]
    return "chromium " + " ".join(flags) + " " + page_url(port)


def banner(port, fake_port):
    return "\n".join([
        " Demo page (open it with the Chromium command below):",
        "   " + page_url(port),
        " Chromium with a throw-away profile, every demo host name resolved to this machine:",
        "   " + chromium_command(port),
        " The fake third-party and cloud hosts answer on 127.0.0.1:%d (any Host header);" % fake_port,
        " nothing leaves the machine. Opened as http://127.0.0.1:%d/ the page only says how" % port,
        " to open it: without the rules, the gadgets' requests to real host names",
        " (fonts.googleapis.com, *.toolforge.org, *.wmcloud.org) would go out.",
    ])


def wrong_host_page(host, port, fake_port):
    from html import escape
    return """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>TPR Auditor demo: open it under its own name</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5;color:#202122}
pre{background:#f8f9fa;border:1px solid #a2a9b1;padding:1em;white-space:pre-wrap;word-break:break-all}</style>
</head><body>
<h1>Open the demo under its own host name</h1>
<p>This page was asked for as <code>%s</code>. The demo's gadgets contact fake third-party and
cloud hosts (<code>cdn.thirdparty.test</code>, <code>hotcat.toolforge.org</code>,
<code>fonts.googleapis.com</code>, &hellip;) that this server answers on port %d. Only a browser that
resolves those names to 127.0.0.1 keeps every request on this machine, so the gadgets do not run here.</p>
<p>Start Chromium like this (a throw-away profile, your own browser is untouched):</p>
<pre>%s</pre>
<p>and open <a href="%s">%s</a>.</p>
</body></html>
""" % (escape(host or "(no Host header)"), fake_port, escape(chromium_command(port)),
       escape(page_url(port)), escape(page_url(port)))


def make_server(handler, bind, port, **attrs):
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((bind, port), handler)
    for k, v in attrs.items():
        setattr(server, k, v)
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8080))
    ap.add_argument("--fake-port", type=int, default=int(os.environ.get("FAKE_PORT") or 8089))
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--bundle", default=DEFAULT_BUNDLE, help="the auditor bundle served as /tpr-auditor.js")
    ap.add_argument("--log", default=None, help="append one JSON line per request (both listeners) to this file")
    ap.add_argument("--ready-json", action="store_true",
                    help="print one JSON line {port, fakePort, pageUrl, hostResolverRules, ...} once listening")
    ap.add_argument("--banner", action="store_true", help="print the banner for --port/--fake-port and exit")
    ap.add_argument("--no-banner", action="store_true", help="do not print the banner when starting")
    args = ap.parse_args()
    if args.banner:
        print(banner(args.port, args.fake_port))
        return 0

    with open(os.path.join(GADGETS, "routes.json")) as f:
        routes = json.load(f)
    try:
        fake = make_server(FakeHandler, args.bind, args.fake_port,
                           content_dir=FAKE_CONTENT, logfile=args.log)
        wiki = make_server(WikiHandler, args.bind, args.port, content_dir=FAKE_CONTENT,
                           logfile=args.log, fake_port=fake.server_port, routes=routes,
                           bundle=os.path.abspath(args.bundle))
    except OSError as e:
        print("demo-server: ERROR: cannot listen on %s (port %d or %d): %s (set PORT= / FAKE_PORT=)"
              % (args.bind, args.port, args.fake_port, e), file=sys.stderr)
        return 1
    port, fake_port = wiki.server_port, fake.server_port
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    if args.ready_json:
        print(json.dumps({
            "port": port, "fakePort": fake_port, "pageHost": PAGE_HOST, "pageUrl": page_url(port),
            "hostResolverRules": HOST_RESOLVER_RULES, "quietFlags": QUIET_FLAGS,
            "bundle": wiki.bundle, "bundlePresent": os.path.isfile(wiki.bundle),
        }), flush=True)
    else:
        if not args.no_banner:
            print(banner(port, fake_port), flush=True)
        if not os.path.isfile(wiki.bundle):
            print("NOTE: %s is missing: the page runs without the auditor (build it with scripts/build.sh)"
                  % wiki.bundle, flush=True)
        print("demo-server: wiki on http://%s:%d, fake hosts on http://%s:%d (Ctrl-C to stop)"
              % (args.bind, port, args.bind, fake_port), flush=True)
    try:
        wiki.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
