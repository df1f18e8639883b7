#!/usr/bin/env node
// Differential test (issue 3, item 12): a page exercising odd but legal calls gives the same
// results and the same exceptions with and without the auditor (dist/tpr-auditor.js, audit mode),
// in Chromium and in Firefox; and the server receives the same requests.
//
//   node tests/e2e/differential.mjs        (after scripts/build.sh)
//
// A node http server on 127.0.0.1 serves the page (/run), its test script (/odd.js), the bundle
// (/tpr-auditor.js), 1x1 PNGs, small scripts and an echo endpoint. The page runs every case of
// ODD_JS (fetch(Request) with bodies, fetch(URL object), bad arguments that must throw the same
// error, synchronous XHR, XMLHttpRequest subclassing, appendChild of a DocumentFragment with
// scripts and images, Node.prototype methods called with .call on nodes of another document and
// from another realm, document.write during parsing, innerHTML / insertAdjacentHTML / outerHTML
// with images and scripts, srcset and <picture>, an HTML blob document loaded into a frame
// that already showed one, …) and posts {results, errors} to /result.
// Compared per browser, plain vs audited: every result (JSON), the page's uncaught errors, and the
// multiset of requests the server received (method, path, body). Also checked in the audited run:
// the auditor is running, reported no internal error, and saw the requests (a no-op auditor
// would pass the comparison trivially).
//
// Browsers:
//   chromium  playwright-core with executablePath /usr/bin/chromium; the auditor is injected with
//             page.addInitScript (document start), as in tests/e2e/mediawiki.mjs
//   firefox   Debian's firefox-esr cannot be driven by playwright-core: its `firefox` launcher
//             needs Playwright's Juggler-patched build (`-juggler-pipe`; firefox-esr exits at once)
//             and its WebDriver BiDi launcher (channel 'moz-firefox') fails in newContext with
//             "Protocol error (emulation.setMediaFeaturesOverride): unknown command" (Firefox ESR
//             153 does not implement that BiDi command, Playwright sends it unconditionally).
//             So Firefox is started directly (headless, fresh profile, own process group) on the
//             page URL; the audited page loads the bundle as its first <script>, which runs before
//             any other script of the page just like a document-start injection; the page posts its
//             results back and navigates to the next variant itself.
// Ends with "N passed, N failed"; exit status 1 on any failure.
// env: CHROMIUM (default /usr/bin/chromium), FIREFOX (default /usr/bin/firefox-esr),
//      DIFF_BROWSERS=chromium,firefox (default both), TPR_BUNDLE (default dist/tpr-auditor.js)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlaywright } from '../mediawiki/lib/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE_PATH = process.env.TPR_BUNDLE || path.join(ROOT, 'dist', 'tpr-auditor.js');
const CHROMIUM = process.env.CHROMIUM || process.env.TPR_CHROMIUM || '/usr/bin/chromium';
const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const BROWSERS = (process.env.DIFF_BROWSERS || 'chromium,firefox').split(',').map((s) => s.trim()).filter(Boolean);
const T0 = Date.now();

const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${!ok && detail ? `\n        ${String(detail).replace(/\n/g, '\n        ')}` : ''}`);
  return !!ok;
}

// --- the page ------------------------------------------------------------------------------
const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const PNG_2X2 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAEUlEQVR42mNk+M/AwMDAxAABAA8AAf8K6m2kAAAAAElFTkSuQmCC', 'base64');

/** Head of the page: error capture, then document.write during parsing (inline and external). */
const HEAD = `
<script>
  window.__order = [];
  window.__errors = [];
  addEventListener('error', function (e) { __errors.push('error: ' + (e.message || (e.target && e.target.tagName + ' ' + (e.target.src || e.target.href)))); }, true);
  addEventListener('unhandledrejection', function (e) { __errors.push('rejection: ' + String(e.reason)); });
</script>
<script>
  __order.push('head-1');
  document.write('<p id="w1">written <b>bold</b></p><img id="wimg" src="/odd/img/written.png">');
  document.write('<script src="/odd/js/written.js"><\\/script>');
  document.write('<script>__order.push("written-inline")<\\/script>');
  __order.push('head-2');
  window.__writtenDuringParse = [document.getElementById('w1') && document.getElementById('w1').textContent, !!document.getElementById('wimg')];
