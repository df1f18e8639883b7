// Shared harness for the bootstrap browser tests: a loopback HTTP server, Chromium through
// playwright-core (Debian's /usr/bin/chromium), and helpers that run test scripts as real
// served script files so observation stacks carry their URLs.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BOOTSTRAP_PATH = path.resolve(here, '../../src/js/bootstrap.js');
export const BOOTSTRAP = fs.readFileSync(BOOTSTRAP_PATH, 'utf8');

function loadPlaywright() {
  const bases = [];
  if (process.env.PLAYWRIGHT_CORE_PATH) bases.push(process.env.PLAYWRIGHT_CORE_PATH);
  bases.push(path.resolve(here, '../../node_modules'), '/tmp/pw/node_modules');
  const errors = [];
  for (const base of bases) {
    try {
      // PLAYWRIGHT_CORE_PATH may name the package directory itself or a node_modules dir.
      const req = createRequire(path.join(base, 'noop.js'));
      try { return req(base.endsWith('playwright-core') ? base : 'playwright-core'); } catch (e) { errors.push(String(e.message)); }
    } catch (e) { errors.push(String(e.message)); }
  }
  throw new Error('playwright-core not found (set PLAYWRIGHT_CORE_PATH):\n' + errors.join('\n'));
}
export const { chromium } = loadPlaywright();

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-quic', '--no-first-run', '--host-resolver-rules=MAP *.test 127.0.0.1',
];

/** The sink installed by the init script: records every observation (as plain JSON) and
 *  asks window.__decide(obs) for the decision when a test set one. */
export const RECORDING_SINK = `
;(function () {
  var h = window[Symbol.for('tpr-auditor.bootstrap')];
  window.__obs = [];
  window.__decide = null;
  window.__attach = function () {
    h.attach(function (o) {
      var copy = JSON.parse(JSON.stringify(o));
      window.__obs.push(copy);
      return window.__decide ? window.__decide(copy) : undefined;
    });
  };
  if (!window.__noAutoAttach && h && h.isHome(window)) window.__attach();
})();`;

export class TestServer {
  constructor() {
    this.log = []; // "host/path" of every request
    this.scripts = new Map();
    this.pages = new Map();
    this.headers = new Map(); // path -> extra headers
    this.server = http.createServer((req, res) => this.handle(req, res));
    // Minimal WebSocket endpoint: handshake, then one text frame "hello".
    this.server.on('upgrade', (req, socket) => {
      this.log.push(req.headers.host + req.url + ' [ws]');
      const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n');
      socket.write(Buffer.from([0x81, 5, ...Buffer.from('hello')]));
      socket.on('error', () => {});
      socket.on('data', () => {});
    });
  }
  async start() {
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = this.server.address().port;
    this.origin = `http://127.0.0.1:${this.port}`;
    this.third = `http://third.test:${this.port}`;
    return this;
  }
  stop() { this.server.closeAllConnections?.(); return new Promise((r) => this.server.close(r)); }
  hits(pathPart) { return this.log.filter((l) => l.includes(pathPart)).length; }
  handle(req, res) {
    const url = new URL(req.url, 'http://x');
    this.log.push(req.headers.host + req.url);
    const origin = req.headers.origin;
    if (origin) { res.setHeader('access-control-allow-origin', origin); res.setHeader('access-control-allow-credentials', 'true'); }
    for (const [k, v] of Object.entries(this.headers.get(url.pathname) || {})) res.setHeader(k, v);
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-headers', req.headers['access-control-request-headers'] || 'content-type');
      res.setHeader('access-control-allow-methods', req.headers['access-control-request-method'] || 'GET');
      res.end();
      return;
    }
    const p = url.pathname;
    if (this.pages.has(p)) { res.setHeader('content-type', 'text/html'); res.end(this.pages.get(p)); return; }
    if (this.scripts.has(p)) { res.setHeader('content-type', 'text/javascript'); res.end(this.scripts.get(p)); return; }
    if (p.startsWith('/slow')) { setTimeout(() => res.end('slow'), 300); return; }
    if (p.startsWith('/es')) { res.setHeader('content-type', 'text/event-stream'); res.end('data: hi\n\n'); return; }
    if (p.endsWith('.html')) { res.setHeader('content-type', 'text/html'); res.end('<!doctype html><title>t</title><body>page</body>'); return; }
    if (p.endsWith('.js') || p.endsWith('.mjs')) { res.setHeader('content-type', 'text/javascript'); res.end('window.__loaded = (window.__loaded || []).concat(' + JSON.stringify(p) + ');'); return; }
    if (p.endsWith('.css')) { res.setHeader('content-type', 'text/css'); res.end('p{color:red}'); return; }
    if (p.endsWith('.png') || p.endsWith('.gif')) {
      res.setHeader('content-type', 'image/gif');
      res.end(Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'));
      return;
    }
    if (p.endsWith('.json')) { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); return; }
    res.setHeader('content-type', 'text/plain');
    res.end('ok');
  }
}

let seq = 0;
/** Serves `body` as an async test script, runs it in the page and returns its result. The
 *  script's own URL is returned too, for stack assertions. */
export async function runScript(page, server, body, { origin } = {}) {
  const name = `/t/s${++seq}.js`;
  server.scripts.set(name, `window.__runs = window.__runs || {};\nwindow.__runs[${JSON.stringify(name)}] = (async function () {\n${body}\n})();\n`);
  const url = (origin || server.origin) + name;
  await page.evaluate((u) => new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = u;
    s.onload = resolve;
    s.onerror = () => reject(new Error('script failed: ' + u));
    document.head.appendChild(s);
  }), url);
  const result = await page.evaluate((n) => window.__runs[n].then((v) => ({ ok: true, v }), (e) => ({ ok: false, e: String(e && e.stack || e) })), name);
  if (!result.ok) throw new Error('test script threw: ' + result.e);
  return { result: result.v, url };
}

export async function observations(page, filter = {}) {
  const all = await page.evaluate(() => window.__obs);
  return all.filter((o) => (filter.observedBy ? o.observedBy === filter.observedBy : o.observedBy === 'hook' || o.kind !== 'request')
    && (!filter.url || (o.url && o.url.includes(filter.url))));
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
