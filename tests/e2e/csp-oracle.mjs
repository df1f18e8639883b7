#!/usr/bin/env node
// The browser is the oracle for consent matching (issue 5 item 10, SPEC §7).
//
//   node tests/e2e/csp-oracle.mjs            (after scripts/build.sh, which makes pkg/)
//
// A consent list in block-everything-else style (mode `block`, every default `block` but
// `first`) with allow rules scoped `*` is exported as a Content-Security-Policy header by the
// wasm core (`Core.exportConsent('csp')`). A page is served with that header as its real CSP
// and makes ~110 requests (img, script, style, FontFace, fetch, WebSocket, EventSource,
// iframe, audio, object, Worker) mixing matches and near misses: wrong port, sibling path,
// apex vs wildcard subdomain, other scheme (upgrades, downgrades, http vs ws), case, query,
// exact vs prefix path, percent-encoding, trailing dots, IP literals. For each request the
// browser's own enforcement is observed twice over:
//   blocked = a `securitypolicyviolation` event during its window and no request at the server;
//   loaded  = the server saw the request (its id is in the query, which CSP matching ignores),
//             over TLS exactly when the URL is https/wss, and no violation.
// Anything else (both, neither) is inconclusive and fails. The auditor's verdict for the same
// request (`Core.assess({url, channel})`, source = the page) must be `allow` exactly when the
// browser loaded it. Runs in headless Chromium and Firefox through the same W3C WebDriver
// client (tests/e2e/lib/webdriver.mjs), so the test is identical in both.
//
// Nothing leaves the machine: every host name resolves to 127.0.0.1 (Chromium
// --host-resolver-rules, Firefox network.dns.forceResolve) and the test server listens on
// loopback only (plain http and, told apart by the first byte, https with a throwaway
// self-signed certificate on the same ports; the browsers run with acceptInsecureCerts). No
// redirects are served (CSP path matching is skipped after a redirect). Ports 80 and 443 are
// used too when they can be bound on 127.0.0.1 (root, free), so default-port rules get
// positive cases; otherwise those cases are skipped and said so (likewise TLS without openssl).
//
// Marks on cases, reported but not failures:
//   divergence — the auditor knowingly differs from both browsers (printed KNOWN DIVERGENCE);
//   split      — Chromium and Firefox disagree with each other (printed BROWSERS SPLIT for the
//                browser that differs from the auditor).
// When a marked case starts to agree, the test says to drop the mark. Exit status 1 on any
// mismatch or inconclusive case; the last line is "N passed, N failed" (one per browser).
//
// env: CSP_ORACLE_BROWSERS=chromium,firefox (default both), CSP_ORACLE_DEFAULT_PORTS=0 to never
//      bind 80/443, CSP_ORACLE_PKG=dir (default pkg/), CSP_ORACLE_VERBOSE=1 for the full table,
//      CHROMIUM / CHROMEDRIVER / FIREFOX / GECKODRIVER to override the binaries.
import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { startBrowser } from './lib/webdriver.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = path.resolve(process.env.CSP_ORACLE_PKG || path.join(ROOT, 'pkg'));
const PKG_JS = path.join(PKG, 'tpr_auditor.js');
const PKG_WASM = path.join(PKG, 'tpr_auditor_bg.wasm');
const BROWSER_NAMES = (process.env.CSP_ORACLE_BROWSERS || 'chromium,firefox').split(',').map((s) => s.trim()).filter(Boolean);
const VERBOSE = process.env.CSP_ORACLE_VERBOSE === '1';
const PAGE_HOST = 'wiki.page.test';
const T0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - T0) / 1000).toFixed(1)}s]`, ...a);

// ---------------------------------------------------------------------------------------------
// The consent list. @2 and @3 stand for the second and third server port (the page is on the
// first); rules without a port mean the scheme's default port (cases that need 80/443 say so).
const RULES = [
  // host wildcard, explicit port, one directive
  ['http://*.a.test:@2', ['img-src']],
  // exact host, any port
  ['http://exact.b.test:*', ['script-src']],
  // host wildcard, any port, path prefix
  ['http://*.c.test:*/static/', ['style-src']],
  // exact path (no trailing slash)
  ['http://fonts.d.test:@3/fonts/f1.woff2', ['font-src']],
  // path prefix on an exact host and port
  ['http://api.e.test:@2/v1/', ['connect-src']],
  // scheme only
  ['http:', ['media-src']],
  // 'self' for everything (the export always has it; with `first: allow` the auditor needs no rule)
  ["'self'", ['*']],
  // exact host, explicit port, frames
  ['http://frames.f.test:@3', ['frame-src']],
  // wildcard for every directive
  ['http://*.g.test:@2', ['*']],
  // default port (80) for two directives
  ['http://cdn.h.test', ['script-src', 'img-src']],
  // https only: an http request is a downgrade
  ['https://secure.i.test:@2', ['img-src']],
  // no scheme: the page's (http)
  ['exact.j.test:@3', ['connect-src']],
  // ws source: an http request? (CSP3's text says ws admits http(s); browsers do not)
  ['ws://sock.k.test:@2', ['connect-src']],
  // http source: a WebSocket (ws) request?
  ['http://wsonly.l.test:@3', ['connect-src']],
  // percent-encoded, case-sensitive path prefix on a wildcard host
  ['http://*.m.test:@2/Path%20X/', ['img-src']],
  // any host on one port for one directive
  ['http://*:@3', ['img-src']],
  // exact path with a percent-encoded character, any port
  ['http://n.test:*/a%2Fb.json', ['connect-src']],
  // secure scheme only
  ['https:', ['img-src']],
  // http source, https request on the same explicit port (upgrade)
  ['http://up.p.test:@2', ['script-src']],
  // https source: wss (no, say browsers) and http (a downgrade) requests
  ['https://sec.s.test:@3', ['connect-src']],
  // wss source: ws (a downgrade), wss and https (no, say browsers) requests
  ['wss://wss.t.test:@2', ['connect-src']],
  // https source with port 80: does it admit 443? (p443 cases)
  ['https://hs.u.test:80', ['img-src']],
  // IP literal, and a wildcard that an IP address ends with
  ['http://127.0.0.1:@3', ['connect-src']],
  ['http://*.0.0.1:@2', ['img-src']],
  // localhost (party local)
  ['http://localhost:@3', ['frame-src']],
  // any URL for plugins
  ['*', ['object-src']],
];

// Rules the core may refuse (then their cases are skipped, and that is fine): each is
// validated alone first.
const OPTIONAL_RULES = {
  // Trailing dot in the source host. Chromium matches it to `host.` only, Firefox to nothing.
  dotsource: ['http://dot.o.test.:@2', ['img-src']],
};

// The requests. url uses @1/@2/@3 for the ports (and @80 for port 80, which URLs drop);
// `why` says what the case exercises; opts: needs (tls, p80, p443: skipped without them),
// rule (the optional rule it needs), divergence / split (see the head of the file).
const CASES = [
  // --- img-src: *.a.test:@2, cdn.h.test (80), https://secure.i.test, *.m.test/Path%20X/, *:@3
  ['img', 'http://one.a.test:@2/img/1.png', 'wildcard subdomain, right port'],
  ['img', 'http://deep.sub.a.test:@2/img/2.png', 'wildcard, two labels deep'],
  ['img', 'http://a.test:@2/img/3.png', 'apex is not *.a.test'],
  ['img', 'http://one.a.test:@1/img/4.png', 'wildcard host, wrong port'],
  ['img', 'http://ONE.A.TEST:@2/img/5.png', 'host case-insensitive'],
  ['img', 'http://xa.test:@2/img/6.png', 'suffix without the dot'],
  ['img', 'http://secure.i.test:@2/img/7.png', 'https source, http request (downgrade)'],
  ['img', 'http://x.m.test:@2/Path%20X/8.png', 'percent-encoded path prefix'],
  ['img', 'http://x.m.test:@2/Path X/9.png', 'space encoded by the URL parser'],
  ['img', 'http://x.m.test:@2/path%20x/10.png', 'path is case-sensitive'],
  ['img', 'http://x.m.test:@2/Path%20Xy/11.png', 'sibling of the prefix'],
  ['img', 'http://anything.q.test:@3/img/12.png', '*:@3 any host on that port'],
  ['img', 'http://anything.q.test:@2/img/13.png', '*:@3 with another port'],
  ['img', 'http://cdn.h.test/img/14.png', 'default port source, default port', { needs: 'p80' }],
  ['img', 'http://cdn.h.test:@2/img/15.png', 'default port source, explicit other port'],
  ['img', 'http://one.g.test:@2/img/16.png', '["*"] wildcard rule'],
  ['img', `http://${PAGE_HOST}:@1/img/17.png`, "'self'"],
  ['img', 'http://one.a.test.:@2/img/18.png', 'trailing dot in the host'],
  // --- script-src: exact.b.test:*, *.g.test:@2, cdn.h.test, 'self'
  ['script', 'http://exact.b.test:@3/js/a.js', 'exact host, any port (3)'],
  ['script', 'http://exact.b.test:@2/js/b.js', 'exact host, any port (2)'],
  ['script', 'http://sub.exact.b.test:@2/js/c.js', 'subdomain of an exact host'],
  ['script', 'http://b.test:@2/js/d.js', 'parent of an exact host'],
  ['script', 'http://one.a.test:@2/js/e.js', 'img-only rule does not cover scripts'],
  ['script', 'http://one.g.test:@3/js/f.js', '["*"] wildcard, wrong port'],
  ['script', 'http://one.g.test:@2/js/g.js', '["*"] wildcard rule'],
  ['script', 'http://g.test:@2/js/h.js', '["*"] wildcard does not cover the apex'],
  ['script', `http://${PAGE_HOST}:@1/js/self.js`, "'self'"],
  ['script', 'http://cdn.h.test/js/i.js', 'default port', { needs: 'p80' }],
  ['script', 'http://cdn.h.test:@80/js/j.js', 'explicit :80 is the default port', { needs: 'p80' }],
  ['script', 'http://cdn.h.test:@3/js/k.js', 'default-port source, port 3'],
  // --- style-src: *.c.test:*/static/
  ['style', 'http://s.c.test:@3/static/a.css', 'wildcard, any port, path prefix'],
  ['style', 'http://s.c.test:@2/static/sub/b.css', 'deeper under the prefix'],
  ['style', 'http://s.c.test:@2/staticx/c.css', 'sibling path'],
  ['style', 'http://s.c.test:@2/static', 'prefix without its trailing slash'],
  ['style', 'http://c.test:@2/static/d.css', 'apex of the wildcard'],
  ['style', 'http://s.c.test:@2/Static/e.css', 'path case'],
  ['style', 'http://s.c.test:@2/static/f.css?x=/other/', 'query is ignored'],
  // --- font-src: fonts.d.test:@3/fonts/f1.woff2 (exact path), *.g.test:@2
  ['font-face', 'http://fonts.d.test:@3/fonts/f1.woff2', 'exact path'],
  ['font-face', 'http://fonts.d.test:@3/fonts/f1.woff2?v=2', 'exact path, query ignored'],
  ['font-face', 'http://fonts.d.test:@3/fonts/f2.woff2', 'other file next to the exact path'],
  ['font-face', 'http://fonts.d.test:@3/fonts/f1.woff2/x', 'below an exact path'],
  ['font-face', 'http://fonts.d.test:@3/fonts/', 'parent of an exact path'],
  ['font-face', 'http://fonts.d.test:@2/fonts/f1.woff2', 'exact path, wrong port'],
  ['font-face', 'http://one.g.test:@2/fonts/g.woff2', '["*"] wildcard rule'],
  // --- connect-src: api.e.test:@2/v1/, exact.j.test:@3, ws://sock.k.test:@2,
  //     http://wsonly.l.test:@3, n.test:*/a%2Fb.json, *.g.test:@2, 'self'
  ['fetch', 'http://api.e.test:@2/v1/items.json', 'path prefix'],
  ['fetch', 'http://api.e.test:@2/v1/deep/x.json?q=1', 'deep under the prefix, query'],
  ['fetch', 'http://api.e.test:@2/v2/items.json', 'sibling prefix'],
  ['fetch', 'http://api.e.test:@2/v1', 'prefix without its trailing slash'],
  ['fetch', 'http://api.e.test:@3/v1/items.json', 'prefix, wrong port'],
  ['fetch', 'http://x.api.e.test:@2/v1/items.json', 'subdomain of an exact host'],
  ['fetch', 'http://exact.j.test:@3/any.json', 'scheme-less source takes the page scheme'],
  ['fetch', 'http://exact.j.test:@2/any.json', 'scheme-less source, wrong port'],
  ['websocket', 'ws://exact.j.test:@3/ws', 'scheme-less source on an http page, ws request'],
  ['fetch', 'http://sock.k.test:@2/poll.json', 'ws source, http request'],
  ['fetch', 'http://n.test:@2/a%2Fb.json', 'exact path with %2F'],
  ['fetch', 'http://n.test:@2/a/b.json', '%2F in the source matches a / (paths compared decoded)'],
  ['fetch', 'http://one.g.test:@2/any.json', '["*"] wildcard rule'],
  ['fetch', `http://${PAGE_HOST}:@1/self.json`, "'self'"],
  ['fetch', 'http://api.e.test:@2/v1%2Fitems.json', '%2F in the request continues the prefix (decoded)'],
  ['websocket', 'ws://wsonly.l.test:@3/ws', 'http source, ws request'],
  ['websocket', 'ws://sock.k.test:@2/ws', 'ws source, ws request'],
  ['websocket', 'ws://sock.k.test:@3/ws', 'ws source, wrong port'],
  ['websocket', `ws://${PAGE_HOST}:@1/ws`, "'self' admits ws on an http page"],
  ['websocket', 'ws://one.g.test:@2/ws', '["*"] http wildcard, ws request'],
  ['websocket', 'ws://one.a.test:@2/ws', 'img-only rule, ws request'],
  ['eventsource', 'http://api.e.test:@2/v1/stream', 'EventSource under the prefix'],
  ['eventsource', 'http://api.e.test:@2/v3/stream', 'EventSource outside the prefix'],
  // --- frame-src: frames.f.test:@3, *.g.test:@2, 'self'
  ['frame', 'http://frames.f.test:@3/frame.html', 'exact host and port'],
  ['frame', 'http://frames.f.test:@2/frame.html', 'exact host, wrong port'],
  ['frame', 'http://www.frames.f.test:@3/frame.html', 'subdomain of an exact host'],
  ['frame', `http://${PAGE_HOST}:@1/frame.html`, "'self'"],
  ['frame', 'http://one.g.test:@2/frame.html', '["*"] wildcard rule'],
  ['frame', 'http://exact.b.test:@2/frame.html', 'script-only rule does not cover frames'],
  // --- media-src: http: (scheme only)
  ['media', 'http://anything.z.test:@2/audio/a.wav', 'scheme-only source'],
  ['media', `http://${PAGE_HOST}:@1/audio/b.wav`, "'self'"],
  ['media', 'http://cdn.h.test/audio/c.wav', 'scheme-only, default port', { needs: 'p80' }],
  // --- worker-src: same origin only ('self')
  ['worker', `http://${PAGE_HOST}:@1/worker.js`, "'self'"],
  ['worker', `http://${PAGE_HOST}:@1/w/nested/worker.js`, "'self', deeper path"],
  // --- the first-party default (same site, not same origin): allowed by `first: allow`
  ['img', `http://${PAGE_HOST}:@2/img/first-port.png`, 'page host, other port (first party)'],
  ['img', 'http://other.page.test:@1/img/first-site.png', 'same registrable domain (first party)'],
  ['fetch', `http://${PAGE_HOST}:@3/first.json`, 'page host, other port (first party)'],
  ['img', 'http://page.test:@2/img/first-apex.png', 'the registrable domain itself (first party)'],
  ['websocket', 'ws://other.page.test:@2/ws', 'same site over ws (first party)'],
  ['fetch', 'https://other.page.test:@3/first-tls.json', 'same site over https (first party)', { needs: 'tls' }],
  ['img', 'http://notpage.test:@2/img/not-first.png', 'another site with the same ending'],
  // --- TLS (same ports, the server tells TLS from plain http by the first byte)
  ['img', 'https://any.r.test:@2/img/tls.png', 'https: scheme-only source', { needs: 'tls' }],
  ['img', 'https://secure.i.test:@2/img/tls.png', 'https source, https request', { needs: 'tls' }],
  // Chromium admits an upgrade on the same explicit port only through the secure twin the
  // export writes next to an http:/ws: source with a port (SourceExpr::secure_twin).
  ['script', 'https://up.p.test:@2/js/up.js', 'http source, https request (upgrade, same port)', { needs: 'tls' }],
  ['script', 'http://up.p.test:@2/js/plain.js', 'http source, http request'],
  ['script', 'https://up.p.test:@3/js/up3.js', 'upgrade, wrong port', { needs: 'tls' }],
  ['fetch', 'https://sec.s.test:@3/x.json', 'https source, https request', { needs: 'tls' }],
  ['fetch', 'http://sec.s.test:@3/x.json', 'https source, http request (downgrade)'],
  ['websocket', 'wss://sec.s.test:@3/ws', 'https source, wss request', { needs: 'tls' }],
  ['websocket', 'wss://wss.t.test:@2/ws', 'wss source, wss request', { needs: 'tls' }],
  ['websocket', 'ws://wss.t.test:@2/ws', 'wss source, ws request (downgrade)'],
  ['fetch', 'https://wss.t.test:@2/x.json', 'wss source, https request', { needs: 'tls' }],
  ['websocket', 'wss://sock.k.test:@2/ws', 'ws source, wss request (upgrade, same port)', { needs: 'tls' }],
  ['fetch', 'https://exact.j.test:@3/tls.json', 'scheme-less source with a port, https request (upgrade)', { needs: 'tls' }],
  ['fetch', `https://${PAGE_HOST}:@1/self-tls.json`, "'self' admits https on the page's host and port", { needs: 'tls' }],
  ['websocket', `wss://${PAGE_HOST}:@1/ws`, "'self' admits wss on the page's host and port", { needs: 'tls' }],
  ['fetch', `https://${PAGE_HOST}:@2/self-tls2.json`, "'self', https on another port", { needs: 'tls' }],
  ['media', 'https://anything.z.test:@2/audio/tls.wav', 'http: scheme-only, https request (upgrade)', { needs: 'tls' }],
  ['img', 'https://cdn.h.test/img/up443.png', 'default-port http source, https on 443 (upgrade)', { needs: 'p443' }],
  ['img', 'https://hs.u.test/img/hs443.png', 'https://host:80, https on 443 (Chromium and Firefox admit it; WebKit does not)', { needs: 'p443' }],
  ['img', 'http://hs.u.test/img/hs80.png', 'https://host:80, http request (downgrade)', { needs: 'p80' }],
  ['script', 'http://exact.b.test/js/any80.js', 'any port includes the default', { needs: 'p80' }],
  // --- IP literals, localhost
  ['fetch', 'http://127.0.0.1:@3/ip.json', 'IP literal source'],
  ['fetch', 'http://127.0.0.1:@2/ip.json', 'IP literal, wrong port'],
  ['img', 'http://127.0.0.1:@2/img/ipwild.png', 'wildcard *.0.0.1 against an IP address'],
  ['frame', 'http://localhost:@3/frame.html', 'localhost source'],
  ['frame', 'http://localhost:@2/frame.html', 'localhost, wrong port'],
  // --- trailing dot in the source
  ['img', 'http://dot.o.test:@2/img/dot1.png', 'source host with a trailing dot, request without', { rule: 'dotsource' }],
  ['img', 'http://dot.o.test.:@2/img/dot2.png', 'source host with a trailing dot, request with',
    { rule: 'dotsource', split: { chromium: 'allow', firefox: 'block', why: 'Chromium compares the host text, dot included; Firefox drops such a source' } }],
  // --- object-src *
  ['object', 'http://any.w.test:@2/img/obj.png', '* admits any http URL'],
  ['object', 'https://any.w.test:@2/img/obj-tls.png', '* admits any https URL', { needs: 'tls' }],
];