</script>
<script>__order.push('head-3');</script>`;

/** Body: parser-inserted loads, then the test script. */
const BODY = `
<div id="parsed"><img id="pimg" src="/odd/img/parsed.png" srcset="/odd/img/parsed-1x.png 1x, /odd/img/parsed-2x.png 2x"></div>
<picture id="pic"><source srcset="/odd/img/pic-source.png" type="image/png"><img id="picimg" src="/odd/img/pic-fallback.png"></picture>
<script src="/odd.js"></script>`;

// The cases. Each returns plain JSON; errors become "Name: message". Timing-dependent values
// (event order between independent loads, random boundaries) are not recorded.
const ODD_JS = String.raw`
(async function () {
  const out = {};
  const errName = (e) => (e && (e.name || (e.constructor && e.constructor.name))) + ': ' + (e && e.message);
  const run = async (name, f) => { try { out[name] = await f(); } catch (e) { out[name] = 'THROWS ' + errName(e); } };
  const loaded = (el) => new Promise((res) => {
    if (el.complete && el.tagName === 'IMG' && el.naturalWidth) return res('load');
    el.addEventListener('load', () => res('load'), { once: true });
    el.addEventListener('error', () => res('error'), { once: true });
    setTimeout(() => res('timeout'), 5000);
  });
  const imgInfo = async (img) => { const r = await loaded(img); return [r, img.naturalWidth, img.currentSrc.replace(location.origin, ''), img.getAttribute('src'), img.getAttribute('srcset')]; };
  const text = (r) => r.text();
  const O = location.origin;

  // document.write during parsing (head) and parse order.
  out.order = window.__order.slice();
  out.writtenDuringParse = window.__writtenDuringParse;
  out.writtenScriptRan = window.__writtenJs;
  out.writtenImg = await imgInfo(document.getElementById('wimg'));
  out.writtenLocation = [document.getElementById('w1').parentNode.tagName, document.getElementById('w1').innerHTML];

  // --- fetch -----------------------------------------------------------------------------
  await run('fetchRequestBodyString', async () => text(await fetch(new Request('/odd/echo/rq1', { method: 'POST', body: 'hello body' }))));
  await run('fetchRequestBodyParams', async () => text(await fetch(new Request('/odd/echo/rq2', { method: 'POST', body: new URLSearchParams('a=1&b=two words') }))));
  await run('fetchRequestBodyBlob', async () => text(await fetch(new Request('/odd/echo/rq3', { method: 'PUT', body: new Blob(['blob body'], { type: 'text/x-odd' }) }))));
  await run('fetchRequestBodyBuffer', async () => text(await fetch(new Request('/odd/echo/rq4', { method: 'POST', body: new Uint8Array([104, 105]) }))));
  await run('fetchRequestPlusInit', async () => text(await fetch(new Request('/odd/echo/rq5', { method: 'POST', body: 'original' }), { body: 'replaced', method: 'PATCH' })));
  await run('fetchRequestHeaders', async () => text(await fetch(new Request('/odd/echo/rq6', { method: 'POST', body: '{"x":1}', headers: { 'Content-Type': 'application/json', 'X-Odd': 'yes' } }))));
  await run('fetchRequestReused', async () => {
    const r = new Request('/odd/echo/rq7', { method: 'POST', body: 'once' });
    const first = await text(await fetch(r));
    let second; try { await fetch(r); second = 'ok'; } catch (e) { second = errName(e); }
    return [first, r.bodyUsed, second];
  });
  await run('fetchRequestClone', async () => { const r = new Request('/odd/echo/rq8', { method: 'POST', body: 'cloned' }); const c = r.clone(); return [await text(await fetch(r)), await c.text(), r.bodyUsed]; });
  await run('fetchUrlObject', async () => text(await fetch(new URL('/odd/echo/url?q=1#frag', location.href))));
  await run('fetchUrlObjectInit', async () => text(await fetch(new URL('/odd/echo/url2', O), { method: 'POST', body: 'via URL' })));
  await run('fetchStringifiable', async () => text(await fetch({ toString() { return '/odd/echo/tostring'; } })));
  await run('fetchLocation', async () => (await fetch(location)).status);
  await run('fetchFormData', async () => { const fd = new FormData(); fd.append('k', 'v'); const t = await text(await fetch('/odd/echo/fd', { method: 'POST', body: fd })); return t.replace(/-{2,}[-\w]+/g, 'BOUNDARY').replace(/boundary=[-\w]+/, 'boundary=B'); });
  await run('fetchSignalAbort', async () => { const c = new AbortController(); c.abort(); return fetch('/odd/echo/aborted', { signal: c.signal }).then(() => 'resolved', errName); });
  await run('fetchNoArgs', () => fetch());
  await run('fetchBadUrl', () => fetch('http://[bad'));
  await run('fetchSymbol', () => fetch(Symbol('x')));
  await run('fetchCredentialsInUrl', () => fetch('http://user:pw@127.0.0.1:1/'));
  await run('fetchGetWithBody', () => fetch('/odd/echo/getbody', { method: 'GET', body: 'x' }));
  await run('fetchBadMethod', () => fetch('/odd/echo/m', { method: 'BAD METHOD' }));
  await run('fetchForbiddenMethod', () => fetch('/odd/echo/m', { method: 'TRACE' }));
  await run('fetchModeNavigate', () => fetch('/odd/echo/nav', { mode: 'navigate' }));
  await run('fetchBadHeaders', () => fetch('/odd/echo/h', { headers: [['a']] }));
  await run('fetchIllegalThis', () => fetch.call({}, '/odd/echo/this'));
  await run('fetchNew', () => new fetch('/odd/echo/new'));
  await run('fetchThrowingToString', () => fetch({ toString() { throw new RangeError('no string for you'); } }));
  await run('fetchNetworkError', () => fetch('http://127.0.0.1:1/refused').then(() => 'resolved', errName));

  // --- XMLHttpRequest ------------------------------------------------------------------------
  await run('xhrSyncGet', () => { const x = new XMLHttpRequest(); x.open('GET', '/odd/echo/sync', false); x.send(); return [x.readyState, x.status, x.responseText]; });
  await run('xhrSyncPost', () => { const x = new XMLHttpRequest(); x.open('POST', '/odd/echo/syncpost', false); x.setRequestHeader('Content-Type', 'text/plain;charset=UTF-8'); x.send('sync body'); return [x.status, x.responseText, x.getResponseHeader('x-echo')]; });
  await run('xhrSyncEvents', () => { const ev = []; const x = new XMLHttpRequest(); x.onreadystatechange = () => ev.push('rs' + x.readyState); x.onload = () => ev.push('load'); x.onloadend = () => ev.push('loadend'); x.open('GET', '/odd/echo/syncev', false); x.send(); return ev; });
  await run('xhrSyncResponseType', () => { const x = new XMLHttpRequest(); x.open('GET', '/odd/echo/rt', false); x.responseType = 'json'; });
  await run('xhrSyncNetworkError', () => { const x = new XMLHttpRequest(); x.open('GET', 'http://127.0.0.1:1/refused', false); x.send(); return x.status; });
  await run('xhrAsyncUrlObject', () => new Promise((res) => { const x = new XMLHttpRequest(); x.open('POST', new URL('/odd/echo/xurl', O)); x.onloadend = () => res([x.status, x.responseText]); x.send(new URLSearchParams('p=q')); }));
  await run('xhrBadMethod', () => { const x = new XMLHttpRequest(); x.open('BAD METHOD', '/odd/echo/x'); });
  await run('xhrBadUrl', () => { const x = new XMLHttpRequest(); x.open('GET', 'http://[bad'); });
  await run('xhrOpenNoArgs', () => { const x = new XMLHttpRequest(); x.open(); });
  await run('xhrSendUnopened', () => new XMLHttpRequest().send());
  await run('xhrSendTwice', () => { const x = new XMLHttpRequest(); x.open('GET', '/odd/echo/twice'); x.send(); x.send(); });
  await run('xhrIllegalThis', () => XMLHttpRequest.prototype.open.call({}, 'GET', '/odd/echo/this'));
  await run('xhrNoNew', () => XMLHttpRequest());
  await run('xhrSubclass', async () => {
    const seen = [];
    class MyXHR extends XMLHttpRequest {
      constructor() { super(); this.tag = 'mine'; }
      open(m, u, ...rest) { seen.push('open ' + m + ' ' + u); return super.open(m, u, ...rest); }
      send(b) { seen.push('send ' + b); return super.send(b); }
    }
    const x = new MyXHR();
    const shape = [x instanceof XMLHttpRequest, x instanceof MyXHR, x.tag, Object.getPrototypeOf(x) === MyXHR.prototype, x.constructor === MyXHR, x.readyState];
    const body = await new Promise((res) => { x.open('POST', '/odd/echo/sub'); x.onload = () => res(x.responseText); x.send('sub body'); });
    const y = new MyXHR(); y.open('GET', '/odd/echo/subsync', false); y.send();
    return [shape, body, y.responseText, seen];
  });
  await run('xhrSubclassNoSuper', () => { class Bad extends XMLHttpRequest { constructor() { } } return new Bad(); });
  await run('xhrStatics', () => [XMLHttpRequest.DONE, XMLHttpRequest.UNSENT, XMLHttpRequest.name, XMLHttpRequest.length, typeof XMLHttpRequest.prototype.open, Object.keys(XMLHttpRequest.prototype).length]);

  // --- other constructors and their errors -------------------------------------------------
  await run('wsBadScheme', () => new WebSocket('ftp://x'));
  await run('wsFragment', () => new WebSocket('ws://127.0.0.1:1/#frag'));
  await run('wsNoNew', () => WebSocket('ws://127.0.0.1:1/'));
  await run('wsBadProtocols', () => new WebSocket('ws://127.0.0.1:1/', ['a', 'a']));
  await run('esNoArgs', () => new EventSource());
  await run('beaconNoArgs', () => navigator.sendBeacon());
  await run('beaconIllegalThis', () => navigator.sendBeacon.call({}, '/odd/echo/b'));
  await run('beaconBody', () => navigator.sendBeacon(new URL('/odd/echo/beacon', O), new Blob(['beacon body'])));
  await run('imageNoNew', () => Image());
  await run('imageCtor', () => { const i = new Image(2, 3); return [i instanceof HTMLImageElement, i.width, i.height, Image.name, Image.length]; });
  await run('workerNoArgs', () => new Worker());
  await run('workerBadUrl', () => new Worker('http://[bad'));

  // --- DocumentFragment with scripts and images ------------------------------------------------
  await run('fragment', async () => {
    const frag = document.createDocumentFragment();
    const inline = document.createElement('script'); inline.textContent = 'window.__fragInline = (window.__fragInline || 0) + 1;';
    const ext = document.createElement('script'); ext.src = '/odd/js/frag.js';
    const extLoaded = loaded(ext);
    const img = document.createElement('img'); img.src = '/odd/img/frag.png';
    const div = document.createElement('div'); div.innerHTML = '<img src="/odd/img/frag-inner.png"><span>s</span>';
    frag.append(inline, ext, img, div);
    const ret = document.body.appendChild(frag);
    const r = [ret === frag, frag.childNodes.length, window.__fragInline, await extLoaded, window.__fragJs, await imgInfo(img), await imgInfo(div.firstChild)];
    return r;
  });
  await run('fragmentInsertBefore', async () => {
    const frag = document.createDocumentFragment();
    const img = new Image(); img.src = '/odd/img/frag-ib.png';
    frag.appendChild(img);
    const ret = document.body.insertBefore(frag, document.body.firstChild);
    return [ret === frag, document.body.firstChild === img, await imgInfo(img)];
  });
  await run('templateContent', async () => {
    const t = document.createElement('template');
    t.innerHTML = '<img src="/odd/img/tpl.png"><script>window.__tpl = (window.__tpl || 0) + 1<\/script>';
    const before = [t.content.childNodes.length, window.__tpl];
    const clone = document.importNode(t.content, true);
    document.body.appendChild(clone);
    return [before, window.__tpl, await imgInfo(document.body.lastChild.previousSibling)];
  });
  await run('contextualFragment', async () => {
    const frag = document.createRange().createContextualFragment('<script>window.__ctx = (window.__ctx || 0) + 1<\/script><img src="/odd/img/ctx.png">');
    document.body.appendChild(frag);
    return [window.__ctx, await imgInfo(document.body.lastChild)];
  });
  await run('appendErrors', () => [
    (() => { try { document.body.appendChild('x'); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { document.appendChild(document.createElement('p')); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { Node.prototype.appendChild.call({}, document.createElement('p')); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { const p = document.createElement('p'); p.appendChild(p); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { document.body.insertBefore(document.createElement('p'), document.createElement('i')); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { document.body.appendChild(); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { Element.prototype.append.call(document.createTextNode('t'), 'x'); return 'ok'; } catch (e) { return errName(e); } })(),
  ]);

  // --- Node.prototype methods on foreign nodes (another document, another realm) ---------------
  const f = document.createElement('iframe');
  f.src = 'about:blank';
  document.body.appendChild(f);
  const fwin = f.contentWindow;
  const fdoc = f.contentDocument;
  await run('foreignAdopt', async () => {
    const img = fdoc.createElement('img'); img.src = '/odd/img/foreign.png';
    const ret = Node.prototype.appendChild.call(document.body, img);
    return [ret === img, img.ownerDocument === document, img.isConnected, await imgInfo(img)];
  });
  await run('foreignRealmMethod', async () => {
    const img = document.createElement('img'); img.src = '/odd/img/foreign-realm.png';
    fwin.Node.prototype.appendChild.call(document.body, img);
    const s = document.createElement('script'); s.src = '/odd/js/foreign-realm.js';
    const l = loaded(s);
    fwin.Element.prototype.append.call(document.head, s);
    return [img.isConnected, await imgInfo(img), await l, window.__foreignRealmJs];
  });
  await run('intoForeignDocument', async () => {
    const p = document.createElement('p'); p.textContent = 'moved';
    Node.prototype.appendChild.call(fdoc.body, p);
    const img = document.createElement('img'); img.src = '/odd/img/into-foreign.png';
    Node.prototype.insertBefore.call(fdoc.body, img, p);
    Element.prototype.append.call(fdoc.body, 'text', fdoc.createElement('br'));
    Element.prototype.setAttribute.call(img, 'alt', 'x');
    return [p.ownerDocument === fdoc, fdoc.body.childNodes.length, fdoc.body.textContent, img.ownerDocument === fdoc, await imgInfo(img)];
  });
  await run('foreignSetters', async () => {
    const img = fdoc.createElement('img');
    Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src').set.call(img, '/odd/img/foreign-setter.png');
    Element.prototype.setAttribute.call(img, 'srcset', '/odd/img/foreign-srcset.png 1x');
    document.body.append(img);
    return [img.getAttribute('src'), await imgInfo(img)];
  });
  await run('childRealmCalls', async () => {
    const t = await (await fwin.fetch('/odd/echo/child-fetch', { method: 'POST', body: 'from the frame' })).text();
    const img = fdoc.createElement('img'); img.src = '/odd/img/child.png'; fdoc.body.appendChild(img);
    const x = new fwin.XMLHttpRequest(); x.open('GET', '/odd/echo/child-xhr', false); x.send();
    return [t, await imgInfo(img), x.responseText, fdoc.body.childNodes.length];
  });
  await run('blobDocument', async () => {
    // A frame that already shows a document, then an HTML blob whose inline script fetches: a
    // new window, whose script runs before the parent could hook it (the bootstrap's hand-over
    // script does). Document, mode, encoding and answer are the same with and without it.
    const g = document.createElement('iframe');
    g.src = '/odd/echo/frame-first';
    await new Promise((r) => { g.onload = r; document.body.appendChild(g); });
    const html = '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>b</title></head><body><p>\u00e4</p>' +
      '<script>window.done = fetch(location.origin + "/odd/echo/blob-inline").then((r) => r.text())<\/script></body></html>';
    g.src = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
    await new Promise((r) => { g.onload = r; });
    const d = g.contentDocument;
    return [await g.contentWindow.done, d.compatMode, d.characterSet, d.documentElement.outerHTML, d.scripts.length];
  });
  await run('foreignErrors', () => [
    (() => { try { Node.prototype.appendChild.call(fdoc, fdoc.createElement('p')); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { fwin.Node.prototype.appendChild.call(document, document.createElement('p')); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { Node.prototype.replaceChild.call(document.body, document.createElement('p'), fdoc.createElement('p')); return 'ok'; } catch (e) { return errName(e); } })(),
  ]);

  // --- markup sinks with images and scripts -----------------------------------------------------
  await run('innerHTMLImages', async () => {
    const d = document.createElement('div'); document.body.appendChild(d);
    d.innerHTML = '<img src="/odd/img/inner.png"><img srcset="/odd/img/inner-s1.png 1x, /odd/img/inner-s2.png 2x"><script>window.__innerScript = 1<\/script>';
    return [d.innerHTML, await imgInfo(d.children[0]), await imgInfo(d.children[1]), window.__innerScript];
  });
  await run('innerHTMLDetached', async () => { const d = document.createElement('div'); d.innerHTML = '<img src="/odd/img/detached.png">'; return [await imgInfo(d.firstChild)]; });
  await run('innerHTMLTable', () => { const t = document.createElement('table'); t.innerHTML = '<tr><td><img src="/odd/img/table.png">x</td></tr>'; return t.innerHTML; });
  await run('outerHTML', async () => { const d = document.createElement('div'); document.body.appendChild(d); const s = document.createElement('span'); d.appendChild(s); s.outerHTML = '<img id="oh" src="/odd/img/outer.png">'; return [d.innerHTML, await imgInfo(d.firstChild)]; });
  await run('insertAdjacentHTML', async () => { document.body.insertAdjacentHTML('beforeend', '<img id="iah" src="/odd/img/adjacent.png">'); return [await imgInfo(document.getElementById('iah'))]; });
  await run('insertAdjacentBad', () => document.body.insertAdjacentHTML('nowhere', '<img src="/odd/img/never.png">'));
  await run('outerHTMLOnDetached', () => { const s = document.createElement('span'); s.outerHTML = '<img src="/odd/img/never2.png">'; return s.outerHTML; });
  await run('setHTMLUnsafeOrNot', async () => { const d = document.createElement('div'); if (typeof d.setHTMLUnsafe !== 'function') return 'n/a'; d.setHTMLUnsafe('<img src="/odd/img/unsafe.png">'); document.body.appendChild(d); return [await imgInfo(d.firstChild)]; });
  await run('domParser', () => { const doc = new DOMParser().parseFromString('<img src="/odd/img/parser-never.png">', 'text/html'); return doc.body.innerHTML; });

  // --- srcset, picture, attributes ------------------------------------------------------------
  out.parsedSrcset = await imgInfo(document.getElementById('pimg'));
  out.parsedPicture = await imgInfo(document.getElementById('picimg'));
  await run('srcsetProperty', async () => { const i = new Image(); i.srcset = '/odd/img/ss-1x.png 1x, /odd/img/ss-2x.png 2x'; document.body.appendChild(i); return await imgInfo(i); });
  await run('srcsetWidths', async () => { const i = new Image(); i.sizes = '10px'; i.srcset = '/odd/img/w10.png 10w, /odd/img/w2000.png 2000w'; document.body.appendChild(i); return await imgInfo(i); });
  await run('pictureDynamic', async () => {
    const p = document.createElement('picture');
    const s = document.createElement('source'); s.srcset = '/odd/img/dyn-source.png'; s.type = 'image/png';
    const i = document.createElement('img'); i.src = '/odd/img/dyn-fallback.png';
    p.append(s, i); document.body.appendChild(p);
    return await imgInfo(i);
  });
  await run('srcReflect', () => { const i = document.createElement('img'); i.src = 'rel.png'; const s = document.createElement('script'); s.src = '//127.0.0.1:1/x.js'; return [i.src.replace(O, ''), i.getAttribute('src'), s.src]; });
  await run('attrNode', async () => {
    const i = document.createElement('img'); const a = document.createAttribute('src'); a.value = '/odd/img/attr-node.png';
    i.setAttributeNode(a); document.body.appendChild(i); const r1 = await imgInfo(i);
    i.attributes.src.value = '/odd/img/attr-value.png'; const r2 = await imgInfo(i);
    i.setAttributeNS(null, 'src', '/odd/img/attr-ns.png'); const r3 = await imgInfo(i);
    return [r1, r2, r3];
  });
  await run('setAttributeErrors', () => [
    (() => { try { document.body.setAttribute('1bad', 'x'); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { document.body.setAttribute(); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { Element.prototype.setAttribute.call({}, 'src', 'x'); return 'ok'; } catch (e) { return errName(e); } })(),
    (() => { try { Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src').set.call(document.body, '/odd/img/x.png'); return 'ok'; } catch (e) { return errName(e); } })(),
  ]);
  await run('scriptSrcThenAppend', async () => { const s = document.createElement('script'); s.src = '/odd/js/late.js'; const l = loaded(s); document.head.appendChild(s); return [await l, window.__lateJs]; });
  await run('scriptSetAttributeAfterInsert', async () => { const s = document.createElement('script'); document.head.appendChild(s); const l = loaded(s); s.setAttribute('src', '/odd/js/after-insert.js'); return [await l, window.__afterInsertJs]; });
  await run('scriptError', async () => { const s = document.createElement('script'); s.src = '/odd/missing.js'; const l = loaded(s); document.head.appendChild(s); return await l; });
  await run('imgError', async () => { const i = new Image(); i.src = '/odd/missing.png'; return await imgInfo(i); });
  await run('cloneNode', async () => { const i = document.createElement('img'); i.src = '/odd/img/clone.png'; const c = i.cloneNode(); document.body.appendChild(c); return [c.getAttribute('src'), await imgInfo(c)]; });
  await run('styleUrl', async () => {
    const d = document.createElement('div'); d.style.width = '10px'; d.style.height = '10px';
    d.style.backgroundImage = 'url("/odd/img/style-bg.png")'; document.body.appendChild(d);
    // The background loads at style/layout time: wait until it has (resource timing), max 3 s.
    for (let i = 0; i < 60 && !performance.getEntriesByType('resource').some((e) => e.name.endsWith('/odd/img/style-bg.png') && e.responseEnd > 0); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return [d.style.backgroundImage.replace(O, ''), performance.getEntriesByType('resource').some((e) => e.name.endsWith('/odd/img/style-bg.png'))];
  });
  await run('linkStylesheet', async () => { const l = document.createElement('link'); l.rel = 'stylesheet'; l.href = '/odd/css/style.css'; const r = loaded(l); document.head.appendChild(l); return [await r, l.sheet ? l.sheet.cssRules.length : null]; });

  // --- identity of the hooked API surface ------------------------------------------------------
  out.names = [fetch.name, fetch.length, XMLHttpRequest.prototype.open.name, XMLHttpRequest.prototype.open.length,
    WebSocket.name, WebSocket.length, Node.prototype.appendChild.name, Node.prototype.appendChild.length,
    Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src').set.name, Object.getOwnPropertyDescriptor(Element.prototype, 'innerHTML').set.name,
    document.write.name, document.write.length, navigator.sendBeacon.name];
  out.toStrings = [String(fetch), String(XMLHttpRequest.prototype.open), Function.prototype.toString.call(Node.prototype.appendChild),
    String(Object.getOwnPropertyDescriptor(Element.prototype, 'innerHTML').set), String(document.write)];
  out.prototypeProps = ['prototype' in fetch, 'prototype' in Node.prototype.appendChild, typeof Image.prototype];

  out.lateErrors = window.__errors.slice();
  return out;
})().then(async (out) => {
  let auditor = null;
  if (window.tprAuditor) {
    await window.tprAuditor.ready;
    await window.tprAuditor.settled();
    const r = window.tprAuditor.report();
    auditor = { status: window.tprAuditor.status, mode: r.mode, errors: r.errors, errorCount: r.errorCount,
      urls: r.events.map((e) => e.url.replace(location.origin, '')),
      // The blob document's inline fetch: seen by a hook (with its stack), not only afterwards
      // by the frame's resource timing once the parent reached the new window.
      blobInline: r.events.filter((e) => e.url.endsWith('/odd/echo/blob-inline')).map((e) => e.observedBy.join('+')) };
  }
  const payload = JSON.stringify({ results: out, errors: window.__errors, auditor });
  const x = new XMLHttpRequest();
  x.open('POST', '/result' + location.search);
  x.onloadend = () => { const next = new URLSearchParams(location.search).get('next'); if (next) location.href = next; };
  x.send(payload);
}, (e) => {
  const x = new XMLHttpRequest(); x.open('POST', '/result' + location.search); x.send(JSON.stringify({ fatal: String(e && e.stack || e) }));
});
`;

const SCRIPTS = {
  'written.js': "__order.push('written-external'); window.__writtenJs = document.currentScript ? document.currentScript.src.replace(location.origin, '') : 'no currentScript';",
  'frag.js': 'window.__fragJs = (window.__fragJs || 0) + 1;',
  'foreign-realm.js': 'window.__foreignRealmJs = 1;',
  'late.js': 'window.__lateJs = 1;',
  'after-insert.js': 'window.__afterInsertJs = 1;',
};

// --- server --------------------------------------------------------------------------------
/** One loopback server per run (its own port), so every request it receives is that run's. */
function startServers(bundle) {
  const state = { requests: new Map(), waiters: new Map(), servers: [] };
  const handler = (variant) => (req, res) => {
    const url = new URL(req.url, 'http://x');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const record = (entry) => state.requests.get(variant).push(entry);
      const p = url.pathname;
      if (p === '/result') {
        const w = state.waiters.get(url.searchParams.get('run'));
        res.writeHead(204); res.end();
        if (w) w(body);
        return;
      }
      // The page itself differs by its query (next=, auditor=): its subresources are compared.
      if (p !== '/tpr-auditor.js' && p !== '/favicon.ico' && p !== '/run') {
        const ct = (req.headers['content-type'] || '').replace(/boundary=[-\w]+/, 'boundary=B');
        record(`${req.method} ${p}${url.search} ${ct} ${body.replace(/-{2,}[-\w]+/g, 'BOUNDARY')}`);
      }
      if (p === '/run') {
        const audited = url.searchParams.get('auditor') === 'tag';
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(`<!doctype html><html><head><meta charset="utf-8"><title>odd calls</title>${audited ? '<script src="/tpr-auditor.js"></script>' : ''}${HEAD}</head><body>${BODY}</body></html>`);
      } else if (p === '/tpr-auditor.js') {
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }); res.end(bundle);
      } else if (p === '/odd.js') {
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }); res.end(ODD_JS);
      } else if (p.startsWith('/odd/js/')) {
        const s = SCRIPTS[p.slice('/odd/js/'.length)];
        if (s) { res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }); res.end(s); } else { res.writeHead(404); res.end(); }
      } else if (p.startsWith('/odd/img/')) {
        res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' }); res.end(/2x|w2000/.test(p) ? PNG_2X2 : PNG_1X1);
      } else if (p.startsWith('/odd/css/')) {
        res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'no-store' }); res.end('.odd-a { color: red } .odd-b { color: blue }');
      } else if (p.startsWith('/odd/echo/')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-echo': 'yes', 'access-control-expose-headers': 'x-echo', 'cache-control': 'no-store' });
        res.end(`${req.method} ${p}${url.search} [${(req.headers['content-type'] || '').replace(/boundary=[-\w]+/, 'boundary=B')}] [${req.headers['x-odd'] || ''}] ${body}`);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found');
      }
    });
  };
  return {
    state,
    /** Starts the server of run `variant`: its origin. */
    listen(variant) {
      state.requests.set(variant, []);
      const server = http.createServer(handler(variant));
      state.servers.push(server);
      return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
    },
    close() { for (const s of state.servers) { s.closeAllConnections?.(); s.close(); } },
    result(variant, timeout) {
        return new Promise((res, rej) => {
          const t = setTimeout(() => { state.waiters.delete(variant); rej(new Error(`no result from ${variant} in ${timeout / 1000} s`)); }, timeout);
          state.waiters.set(variant, (body) => { clearTimeout(t); state.waiters.delete(variant); res(JSON.parse(body)); });
        });
    },
  };
}

// --- compare ---------------------------------------------------------------------------------
function compare(browserName, plain, audited, reqPlain, reqAudited) {
  const label = (s) => `[${browserName}] ${s}`;
  if (!check(label('both runs completed'), plain && audited && !plain.fatal && !audited.fatal,
    `plain: ${plain?.fatal || 'ok'}; audited: ${audited?.fatal || 'ok'}`)) return;
  const keys = [...new Set([...Object.keys(plain.results), ...Object.keys(audited.results)])];
  const diffs = keys.filter((k) => JSON.stringify(plain.results[k]) !== JSON.stringify(audited.results[k]));
  console.log(`  ${keys.length} cases compared; sample: fetchRequestBodyParams = ${JSON.stringify(plain.results.fetchRequestBodyParams)}, ` +
    `fetchNoArgs = ${JSON.stringify(plain.results.fetchNoArgs)}, xhrSyncPost = ${JSON.stringify(plain.results.xhrSyncPost)}`);
  check(label(`same results and exception messages with and without the auditor (${keys.length} cases)`), !diffs.length,
    diffs.map((k) => `${k}:\n  without: ${JSON.stringify(plain.results[k])}\n  with:    ${JSON.stringify(audited.results[k])}`).join('\n'));
  check(label('same uncaught page errors'), JSON.stringify(plain.errors) === JSON.stringify(audited.errors),
    `without: ${JSON.stringify(plain.errors)}\nwith:    ${JSON.stringify(audited.errors)}`);
  const sortA = [...(reqPlain || [])].sort();
  const sortB = [...(reqAudited || [])].sort();
  const onlyPlain = sortA.filter((r) => !sortB.includes(r));
  const onlyAudited = sortB.filter((r) => !sortA.includes(r));
  check(label(`the server received the same requests (${sortA.length} without, ${sortB.length} with)`),
    JSON.stringify(sortA) === JSON.stringify(sortB),
    `only without the auditor: ${JSON.stringify(onlyPlain)}\nonly with it: ${JSON.stringify(onlyAudited)}`);
  const a = audited.auditor;
  check(label('auditor running in audit mode, no internal error'), a && a.status === 'running' && a.mode === 'audit' && a.errorCount === 0,
    JSON.stringify(a && { status: a.status, mode: a.mode, errors: a.errors }));
  if (a) {
    const expectSeen = ['/odd/echo/rq1', '/odd/echo/rq2', '/odd/echo/url?q=1', '/odd/echo/sync', '/odd/echo/sub', '/odd/js/frag.js',
      '/odd/img/frag.png', '/odd/img/foreign.png', '/odd/img/into-foreign.png', '/odd/img/inner.png', '/odd/img/inner-s1.png',
      '/odd/img/ss-1x.png', '/odd/img/written.png', '/odd/js/written.js', '/odd/img/attr-ns.png', '/odd/echo/beacon',
      '/odd/echo/child-fetch', '/odd/img/child.png', '/odd/echo/child-xhr', '/odd/echo/blob-inline'];
    const missing = expectSeen.filter((u) => !a.urls.some((x) => x === u || x.startsWith(`${u}#`) || x.startsWith(`${u}&`)));
    check(label(`the auditor saw the odd calls' requests (${a.urls.length} events)`), !missing.length, `no event for: ${missing.join(', ')}`);
    check(label('the blob document\'s inline fetch is one event, seen by the hook'),
      a.blobInline.length === 1 && a.blobInline[0].split('+').includes('hook'), JSON.stringify(a.blobInline));
  }
}

// --- browsers --------------------------------------------------------------------------------
/** The run's results with its origin (each run has its own port) replaced by ORIGIN. */
function neutral(result, origin) {
  const host = origin.replace(/^http:\/\//, '');
  return JSON.parse(JSON.stringify(result).replaceAll(origin, 'ORIGIN').replaceAll(host, 'ORIGIN-HOST'));
}

async function runChromium(srv, bundle) {
  const { chromium } = await loadPlaywright();
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  const out = {};
  try {
    for (const variant of ['plain', 'audited']) {
      const run = `chromium-${variant}`;
      const context = await browser.newContext();
      if (variant === 'audited') await context.addInitScript({ content: bundle });
      const page = await context.newPage();
      const pageErrors = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      const origin = await srv.listen(run);
      const got = srv.result(run, 30000);
      await page.goto(`${origin}/run?run=${run}`);
      out[variant] = neutral(await got.catch((e) => ({ fatal: String(e.message) })), origin);
      out[`${variant}PageErrors`] = pageErrors;
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return out;
}

const FIREFOX_PREFS = {
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'startup.homepage_welcome_url': 'about:blank',
  'startup.homepage_welcome_url.additional': '',
  'browser.startup.firstrunSkipsHomepage': true,
  'browser.aboutwelcome.enabled': false,
  'trailhead.firstrun.didSeeAboutWelcome': true,
  'browser.tabs.warnOnClose': false,
  'browser.sessionstore.resume_from_crash': false,
  'toolkit.startup.max_resumed_crashes': -1,
  'services.settings.server': 'http://127.0.0.1:1/',
  'remote-settings.disabled': true,
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.system.topsites': false,
  'network.proxy.type': 0,
  'dom.disable_open_during_load': false,
};

async function runFirefox(srv) {
  let webdriverPrefs = {};
  try { webdriverPrefs = JSON.parse(fs.readFileSync(path.join(ROOT, 'webdriver.json'), 'utf8'))['moz:firefoxOptions'].prefs || {}; } catch { /* defaults only */ }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tpr-diff-ff-'));
  const prefs = { ...webdriverPrefs, ...FIREFOX_PREFS };
  fs.writeFileSync(path.join(profile, 'user.js'), Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n'));
  const plainOrigin = await srv.listen('firefox-plain');
  const auditedOrigin = await srv.listen('firefox-audited');
  const plainUrl = `${plainOrigin}/run?run=firefox-plain&next=${encodeURIComponent(`${auditedOrigin}/run?run=firefox-audited&auditor=tag`)}`;
  const gotPlain = srv.result('firefox-plain', 60000);
  const gotAudited = srv.result('firefox-audited', 60000);
  let stderr = '';
  const proc = spawn(FIREFOX, ['--headless', '--no-remote', '--profile', profile, plainUrl], {
    detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MOZ_HEADLESS: '1', MOZ_CRASHREPORTER_DISABLE: '1' },
  });
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res(`firefox exited (${code ?? sig}) before the results: ${stderr.slice(-800)}`)));
  const out = {};
  try {
    out.plain = neutral(await Promise.race([gotPlain, exited.then((m) => ({ fatal: m }))]).catch((e) => ({ fatal: String(e.message) })), plainOrigin);
    out.audited = neutral(await Promise.race([gotAudited, exited.then((m) => ({ fatal: m }))]).catch((e) => ({ fatal: String(e.message) })), auditedOrigin);
  } finally {
    // Only the process group this test started.
    try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ }
    fs.rmSync(profile, { recursive: true, force: true });
  }
  out.plainPageErrors = [];
  out.auditedPageErrors = [];
  return out;
}

// --- main ------------------------------------------------------------------------------------
let srv = null;
try {
  if (!check('dist/tpr-auditor.js exists (scripts/build.sh)', fs.existsSync(BUNDLE_PATH), BUNDLE_PATH)) throw new Error('no bundle');
  const bundle = fs.readFileSync(BUNDLE_PATH, 'utf8');
  srv = startServers(bundle);
  for (const name of BROWSERS) {
    console.log(`\n=== ${name}`);
    const t = Date.now();
    let out;
    if (name === 'chromium') out = await runChromium(srv, bundle);
    else if (name === 'firefox') {
      if (!fs.existsSync(FIREFOX)) { check('[firefox] browser present', false, `${FIREFOX} missing (scripts/setup.sh)`); continue; }
      out = await runFirefox(srv);
    } else { check(`unknown browser ${name}`, false); continue; }
    console.log(`  ${((Date.now() - t) / 1000).toFixed(1)} s`);
    compare(name, out.plain, out.audited, srv.state.requests.get(`${name}-plain`), srv.state.requests.get(`${name}-audited`));
    if (name === 'chromium') {
      check('[chromium] same Playwright page errors', JSON.stringify(out.plainPageErrors) === JSON.stringify(out.auditedPageErrors),
        `without: ${JSON.stringify(out.plainPageErrors)}\nwith:    ${JSON.stringify(out.auditedPageErrors)}`);
    }
  }
} catch (e) {
  check('test ran to the end', false, e && e.stack ? e.stack : String(e));
} finally {
  if (srv) srv.close();
}

const failed = results.filter((r) => !r.ok);
console.log(`\ndifferential e2e: ${((Date.now() - T0) / 1000).toFixed(1)} s`);
if (failed.length) console.log(`FAILED:\n  ${failed.map((r) => r.name).join('\n  ')}`);
console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length ? 1 : 0;
