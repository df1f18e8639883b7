#!/usr/bin/env python3
"""Fake "internet" for the real-MediaWiki harness: one HTTP + WebSocket server on 127.0.0.1 that
answers ANY Host header (Chromium maps the fake hosts of hosts.json here with
--host-resolver-rules). Standard library only.

Answers by path:
  /__health                      200 "ok"
  /__log                         JSON list of the requests seen so far (GET /__log?clear=1 empties it)
  file of fake-content/          that file (@@FAKE_PORT@@ replaced by this server's port)
  WebSocket upgrade              accepted; echoes text frames until the client closes
  OPTIONS                        CORS preflight, 204
  *.js / *.mjs                   a JavaScript comment
  *.css                          an empty stylesheet
  *.png *.gif *.jpg *.ico        a 1x1 PNG;  *.svg a 1x1 SVG
  *.html                         a small HTML page
  /beacon*, any POST             204
  anything else (/api/*, /w/api.php, ...)   JSON {"ok": true, ...}
CORS: with an Origin header, Access-Control-Allow-Origin echoes it and
Access-Control-Allow-Credentials is true (mw.ForeignApi sends credentials); else "*".
Everything is Cache-Control: no-store, so every page load shows up in the browser's network log.
"""
import argparse
import base64
import hashlib
import json
import os
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SVG_1X1 = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

LOG = []
LOG_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server_version = "tpr-fake-hosts/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; the log file gets one line per request instead
        pass

    def record(self, status, kind):
        entry = {
            "t": round(time.time(), 3),
            "method": self.command,
            "host": self.headers.get("Host", ""),
            "path": self.path,
            "origin": self.headers.get("Origin"),
            "status": status,
            "kind": kind,
        }
        with LOG_LOCK:
            LOG.append(entry)
            if len(LOG) > 5000:
                del LOG[:1000]
        if self.server.logfile:
            with LOG_LOCK, open(self.server.logfile, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def cors_headers(self):
        origin = self.headers.get("Origin")
        if origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Vary", "Origin")
        else:
            self.send_header("Access-Control-Allow-Origin", "*")

    def reply(self, status, ctype, body, kind):
        self.send_response(status)
        self.cors_headers()
        self.send_header("Cache-Control", "no-store")
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.record(status, kind)

    # --- methods -------------------------------------------------------------------------
    def do_OPTIONS(self):
        self.send_response(204)
        self.cors_headers()
        self.send_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
        req_headers = self.headers.get("Access-Control-Request-Headers")
        if req_headers:
            self.send_header("Access-Control-Allow-Headers", req_headers)
        # Private Network Access preflights (harmless when not asked for).
        if self.headers.get("Access-Control-Request-Private-Network"):
            self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Access-Control-Max-Age", "0")
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.record(204, "preflight")

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = urlsplit(self.path).path
        if path.startswith("/beacon") or not (path.startswith("/api") or path.endswith("api.php")):
            self.reply(204, None, b"", "beacon")
        else:
            self.reply(200, "application/json; charset=utf-8", self.json_body(), "api")

    def do_GET(self):
        parts = urlsplit(self.path)
        path = parts.path
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        if path == "/__health":
            return self.reply(200, "text/plain", b"ok", "health")
        if path == "/__log":
            with LOG_LOCK:
                body = json.dumps(LOG).encode()
                if "clear" in parse_qs(parts.query):
                    LOG.clear()
            return self.reply(200, "application/json", body, "log")
        name = os.path.basename(path)
        content_file = os.path.join(self.server.content_dir, name) if name else None
        ext = os.path.splitext(name)[1].lower()
        if content_file and os.path.isfile(content_file):
            with open(content_file, "rb") as f:
                body = f.read().replace(b"@@FAKE_PORT@@", str(self.server.server_port).encode())
            return self.reply(200, CTYPES.get(ext, "application/octet-stream"), body, "content")
        if ext in (".js", ".mjs"):
            body = ("/* fake script %s%s */\n" % (self.headers.get("Host", ""), path)).encode()
            return self.reply(200, CTYPES[".js"], body, "script")
        if ext == ".css":
            return self.reply(200, CTYPES[".css"], b"/* fake stylesheet */\n", "style")
        if ext in (".png", ".gif", ".jpg", ".jpeg", ".ico", ".webp"):
            return self.reply(200, "image/png", PNG_1X1, "image")
        if ext == ".svg":
            return self.reply(200, "image/svg+xml", SVG_1X1, "image")
        if ext in (".html", ".htm"):
            body = b"<!DOCTYPE html><title>fake</title><p>fake page</p>"
            return self.reply(200, CTYPES[".html"], body, "html")
        if path.startswith("/beacon"):
            return self.reply(204, None, b"", "beacon")
        return self.reply(200, "application/json; charset=utf-8", self.json_body(), "api")

    def json_body(self):
        parts = urlsplit(self.path)
        data = {"ok": True, "host": self.headers.get("Host", ""), "path": parts.path}
        if parts.path.endswith("api.php"):  # look a little like the MediaWiki action API
            data = {"batchcomplete": True, "query": {"general": {"sitename": "Fake Meta",
                    "server": "//" + self.headers.get("Host", "")}}}
        return json.dumps(data).encode()

    # --- WebSocket (RFC 6455, text echo) ------------------------------------------------
    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.record(101, "websocket")
        try:
            while True:
                frame = self.ws_read()
                if frame is None:
                    break
                opcode, payload = frame
                if opcode == 0x8:  # close: answer and stop
                    self.ws_send(0x8, payload[:2])
                    break
                if opcode == 0x9:  # ping
                    self.ws_send(0xA, payload)
                elif opcode in (0x1, 0x2):
                    self.ws_send(opcode, payload)
        except (ConnectionError, OSError):
            pass
        self.close_connection = True

    def ws_read(self):
        head = self.rfile.read(2)
        if len(head) < 2:
            return None
        opcode = head[0] & 0x0F
        masked = head[1] & 0x80
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack(">H", self.rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if masked else b"\0\0\0\0"
        data = bytearray(self.rfile.read(length))
        for i in range(len(data)):
            data[i] ^= mask[i % 4]
        return opcode, bytes(data)

    def ws_send(self, opcode, payload):
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([n])
        elif n < 65536:
            header += bytes([126]) + struct.pack(">H", n)
        else:
            header += bytes([127]) + struct.pack(">Q", n)
        self.wfile.write(header + payload)
        self.wfile.flush()


CTYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=int(os.environ.get("TPR_FAKE_PORT", 8089)))
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--content", default=os.path.join(here, "fake-content"))
    ap.add_argument("--log", default=None, help="append one JSON line per request to this file")
    args = ap.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    server.content_dir = args.content
    server.logfile = args.log
    print("fake-hosts listening on http://%s:%d" % (args.bind, args.port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