// ---------------------------------------------------------------------------------------------
// Test server: several loopback ports, any Host, content type by path, no redirects.

function tinyPng() {
  return Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
    'base64');
}

function tinyWav() {
  const samples = 800; // 0.1 s at 8 kHz, 8-bit mono
  const b = Buffer.alloc(44 + samples);
  b.write('RIFF', 0); b.writeUInt32LE(36 + samples, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24); b.writeUInt32LE(8000, 28); b.writeUInt16LE(1, 32); b.writeUInt16LE(8, 34);
  b.write('data', 36); b.writeUInt32LE(samples, 40);
  for (let i = 0; i < samples; i++) b[44 + i] = 128 + Math.round(20 * Math.sin(i / 3));
  return b;
}

function fontBytes() {
  // Any real TrueType font the system has (FontFace accepts it whatever the type says);
  // without one the load fails after the request, which the oracle does not mind.
  const dirs = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/truetype', '/usr/share/fonts'];
  for (const d of dirs) {
    try {
      const f = fs.readdirSync(d).filter((n) => n.endsWith('.ttf')).sort()[0];
      if (f) return fs.readFileSync(path.join(d, f));
    } catch { /* next */ }
  }
  return Buffer.from('not a font');
}

const BODIES = {
  png: ['image/png', tinyPng()],
  wav: ['audio/wav', tinyWav()],
  woff2: ['font/woff2', fontBytes()],
  js: ['text/javascript; charset=utf-8', Buffer.from('/* csp-oracle script */\n')],
  css: ['text/css; charset=utf-8', Buffer.from('/* csp-oracle style */\n')],
  html: ['text/html; charset=utf-8', Buffer.from('<!doctype html><meta charset=utf-8><title>frame</title><p>frame</p>\n')],
  json: ['application/json', Buffer.from('{"ok":true}\n')],
};

const ORACLE_JS = `
(() => {
  'use strict';
  const state = { active: null, orphans: [] };
  document.addEventListener('securitypolicyviolation', (e) => {
    const v = { blockedURI: e.blockedURI, directive: e.effectiveDirective || e.violatedDirective,
      disposition: e.disposition };
    if (state.active) state.active.push(v); else state.orphans.push(v);
  });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  function withTimeout(p, ms) {
    return Promise.race([p, sleep(ms).then(() => 'timeout')]);
  }
  function trigger(c) {
    return new Promise((resolve) => {
      const done = (what) => resolve(what);
      try {
        switch (c.channel) {
          case 'img': {
            const img = new Image();
            img.onload = () => done('load'); img.onerror = () => done('error');
            img.src = c.url;
            break;
          }
          case 'script': {
            const s = document.createElement('script');
            s.onload = () => { s.remove(); done('load'); }; s.onerror = () => { s.remove(); done('error'); };
            s.src = c.url; document.head.appendChild(s);
            break;
          }
          case 'style': {
            const l = document.createElement('link'); l.rel = 'stylesheet';
            l.onload = () => { l.remove(); done('load'); }; l.onerror = () => { l.remove(); done('error'); };
            l.href = c.url; document.head.appendChild(l);
            break;
          }
          case 'font-face': {
            const f = new FontFace('cspo' + c.id, 'url("' + c.url + '")');
            f.load().then(() => done('load'), (e) => done('error:' + (e && e.name)));
            break;
          }
          case 'fetch':
            fetch(c.url, { cache: 'no-store' }).then((r) => done('load:' + r.status), (e) => done('error:' + (e && e.name)));
            break;
          case 'eventsource': {
            const es = new EventSource(c.url);
            es.onopen = () => { es.close(); done('open'); }; es.onerror = () => { es.close(); done('error'); };
            break;
          }
          case 'websocket': {
            const ws = new WebSocket(c.url);
            ws.onopen = () => { ws.close(); done('open'); }; ws.onerror = () => done('error');
            break;
          }
          case 'frame': {
            const f = document.createElement('iframe');
            f.onload = () => { setTimeout(() => f.remove(), 0); done('load'); };
            f.onerror = () => { f.remove(); done('error'); };
            f.src = c.url; document.body.appendChild(f);
            break;
          }
          case 'media': {
            const a = new Audio(); a.preload = 'auto'; a.muted = true;
            a.onloadeddata = () => { a.removeAttribute('src'); a.load(); done('load'); };
            a.onerror = () => done('error');
            a.src = c.url;
            break;
          }
          case 'object': {
            const o = document.createElement('object');
            o.type = 'image/png';
            o.onload = () => { setTimeout(() => o.remove(), 0); done('load'); };
            o.onerror = () => { o.remove(); done('error'); };
            o.data = c.url; document.body.appendChild(o);
            break;
          }
          case 'worker': {
            const w = new Worker(c.url);
            w.onmessage = () => { w.terminate(); done('load'); };
            w.onerror = () => { w.terminate(); done('error'); };
            break;
          }
          default: done('unknown channel ' + c.channel);
        }
      } catch (e) {
        done('throw:' + (e && e.name));
      }
    });
  }
  window.__cspOracle = {
    async run(cases, settleMs, timeoutMs) {
      const results = [];
      for (const c of cases) {
        const violations = [];
        state.active = violations;
        const event = await withTimeout(trigger(c), timeoutMs);
        await sleep(settleMs);
        state.active = null;
        results.push({ id: c.id, event, violations });
      }
      await sleep(settleMs);
      return { results, orphans: state.orphans };
    },
  };
  window.__cspOracleReady = true;
})();
`;

const WORKER_JS = "postMessage('ok');\n";

function pageHtml() {
  return '<!doctype html><meta charset=utf-8><title>csp oracle</title>' +
    '<script src="/oracle.js"></script><body><p>csp oracle</p></body>\n';
}

/** A self-signed certificate for every name (browsers run with acceptInsecureCerts), made
 *  with the openssl command line; null when openssl is missing (TLS cases are then skipped). */
function makeCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csp-oracle-'));
  try {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2',
      '-subj', '/CN=csp-oracle.test', '-addext', 'subjectAltName=DNS:*.test,DNS:localhost,IP:127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) return null;
    return { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) };
  } catch {
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

class TestServer {
  constructor(tls) {
    this.tls = tls;
    this.raw = [];
    this.sockets = new Set();
    this.hits = new Map(); // case id -> [{host, url, secure}]
    this.other = []; // requests without a case id
    this.csp = '';
    const handler = (req, res) => this.handle(req, res);
    const upgrade = (req, socket) => this.upgrade(req, socket);
    this.http = http.createServer(handler);
    this.http.on('upgrade', upgrade);
    this.https = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : null;
    if (this.https) {
      this.https.on('upgrade', upgrade);
      this.https.on('tlsClientError', () => {});
    }
  }

  /** Listens on 127.0.0.1:port (0: any) for plain http and, told apart by the first byte
   *  (0x16, a TLS handshake record), https on the same port. */
  async listen(port) {
    const raw = net.createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
      sock.once('data', (buf) => {
        sock.pause();
        sock.unshift(buf);
        const target = buf[0] === 0x16 && this.https ? this.https : this.http;
        target.emit('connection', sock);
        process.nextTick(() => sock.resume());
      });
    });
    await new Promise((resolve, reject) => {
      raw.once('error', reject);
      raw.listen(port, '127.0.0.1', () => { raw.off('error', reject); resolve(); });
    });
    this.raw.push(raw);
    return raw.address().port;
  }

  record(req) {
    const u = new URL(req.url, 'http://x');
    const id = u.searchParams.get('cspo');
    const entry = { host: req.headers.host, url: req.url, method: req.method, secure: Boolean(req.socket.encrypted) };
    if (id === null) this.other.push(entry);
    else {
      if (!this.hits.has(id)) this.hits.set(id, []);
      this.hits.get(id).push(entry);
    }
    return u.pathname;
  }

  handle(req, res) {
    const p = this.record(req);
    const send = (status, type, body, extra = {}) => {
      res.writeHead(status, {
        'content-type': type,
        'cache-control': 'no-store',
        'access-control-allow-origin': '*',
        ...extra,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (p === '/' || p === '/index.html') {
      return send(200, 'text/html; charset=utf-8', pageHtml(), { 'content-security-policy': this.csp });
    }
    if (p === '/oracle.js') return send(200, 'text/javascript; charset=utf-8', ORACLE_JS);
    if (p.endsWith('worker.js')) return send(200, 'text/javascript; charset=utf-8', WORKER_JS);
    if (p.endsWith('/stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store',
        'access-control-allow-origin': '*' });
      res.write('data: hello\n\n');
      setTimeout(() => res.end(), 200);
      return undefined;
    }
    const ext = path.extname(p).slice(1);
    if (BODIES[ext]) {
      const [type, body] = BODIES[ext];
      return send(200, type, body);
    }
    return send(200, 'text/plain; charset=utf-8', 'ok\n');
  }

  upgrade(req, socket) {
    this.record(req);
    socket.on('error', () => {});
    const key = req.headers['sec-websocket-key'];
    if (!key) return socket.destroy();
    const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
    setTimeout(() => socket.destroy(), 2000).unref();
    return undefined;
  }

  close() {
    for (const s of this.sockets) s.destroy();
    for (const r of this.raw) r.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The auditor (wasm core, loaded the way scripts/wasm-smoke.js does).

async function loadCore() {
  for (const f of [PKG_JS, PKG_WASM]) {
    if (!fs.existsSync(f)) throw new Error(`${f} missing: run scripts/build.sh first`);
  }
  const glue = fs.readFileSync(PKG_JS, 'utf8');
  vm.runInThisContext(`${glue}\n;globalThis.__csp_oracle_wasm_bindgen = wasm_bindgen;`, { filename: PKG_JS });
  const wb = globalThis.__csp_oracle_wasm_bindgen;
  await wb({ module_or_path: fs.readFileSync(PKG_WASM) });
  return wb;
}

// ---------------------------------------------------------------------------------------------

function subst(s, ports) {
  return s.replaceAll('@80', '80').replaceAll('@1', String(ports[0]))
    .replaceAll('@2', String(ports[1])).replaceAll('@3', String(ports[2]));
}

function withId(url, id) {
  // The id goes in the query, which CSP source matching (and the auditor's) ignores.
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  return `${base}${base.includes('?') ? '&' : '?'}cspo=${id}`;
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function runBrowser(name, cases, pageUrl, server) {
  const opts = name === 'chromium'
    ? { args: ['--host-resolver-rules=MAP * 127.0.0.1, EXCLUDE localhost', '--autoplay-policy=no-user-gesture-required'] }
    : { prefs: { 'network.dns.forceResolve': '127.0.0.1', 'network.proxy.type': 0, 'media.autoplay.default': 0 } };
  const wd = await startBrowser(name, { ...opts, acceptInsecureCerts: true, verbose: VERBOSE });
  try {
    await wd.setTimeouts({ script: 300000, pageLoad: 60000 });
    await wd.navigate(pageUrl);
    const ready = await wd.execute('return window.__cspOracleReady === true && document.readyState');
    if (!ready) throw new Error(`${name}: the oracle page did not load its script (CSP blocking 'self'?)`);
    const payload = cases.map((c) => ({ id: c.id, channel: c.channel, url: c.requestUrl }));
    const out = await wd.executeAsync(
      'const [cases, settle, timeout, done] = arguments;' +
      'window.__cspOracle.run(cases, settle, timeout).then(done, (e) => done({ error: String(e && e.stack || e) }));',
      [payload, name === 'firefox' ? 250 : 150, 5000]);
    if (out.error) throw new Error(`${name}: page runner failed: ${out.error}`);
    return { version: wd.capabilities?.browserVersion, ...out };
  } finally {
    await wd.quit();
  }
}

async function main() {
  const wb = await loadCore();
  const tls = makeCert();
  if (!tls) log('openssl could not make a certificate: TLS cases skipped');
  const server = new TestServer(tls);
  const ports = [await server.listen(0), await server.listen(0), await server.listen(0)];
  const have = { tls: Boolean(tls), p80: false, p443: false };
  if (process.env.CSP_ORACLE_DEFAULT_PORTS !== '0') {
    for (const p of [80, 443]) {
      if (p === 443 && !tls) continue;
      try {
        await server.listen(p);
        have[`p${p}`] = true;
      } catch (e) {
        log(`port ${p} not available on 127.0.0.1 (${e.code}): its cases are skipped`);
      }
    }
  }
  const pageUrl = `http://${PAGE_HOST}:${ports[0]}/`;

  const rule = ([source, directives]) => ({ source: subst(source, ports), directives, scope: '*', decision: 'allow' });
  const optional = new Set();
  for (const [key, r] of Object.entries(OPTIONAL_RULES)) {
    try {
      wb.parseConsent(JSON.stringify({ version: 1, rules: [rule(r)] }));
      optional.add(key);
    } catch (e) {
      log(`optional rule ${JSON.stringify(r[0])} refused by the core (its cases are skipped): ${String(e.message).split('\n').slice(1).join(' ')}`);
    }
  }
  const consent = {
    version: 1,
    mode: 'block',
    defaults: { wikimedia: 'block', local: 'block', cloud: 'block', third: 'block',
      'executable-third': 'block', first: 'allow' },
    rules: [...RULES, ...Object.entries(OPTIONAL_RULES).filter(([k]) => optional.has(k)).map(([, r]) => r)].map(rule),
  };
  const consentText = JSON.stringify(consent, null, 2);
  const core = new wb.Core(pageUrl, undefined, consentText);
  server.csp = core.exportConsent('csp');
  log(`page ${pageUrl}  ports ${ports.join(', ')}${have.p80 ? ', 80' : ''}${have.p443 ? ', 443' : ''}${tls ? ' (http and https on each)' : ''}`);
  log(`Content-Security-Policy: ${server.csp}`);

  const cases = [];
  let skipped = 0;
  CASES.forEach(([channel, rawUrl, why, opts = {}], i) => {
    if ((opts.needs && !have[opts.needs]) || (opts.rule && !optional.has(opts.rule))) { skipped++; return; }
    const id = String(i + 1);
    const url = subst(rawUrl, ports);
    const requestUrl = withId(url, id);
    const a = core.assess({ url: requestUrl, channel }, undefined);
    // In block mode the decision is `allowed` exactly for the verdict `allow`; an `ask` or
    // `block` verdict is a blocked request, as the CSP blocks it.
    cases.push({ id, channel, url, requestUrl, why, divergence: opts.divergence, split: opts.split,
      auditor: a.decision === 'allowed' ? 'allow' : 'block', verdict: a.verdict, rule: a.rule,
      directive: a.directive, party: a.party });
  });
  core.free();
  const directives = new Set(cases.map((c) => c.directive));
  log(`${cases.length} requests across ${directives.size} directives (${[...directives].join(', ')})` +
    `${skipped ? `, ${skipped} case(s) skipped (see above)` : ''}; auditor allows ${cases.filter((c) => c.auditor === 'allow').length}`);

  let passed = 0;
  let failed = 0;
  const summary = [];
  const seen = new Map(); // case id -> {browser name: verdict}
  for (const name of BROWSER_NAMES) {
    server.hits.clear();
    server.other.length = 0;
    log(`--- ${name}`);
    let out;
    try {
      out = await runBrowser(name, cases, pageUrl, server);
    } catch (e) {
      console.log(`FAIL ${name}: ${e.stack || e}`);
      failed++;
      summary.push(`${name}: could not run`);
      continue;
    }
    // Let late requests (media range requests, frames) arrive before reading the log.
    await new Promise((r) => setTimeout(r, 200));
    const byId = new Map(out.results.map((r) => [r.id, r]));
    const rows = [];
    const count = { ok: 0, mismatch: 0, inconclusive: 0, divergence: 0, split: 0, stale: 0 };
    for (const c of cases) {
      const r = byId.get(c.id) || { event: 'missing', violations: [] };
      const hits = server.hits.get(c.id) || [];
      const hit = hits.length > 0;
      const violated = r.violations.length > 0;
      const wantTls = /^(https|wss):/.test(c.url);
      let browser;
      if (hit && hits.some((h) => h.secure !== wantTls)) browser = `inconclusive (arrived over ${wantTls ? 'plain http' : 'TLS'})`;
      else if (hit && !violated) browser = 'allow';
      else if (violated && !hit) browser = 'block';
      else browser = hit ? 'inconclusive (loaded and reported)' : 'inconclusive (neither loaded nor reported)';
      if (!seen.has(c.id)) seen.set(c.id, {});
      seen.get(c.id)[name] = browser;
      const v = r.violations.map((x) => `${x.directive} ${x.blockedURI}`).join(' | ');
      const row = { ...c, browser, event: r.event, hit, violations: v, note: null };
      const splitExpect = c.split ? c.split[name] : undefined;
      if (browser.startsWith('inconclusive')) {
        count.inconclusive++;
        row.status = 'INCONCLUSIVE';
      } else if (splitExpect !== undefined && browser === splitExpect && browser !== c.auditor) {
        count.split++;
        row.status = 'BROWSERS SPLIT';
        row.note = c.split.why;
      } else if (browser === c.auditor) {
        if (c.divergence || (c.split && browser !== splitExpect)) {
          count.stale++;
          row.status = `AGREES (drop the ${c.divergence ? 'divergence' : 'split'} mark)`;
        } else {
          count.ok++;
          row.status = 'ok';
        }
      } else if (c.divergence) {
        count.divergence++;
        row.status = 'KNOWN DIVERGENCE';
        row.note = c.divergence;
      } else {
        count.mismatch++;
        row.status = 'MISMATCH';
      }
      rows.push(row);
    }
    const show = VERBOSE ? rows : rows.filter((r) => r.status !== 'ok');
    if (show.length) {
      console.log(`${pad('status', 17)} ${pad('#', 3)} ${pad('channel', 11)} ${pad('auditor', 7)} ${pad('browser', 7)} url — why; auditor's verdict and rule; party; page event; server; violations`);
      for (const r of show) {
        const rule = r.rule?.kind === 'rule' ? `#${r.rule.index} ${r.rule.source} [${r.rule.directives}]`
          : r.rule?.kind === 'default' ? `default ${r.rule.name}` : JSON.stringify(r.rule);
        console.log(`${pad(r.status, 17)} ${pad(r.id, 3)} ${pad(r.channel, 11)} ${pad(r.auditor, 7)} ${pad(r.browser, 7)} ${r.url} — ${r.why}; ` +
          `verdict ${r.verdict} by ${rule}; party ${r.party}; event ${r.event}; server ${r.hit ? 'hit' : 'no hit'}; violations ${r.violations || '-'}` +
          (r.note ? `\n${' '.repeat(18)}(${r.note})` : ''));
      }
    }
    if (out.orphans.length) {
      console.log(`${name}: ${out.orphans.length} violation(s) outside any request's window: ${JSON.stringify(out.orphans)}`);
    }
    if (VERBOSE) {
      const hosts = new Set([...server.other, ...[...server.hits.values()].flat()].map((e) => e.host));
      console.log(`${name}: hosts seen by the server: ${[...hosts].sort().join(', ')}`);
    }
    // Requests the test did not make (the browser's own background traffic): every name
    // resolves to 127.0.0.1, so they reach this server instead of leaving the machine.
    const known = new Set([PAGE_HOST, ...cases.map((c) => new URL(c.url).hostname)].map((h) => h.toLowerCase()));
    const background = server.other.filter((e) => !known.has(String(e.host).replace(/:\d+$/, '').toLowerCase()));
    if (background.length) {
      console.log(`${name}: ${background.length} background request(s) of the browser itself, kept on loopback: ` +
        [...new Set(background.map((e) => e.host))].join(', '));
    }
    const ok = count.mismatch === 0 && count.inconclusive === 0 && out.orphans.length === 0;
    const line = `${name} ${out.version}: ${cases.length} requests (loaded ${rows.filter((r) => r.browser === 'allow').length}, ` +
      `blocked ${rows.filter((r) => r.browser === 'block').length}): ${count.ok} agree, ${count.mismatch} mismatch, ` +
      `${count.inconclusive} inconclusive, ${count.divergence} known divergence, ${count.split} browsers split` +
      `${count.stale ? `, ${count.stale} marked case(s) now agree` : ''}`;
    console.log(`${ok ? 'PASS' : 'FAIL'} ${line}`);
    summary.push(line);
    if (ok) passed++; else failed++;
  }
  if (BROWSER_NAMES.length > 1) {
    for (const c of cases) {
      const v = seen.get(c.id) || {};
      const verdicts = new Set(Object.values(v));
      if (verdicts.size > 1 && !c.split) {
        console.log(`note: browsers disagree on #${c.id} ${c.url} (${c.why}): ${JSON.stringify(v)}; auditor ${c.auditor}`);
      }
    }
  }
  server.close();
  log('summary:\n  ' + summary.join('\n  '));
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(e.stack || e);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
