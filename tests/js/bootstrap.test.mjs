// Browser tests of src/js/bootstrap.js (run: node --test tests/js/).
// The bootstrap is injected at document start with page.addInitScript, a recording sink is
// attached in the page, and every channel is triggered from a served script file so that the
// observation's stack can be checked to name that file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chromium, CHROMIUM_ARGS, BOOTSTRAP, RECORDING_SINK, TestServer, runScript, observations, sleep,
} from './harness.mjs';

let browser;
let server;

before(async () => {
  server = await new TestServer().start();
  server.pages.set('/index.html', '<!doctype html><html><head><title>wiki</title></head><body><p id=content>content</p><img src="/parser.png"></body></html>');
  server.pages.set('/csp.html', '<!doctype html><html><head><title>csp</title></head><body><p>csp</p></body></html>');
  server.headers.set('/csp.html', { 'content-security-policy': "img-src 'self'" });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPage({ bootstrap = true, autoAttach = true, path = '/index.html', extra = '' } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (bootstrap) {
    await page.addInitScript({ content: (autoAttach ? '' : 'window.__noAutoAttach = true;\n') + BOOTSTRAP + RECORDING_SINK + extra });
  }
  await page.goto(server.origin + path);
  page.errors = errors;
  return { page, context };
}

function one(list, pred, what) {
  const found = list.filter(pred);
  assert.equal(found.length, 1, `expected exactly one observation for ${what}, got ${found.length}: ${JSON.stringify(found.map((o) => [o.channel, o.url, o.path]))}`);
  return found[0];
}

function assertObs(o, expected, scriptUrl) {
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(o[k], v, `field ${k} of ${o.channel} ${o.url}`);
  assert.equal(o.kind, 'request');
  assert.equal(o.observedBy, 'hook');
  assert.equal(typeof o.t, 'number');
  if (scriptUrl) assert.ok(o.stack && o.stack.includes(scriptUrl), `stack of ${o.channel} ${o.url} should name ${scriptUrl}:\n${o.stack}`);
}

test('handle: private, non-writable, non-enumerable; API shape', async () => {
  const { page, context } = await openPage();
  const r = await page.evaluate(() => {
    const k = Symbol.for('tpr-auditor.bootstrap');
    const d = Object.getOwnPropertyDescriptor(window, k);
    const h = window[k];
    let replaced = false;
    try { window[k] = {}; replaced = window[k] !== h; } catch (e) { replaced = false; }
    return {
      enumerable: d.enumerable, writable: d.writable, configurable: d.configurable, replaced,
      keys: Object.keys(h).sort(), nonce: h.nonce, version: h.version, frozen: Object.isFrozen(h),
      inKeys: Object.getOwnPropertySymbols(window).length >= 1 && !Object.keys(window).includes(String(k)),
      stats: h.stats(),
    };
  });
  assert.equal(r.enumerable, false);
  assert.equal(r.writable, false);
  assert.equal(r.configurable, false);
  assert.equal(r.replaced, false);
  assert.equal(r.frozen, true);
  assert.match(r.nonce, /^[0-9a-f]{24}$/);
  assert.deepEqual(r.keys, ['attach', 'attachClosedShadow', 'configure', 'detach', 'fetchText', 'hookRealm', 'injectFault', 'inlineSource', 'isHome', 'nonce', 'postForm', 'stats', 'version']);
  assert.equal(r.stats.attached, true);
  await context.close();
});

test('network channels: fetch, xhr, beacon, websocket, eventsource', async () => {
  const { page, context } = await openPage();
  const { url } = await runScript(page, server, `
    await fetch('/api/plain?x=1');
    await fetch(new URL('/api/urlobj', location.href));
    await fetch(new Request('/api/req', { method: 'POST', body: 'from-request-body' }));
    await fetch('${server.third}/api/cross', { method: 'PUT', body: new URLSearchParams({ user: 'Alice' }), credentials: 'include' });
    const fd = new FormData(); fd.append('a', '1'); fd.append('b', 'x y');
    await fetch('/api/form', { method: 'POST', body: fd });
    await new Promise((res) => { const x = new XMLHttpRequest(); x.open('post', '/api/xhr'); x.withCredentials = true; x.onloadend = res; x.send(JSON.stringify({ q: 1 })); });
    navigator.sendBeacon('/api/beacon', 'beacon-body');
    const ws = new WebSocket('ws://127.0.0.1:${server.port}/ws');
    await new Promise((res) => { ws.onerror = res; ws.onclose = res; setTimeout(res, 1000); });
    const es = new EventSource('/es/stream');
    await new Promise((res) => { es.onmessage = res; es.onerror = res; setTimeout(res, 1000); });
    es.close();
  `);
  const obs = await observations(page);
  assertObs(one(obs, (o) => o.url.endsWith('/api/plain?x=1'), 'fetch string'),
    { channel: 'fetch', method: 'GET', realm: 'top', path: 'fetch', body: null, credentials: false, enforceable: true }, url);
  assertObs(one(obs, (o) => o.url.endsWith('/api/urlobj'), 'fetch URL'), { channel: 'fetch', method: 'GET' }, url);
  assertObs(one(obs, (o) => o.url.endsWith('/api/req'), 'fetch Request'), { channel: 'fetch', method: 'POST', body: 'from-request-body' }, url);
  assertObs(one(obs, (o) => o.url.endsWith('/api/cross'), 'fetch cross'),
    { channel: 'fetch', url: `${server.third}/api/cross`, method: 'PUT', body: 'user=Alice', credentials: true }, url);
  assertObs(one(obs, (o) => o.url.endsWith('/api/form'), 'fetch FormData'), { body: 'a=1&b=x%20y' }, url);
  assertObs(one(obs, (o) => o.url.endsWith('/api/xhr'), 'xhr'),
    { channel: 'xhr', method: 'POST', body: '{"q":1}', credentials: true, path: 'xhr.send', canHold: true }, url);
  assertObs(one(obs, (o) => o.url.endsWith('/api/beacon'), 'beacon'),
    { channel: 'beacon', method: 'POST', body: 'beacon-body', canHold: false }, url);
  assertObs(one(obs, (o) => o.channel === 'websocket', 'websocket'), { url: `ws://127.0.0.1:${server.port}/ws` }, url);
  assertObs(one(obs, (o) => o.channel === 'eventsource', 'eventsource'), { url: `${server.origin}/es/stream` }, url);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('element channels through every insertion path', async () => {
  const { page, context } = await openPage();
  const { url } = await runScript(page, server, `
    const head = document.head, body = document.body;
    const s1 = document.createElement('script'); s1.src = '/el/append.js'; head.appendChild(s1);
    const s2 = document.createElement('script'); s2.setAttribute('src', '/el/setattr.js'); body.insertBefore(s2, body.firstChild);
    const frag = document.createDocumentFragment();
    const s3 = document.createElement('script'); s3.src = '/el/fragment.js'; frag.appendChild(s3);
    const d = document.createElement('div'); d.appendChild(frag.cloneNode(false)); frag.appendChild(d);
    body.appendChild(frag);
    const s4 = document.createElement('script'); s4.src = '/el/append-method.js'; body.append('text', s4);
    const s5 = document.createElement('script'); s5.src = '/el/after.js'; body.firstChild.after(s5);
    const s6 = document.createElement('script'); s6.type = 'module'; s6.src = '/el/module.mjs'; body.prepend(s6);
    const holder = document.createElement('span'); body.appendChild(holder);
    const s7 = document.createElement('script'); s7.src = '/el/replacewith.js'; holder.replaceWith(s7);
    const s8 = document.createElement('script'); s8.src = '/el/adjacent.js'; body.insertAdjacentElement('beforeend', s8);
    // set src then insert: reported once
    const s9 = document.createElement('script'); s9.src = '/el/once.js'; s9.setAttribute('src', '/el/once.js'); body.appendChild(s9);
    // img: loads when src is set, even detached
    const i1 = new Image(); i1.src = '/el/newimage.png';
    const i2 = document.createElement('img'); i2.srcset = '/el/a1.png 1x, /el/a2.png 2x';
    // markup sinks
    const box = document.createElement('div'); body.appendChild(box);
    box.innerHTML = '<img src="/el/inner.png"><iframe src="/el/inner-frame.html"></iframe>';
    const other = document.createElement('p'); box.appendChild(other);
    other.outerHTML = '<video src="/el/outer.webm" poster="/el/poster.png"></video>';
    box.insertAdjacentHTML('afterbegin', '<link rel="stylesheet" href="/el/adjacent.css"><object data="/el/obj.bin"></object><embed src="/el/embed.bin">');
    const link = document.createElement('link'); link.rel = 'preload'; link.as = 'font'; link.href = '/el/font.woff2'; link.crossOrigin = ''; head.appendChild(link);
    const a = new Audio('/el/audio.ogg');
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg'); body.appendChild(svg);
    const im = document.createElementNS('http://www.w3.org/2000/svg', 'image');
    im.setAttributeNS('http://www.w3.org/1999/xlink', 'xlink:href', '/el/svg.png'); svg.appendChild(im);
    const fr = document.createElement('iframe'); fr.src = '/el/frame.html'; fr.setAttribute('sandbox', 'allow-scripts'); body.appendChild(fr);
    const range = document.createRange(); range.selectNodeContents(body);
    const cf = range.createContextualFragment('<script src="/el/contextual.js"><\\/script>');
    body.appendChild(cf);
    await new Promise((r) => setTimeout(r, 300));
  `);
  const obs = await observations(page);
  const expect = [
    ['/el/append.js', 'script', 'appendChild'], ['/el/setattr.js', 'script', 'insertBefore'],
    ['/el/fragment.js', 'script', 'appendChild'], ['/el/append-method.js', 'script', 'append'],
    ['/el/after.js', 'script', 'after'], ['/el/module.mjs', 'module', 'prepend'],
    ['/el/replacewith.js', 'script', 'replaceWith'], ['/el/adjacent.js', 'script', 'insertAdjacentElement'],
    ['/el/once.js', 'script', 'appendChild'], ['/el/newimage.png', 'img', 'property:src'],
    ['/el/a1.png', 'img', 'property:srcset'], ['/el/a2.png', 'img', 'property:srcset'],
    ['/el/inner.png', 'img', 'innerHTML'], ['/el/inner-frame.html', 'frame', 'innerHTML'],
    ['/el/outer.webm', 'media', 'outerHTML'], ['/el/poster.png', 'media', 'outerHTML'],
    ['/el/adjacent.css', 'style', 'insertAdjacentHTML'], ['/el/obj.bin', 'object', 'insertAdjacentHTML'],
    ['/el/embed.bin', 'object', 'insertAdjacentHTML'], ['/el/font.woff2', 'preload', 'appendChild'],
    ['/el/audio.ogg', 'media', 'Audio'], ['/el/svg.png', 'img', 'setAttributeNS'],
    ['/el/frame.html', 'frame', 'appendChild'], ['/el/contextual.js', 'script', 'appendChild'],
  ];
  for (const [u, channel, path] of expect) {
    const o = one(obs, (x) => x.url === server.origin + u, u);
    assertObs(o, { channel, path, realm: 'top', method: 'GET' }, url);
  }
  assert.equal(one(obs, (x) => x.url.endsWith('/el/font.woff2'), 'preload').as, 'font');
  assert.equal(one(obs, (x) => x.url.endsWith('/el/frame.html'), 'frame').sandbox, 'allow-scripts');
  assert.equal(one(obs, (x) => x.url.endsWith('/el/append.js'), 'tag').tag, 'script');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('CSS: <style> text, textContent changes, CSSOM, style attribute, FontFace', async () => {
  const { page, context } = await openPage();
  const { url } = await runScript(page, server, `
    const st = document.createElement('style');
    st.textContent = '@import url("/css/imp.css"); @font-face { font-family: X; src: url(/css/font.woff2); } p { background: url(/css/bg.png) } /* url(/css/commented.png) */ q { background: url(data:image/png;base64,AA==) }';
    document.head.appendChild(st);
    st.textContent += ' b { background-image: url("/css/changed.png") }';
    st.sheet.insertRule('i { background: url(/css/rule.png) }', st.sheet.cssRules.length);
    const sheet = new CSSStyleSheet(); sheet.replaceSync('u { background: url(/css/constructed.png) }');
    const d = document.createElement('div'); document.body.appendChild(d);
    d.setAttribute('style', 'background-image: url(/css/attr.png)');
    d.style.setProperty('border-image', 'url(/css/prop.png) 30');
    new FontFace('Y', 'url(/css/fontface.woff2)');
  `);
  const obs = await observations(page);
  const expect = [
    ['/css/imp.css', 'css-import', 'appendChild'], ['/css/font.woff2', 'font-face', 'appendChild'],
    ['/css/bg.png', 'css-url', 'appendChild'], ['/css/changed.png', 'css-url', 'textContent'],
    ['/css/rule.png', 'css-url', 'CSSStyleSheet.insertRule'], ['/css/constructed.png', 'css-url', 'CSSStyleSheet.replaceSync'],
    ['/css/attr.png', 'css-url', 'setAttribute'], ['/css/prop.png', 'css-url', 'style.setProperty'],
    ['/css/fontface.woff2', 'font-face', 'FontFace'],
  ];
  for (const [u, channel, path] of expect) {
    assertObs(one(obs, (x) => x.url === server.origin + u, u), { channel, path, enforceable: false }, url);
  }
  assert.equal(obs.filter((o) => o.url && (o.url.includes('commented') || o.url.startsWith('data:'))).length, 0);
  await context.close();
});

// blob: documents, as a gadget meets them: the bootstrap starts after the page (a script tag,
// not an init script, so no copy of it runs inside the frame). Loaded into a frame that
// already showed a document, a blob document gets a new window and its inline scripts run
// before the parent could hook it; the hand-over script the bootstrap puts into HTML blobs
// hooks it first, and leaves the document as it would have been.
const BLOB_CASES = `
  const docs = {
    text: '<!doctype html><!-- c --><html lang="de"><head><meta charset="utf-8"><title>t</title></head>' +
      '<body><p>ä</p><script>window.done = fetch(location.origin + "/blob/inline-text").then(() => "ok")<\/script></body></html>',
    bytes: '\ufeff<!DOCTYPE html><script>window.done = fetch(location.origin + "/blob/inline-bytes").then(() => "ok")<\/script><p>x</p>',
    bare: '<script>window.done = fetch(location.origin + "/blob/inline-bare").then(() => "ok")<\/script>',
  };
  const out = {};
  for (const [name, html] of Object.entries(docs)) {
    const part = name === 'bytes' ? new TextEncoder().encode(html) : html;
    const blob = name === 'bare' ? new File([part], 'x.html', { type: 'text/html;charset=utf-8' }) : new Blob([part], { type: 'text/html' });
    // A frame that already shows a document: the blob document gets a new window (the
    // initial about:blank's window is reused, and so stays hooked; this one is not).
    const f = document.createElement('iframe');
    f.src = '/index.html';
    await new Promise((r) => { f.onload = r; document.body.appendChild(f); });
    f.src = URL.createObjectURL(blob);
    await new Promise((r) => { f.onload = r; });
    const d = f.contentDocument;
    out[name] = { answered: await f.contentWindow.done, mode: d.compatMode, charset: d.characterSet,
      html: d.documentElement.outerHTML, scripts: d.scripts.length };
  }
  // Not HTML: untouched, byte for byte.
  const plain = '<script>fetch("/blob/plain")<\/script>';
  out.plain = await (await fetch(URL.createObjectURL(new Blob([plain], { type: 'text/plain' })))).text() === plain;
  return out;
`;

test('blob: documents: their inline scripts are hooked from the first one, the document unchanged', async () => {
  const results = {};
  for (const withAuditor of [false, true]) {
    const { page, context } = await openPage({ bootstrap: false });
    if (withAuditor) await page.addScriptTag({ content: BOOTSTRAP + RECORDING_SINK });
    const { result, url } = await runScript(page, server, BLOB_CASES);
    results[withAuditor] = result;
    if (withAuditor) {
      await sleep(100);
      const obs = await observations(page);
      for (const name of ['text', 'bytes', 'bare']) {
        const o = one(obs, (x) => x.url.endsWith('/blob/inline-' + name), `${name} blob's inline fetch`);
        assert.equal(o.channel, 'fetch');
        assert.equal(o.realm, 'iframe');
        assert.ok(!o.stack.includes(url), 'the stack is the blob document\'s own script');
      }
      assert.deepEqual(page.errors, []);
    }
    await context.close();
  }
  // The same document with and without the auditor: mode, encoding, DOM, scripts, answers.
  assert.deepEqual(results[true], results[false]);
  assert.equal(results[true].text.mode, 'CSS1Compat');
  assert.equal(results[true].text.charset, 'UTF-8');
  assert.equal(results[true].bare.mode, 'BackCompat');
  assert.equal(results[true].plain, true);
});

test('same-origin iframes: fresh about:blank realm, srcdoc, foreign-realm Node.prototype methods', async () => {
  const { page, context } = await openPage();
  const { url } = await runScript(page, server, `
    const f = document.createElement('iframe');
    document.body.appendChild(f);
    // Taking fetch from a fresh realm must not escape.
    const freshFetch = f.contentWindow.fetch;
    await freshFetch('/frame/fresh');
    await f.contentWindow.XMLHttpRequest && new Promise((res) => { const x = new f.contentWindow.XMLHttpRequest(); x.open('GET', '/frame/xhr'); x.onloadend = res; x.send(); });
    // A foreign realm's appendChild used on this document's nodes.
    const foreignAppend = f.contentWindow.Node.prototype.appendChild;
    const s = document.createElement('script'); s.src = '/frame/foreign-append.js';
    foreignAppend.call(document.head, s);
    // srcdoc: the realm is the reused initial about:blank window, hooked at insertion.
    const g = document.createElement('iframe');
    g.srcdoc = '<script>fetch("/frame/srcdoc-inline")<\\/script>';
    document.body.appendChild(g);
    await new Promise((r) => g.onload = r);
    await new Promise((r) => setTimeout(r, 200));
    // window[0] / frames[] access of an inserted frame is covered since insertion hooked it.
    await window.frames[0].fetch('/frame/frames0');
  `);
  const obs = await observations(page);
  assertObs(one(obs, (o) => o.url.endsWith('/frame/fresh'), 'fresh fetch'), { channel: 'fetch', realm: 'iframe' }, url);
  assertObs(one(obs, (o) => o.url.endsWith('/frame/xhr'), 'frame xhr'), { channel: 'xhr', realm: 'iframe' }, url);
  assertObs(one(obs, (o) => o.url.endsWith('/frame/foreign-append.js'), 'foreign append'), { channel: 'script', realm: 'top' }, url);
  const sd = one(obs, (o) => o.url.endsWith('/frame/srcdoc-inline'), 'srcdoc inline fetch');
  assert.equal(sd.realm, 'iframe');
  assertObs(one(obs, (o) => o.url.endsWith('/frame/frames0'), 'frames[0]'), { realm: 'iframe' }, url);
  // The frame carries the parent's handle. Playwright's init script also runs in the new
  // about:blank frame, synchronously inside the parent's appendChild and before the parent's
  // hook: that bootstrap copy hands the realm to the parent's instead of becoming a second
  // home (whose loader would have no core: about:blank has no host).
  const shared = await page.evaluate(() => {
    const k = Symbol.for('tpr-auditor.bootstrap');
    return [window[k].isHome(window), window[k].isHome(window[0]), window[0][k] === window[k],
      window[1][k] === window[k], Array.isArray(window[0].__obs) && window[0].__obs.length];
  });
  assert.deepEqual(shared, [true, false, true, true, 0]);
  await context.close();
});

test('workers: creation observed; blob worker requests observed with realm worker', async () => {
  const { page, context } = await openPage();
  const { url } = await runScript(page, server, `
    const src = 'fetch(' + JSON.stringify(location.origin + '/worker/inner') + ').then(() => postMessage("done"));';
    const b = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
    const w = new Worker(b);
    const msg = await new Promise((res) => { w.onmessage = (e) => res(e.data); setTimeout(() => res('timeout'), 3000); });
    const w2 = new Worker('/worker/plain.js');
    return msg;
  `);
  await sleep(200);
  const obs = await observations(page);
  const created = obs.filter((o) => o.channel === 'worker');
  assert.equal(created.length, 2);
  assertObs(created[0], { path: 'Worker', canHold: true }, url);
  assertObs(created[1], { url: server.origin + '/worker/plain.js', canHold: false }, url);
  const inner = one(obs, (o) => o.url === server.origin + '/worker/inner', 'worker fetch');
  assert.equal(inner.realm, 'worker');
  assert.equal(inner.channel, 'fetch');
  await context.close();
});

test('catch-alls: buffered PerformanceObserver and wiki CSP violations', async () => {
  const { page, context } = await openPage({ path: '/csp.html' });
  await runScript(page, server, `
    const i = new Image(); i.src = '${server.third}/csp/blocked.png';
    await new Promise((r) => { i.onerror = r; i.onload = r; });
    await fetch('/csp/allowed');
    await new Promise((r) => setTimeout(r, 300));
  `);
  const all = await page.evaluate(() => window.__obs);
  const csp = one(all, (o) => o.observedBy === 'csp', 'csp');
  assert.equal(csp.url, `${server.third}/csp/blocked.png`);
  assert.equal(csp.blockedBy, 'wiki-csp');
  assert.equal(csp.channel, 'img');
  assert.equal(csp.enforceable, false);
  const perf = all.filter((o) => o.observedBy === 'performance');
  assert.ok(perf.some((o) => o.url === server.origin + '/csp/allowed' && o.channel === 'fetch'), 'fetch seen by PerformanceObserver');
  await context.close();
  // Loads made by the page's own HTML before any script are reported too (buffered).
  const p2 = await openPage();
  await sleep(300);
  const all2 = await p2.page.evaluate(() => window.__obs);
  assert.ok(all2.some((o) => o.url === server.origin + '/parser.png'), 'parser-inserted image seen');
  await p2.context.close();
});

test('queue: observations before attach are delivered in order; holdUntilAttach holds', async () => {
  const { page, context } = await openPage({ autoAttach: false });
  const r = await page.evaluate(async () => {
    const h = window[Symbol.for('tpr-auditor.bootstrap')];
    await fetch('/queue/1'); await fetch('/queue/2');
    const before = h.stats().queued;
    h.configure({ holdUntilAttach: true });
    let settled = false;
    const p = fetch('/queue/held').then(() => { settled = true; });
    await new Promise((res) => setTimeout(res, 200));
    const settledBefore = settled;
    window.__attach();
    await p;
    return { before, settledBefore, order: window.__obs.filter((o) => o.observedBy === 'hook' && o.path !== 'mutation').map((o) => o.url.replace(location.origin, '')), stats: h.stats() };
  });
  assert.ok(r.before >= 2);
  assert.equal(r.settledBefore, false);
  assert.deepEqual(r.order, ['/queue/1', '/queue/2', '/queue/held']);
  assert.equal(r.stats.queued, 0);
  assert.equal(server.hits('/queue/held'), 1);
  await context.close();
});

test('block decisions: fetch TypeError, img error event, xhr error, beacon false, script error, websocket error+close', async () => {
  const { page, context } = await openPage();
  const { result } = await runScript(page, server, `
    window.__decide = (o) => (o.url.includes('/blocked/') ? 'block' : undefined);
    const out = {};
    try { await fetch('/blocked/fetch'); out.fetch = 'resolved'; } catch (e) { out.fetch = e.constructor.name + ': ' + e.message; }
    const img = new Image();
    out.img = await new Promise((res) => { img.onerror = () => res('error'); img.onload = () => res('load'); img.src = '/blocked/img.png'; });
    out.xhr = await new Promise((res) => { const x = new XMLHttpRequest(); x.open('GET', '/blocked/xhr'); const ev = []; x.onreadystatechange = () => ev.push('rs' + x.readyState); x.onerror = () => ev.push('error'); x.onloadend = () => res(ev.join(',') + ' status=' + x.status); x.send(); });
    out.beacon = navigator.sendBeacon('/blocked/beacon', 'x');
    const s = document.createElement('script'); s.src = '/blocked/script.js';
    out.script = await new Promise((res) => { s.onerror = () => res('error'); s.onload = () => res('load'); document.head.appendChild(s); });
    const ws = new WebSocket('ws://127.0.0.1:${server.port}/blocked/ws');
    out.wsInstance = ws instanceof WebSocket;
    out.ws = await new Promise((res) => { const ev = []; ws.onerror = () => ev.push('error'); ws.onclose = (e) => { ev.push('close:' + e.code); res(ev.join(',') + ' rs=' + ws.readyState); }; });
    const es = new EventSource('/blocked/es');
    out.es = await new Promise((res) => { es.onerror = () => res('error rs=' + es.readyState); });
    const w = new Worker('/blocked/worker.js');
    out.worker = await new Promise((res) => { w.onerror = () => res('error'); setTimeout(() => res('no-error'), 2000); });
    const box = document.createElement('div'); document.body.appendChild(box);
    box.innerHTML = '<img id="bi" src="/blocked/inner.png"><img id="ok" src="/fine/inner.png">';
    out.innerAttr = box.querySelector('#bi').getAttribute('src');
    out.innerOk = box.querySelector('#ok').getAttribute('src');
    await new Promise((r) => setTimeout(r, 300));
    return out;
  `);
  assert.equal(result.fetch, 'TypeError: Failed to fetch');
  assert.equal(result.img, 'error');
  assert.equal(result.xhr, 'rs4,error status=0');
  assert.equal(result.beacon, false);
  assert.equal(result.script, 'error');
  assert.equal(result.wsInstance, true);
  assert.equal(result.ws, 'error,close:1006 rs=3');
  assert.equal(result.es, 'error rs=2');
  assert.equal(result.worker, 'error');
  assert.equal(result.innerAttr, null);
  assert.equal(result.innerOk, '/fine/inner.png');
  assert.equal(server.hits('/blocked/'), 0, 'no blocked request reached the server: ' + server.log.filter((l) => l.includes('/blocked/')));
  assert.equal(server.hits('/fine/inner.png'), 1);
  await context.close();
});

test('hold then proceed: fetch, xhr, img, script, websocket', async () => {
  const { page, context } = await openPage();
  const { result } = await runScript(page, server, `
    const gates = [];
    window.__decide = (o) => (o.url.includes('/held/') ? new Promise((res) => gates.push({ url: o.url, res })) : undefined);
    let fetched = false;
    const p = fetch('/held/fetch').then((r) => r.text()).then((t) => { fetched = t; });
    let xhrDone = false;
    const x = new XMLHttpRequest(); x.open('GET', '/held/xhr'); x.onload = () => { xhrDone = x.responseText; }; x.send();
    const img = document.createElement('img');
    const imgLoaded = new Promise((res) => { img.onload = () => res('load'); img.onerror = () => res('error'); });
    img.src = '/held/img.png';
    const s = document.createElement('script'); s.src = '/held/script.js';
    const scriptLoaded = new Promise((res) => { s.onload = () => res('load'); s.onerror = () => res('error'); });
    document.head.appendChild(s);
    await new Promise((r) => setTimeout(r, 300));
    const during = { fetched, xhrDone, gates: gates.length, imgAttr: img.getAttribute('src'), scriptAttr: s.getAttribute('src') };
    gates.forEach((g) => g.res('proceed'));
    await p;
    await new Promise((r) => setTimeout(r, 300));
    return { during, fetched, xhrDone, img: await imgLoaded, script: await scriptLoaded, loaded: window.__loaded };
  `);
  assert.deepEqual(result.during, { fetched: false, xhrDone: false, gates: 4, imgAttr: null, scriptAttr: null });
  assert.equal(result.fetched, 'ok');
  assert.equal(result.xhrDone, 'ok');
  assert.equal(result.img, 'load');
  assert.equal(result.script, 'load');
  assert.deepEqual(result.loaded, ['/held/script.js']);
  assert.equal(server.hits('/held/fetch'), 1);
  await context.close();
});

test('hold then proceed: WebSocket facade connects, blob Worker runs with buffered messages', async () => {
  const { page, context } = await openPage();
  const { result } = await runScript(page, server, `
    const gates = [];
    window.__decide = (o) => (o.url.includes('/held') || o.channel === 'worker' ? new Promise((res) => gates.push(res)) : undefined);
    const ws = new WebSocket('ws://127.0.0.1:${server.port}/held-ws');
    const during = { rs: ws.readyState, url: ws.url, inst: ws instanceof WebSocket, tag: Object.prototype.toString.call(ws) };
    let sendError = null;
    try { ws.send('x'); } catch (e) { sendError = e.name; }
    const got = new Promise((res) => { const ev = []; ws.onopen = () => ev.push('open:' + ws.readyState); ws.addEventListener('message', (e) => { ev.push('message:' + e.data); res(ev); }); });
    const src = 'onmessage = (e) => postMessage("echo:" + e.data);';
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    w.postMessage('early');
    const echo = new Promise((res) => { w.onmessage = (e) => res(e.data); });
    await new Promise((r) => setTimeout(r, 200));
    const hitsBefore = gates.length;
    gates.forEach((g) => g('proceed'));
    return { during, sendError, hitsBefore, events: await got, echo: await echo, rsAfter: ws.readyState };
  `);
  assert.deepEqual(result.during, { rs: 0, url: `ws://127.0.0.1:${server.port}/held-ws`, inst: true, tag: '[object WebSocket]' });
  assert.equal(result.sendError, 'InvalidStateError');
  assert.equal(result.hitsBefore, 2);
  assert.deepEqual(result.events, ['open:1', 'message:hello']);
  assert.equal(result.echo, 'echo:early');
  assert.equal(result.rsAfter, 1);
  await context.close();
});

test('internal error inside a hook: reported, and the page call still completes (audit)', async () => {
  const { page, context } = await openPage();
  const { result } = await runScript(page, server, `
    const h = window[Symbol.for('tpr-auditor.bootstrap')];
    h.injectFault('fetch');
    const text = await (await fetch('/fault/fetch')).text();
    h.injectFault('element');
    const img = new Image();
    const loaded = await new Promise((res) => { img.onload = () => res('load'); img.onerror = () => res('error'); img.src = '/fault/img.png'; });
    // a sink that throws is an internal error too, and fails open by default
    window.__decide = () => { throw new Error('sink boom'); };
    const t2 = await (await fetch('/fault/sink')).text();
    window.__decide = null;
    // failClosed: the next internal error blocks
    h.configure({ failClosed: true });
    h.injectFault('fetch');
    let closed;
    try { await fetch('/fault/closed'); closed = 'resolved'; } catch (e) { closed = e.message; }
    h.configure({ failClosed: false });
    return { text, loaded, t2, closed, errors: h.stats().internalErrors };
  `);
  assert.equal(result.text, 'ok');
  assert.equal(result.loaded, 'load');
  assert.equal(result.t2, 'ok');
  assert.equal(result.closed, 'Failed to fetch');
  assert.ok(result.errors >= 4);
  const errs = (await page.evaluate(() => window.__obs)).filter((o) => o.kind === 'internal-error');
  assert.ok(errs.some((e) => e.where === 'fetch' && /injected fault/.test(e.message)));
  assert.ok(errs.some((e) => e.where.startsWith('element:')));
  assert.ok(errs.some((e) => e.where === 'sink' && e.message === 'sink boom'));
  assert.equal(server.hits('/fault/closed'), 0);
  await context.close();
});

test('native exceptions of hooked setters reach the page once and are not internal errors', async () => {
  const { page, context } = await openPage();
  const { result } = await runScript(page, server, `
    const srcSet = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src').set;
    const err = (f) => { try { f(); return 'ok'; } catch (e) { return e.name + ': ' + e.message; } };
    return [err(() => srcSet.call(document.body, '/wrong/body.png')), err(() => srcSet.call({}, '/wrong/obj.png')),
      err(() => Element.prototype.setAttribute.call({}, 'src', '/wrong/attr.png'))];
  `);
  assert.ok(result.every((r) => /^TypeError/.test(r)), JSON.stringify(result));
  const obs = await observations(page);
  assert.deepEqual(obs.filter((o) => o.kind === 'internal-error').map((o) => o.where), []);
  assert.equal(obs.filter((o) => /\/wrong\//.test(o.url || '')).length, 0);
  await context.close();
});

test('domEval tagging: inline script inserted while a ResourceLoader module executes', async () => {
  const { page, context } = await openPage();
  // As in MediaWiki 1.39: execute() marks a module 'executing' before its CSS is added on the
  // next animation frame, so a styles-only module (script null) registered after 'site', and a
  // module with a function script waiting for its CSS, are 'executing' too while site's string
  // script runs through domEval; 'user' waits (executing) for 'site'.
  const { result } = await runScript(page, server, `
    const siteCode = 'window.__stackSite = new Error().stack;';
    const userCode = 'window.__stackUser = new Error().stack;';
    window.mw = { loader: { moduleRegistry: {
      'jquery': { state: 'ready', script: function () {} },
      'site': { state: 'executing', script: siteCode },
      'user': { state: 'executing', script: userCode },
      'jquery.spinner.styles': { state: 'executing', script: null },
      'ext.gadget.Styled': { state: 'executing', script: function () {} },
      'ext.gadget.Later': { state: 'registered' },
    } } };
    const reg = mw.loader.moduleRegistry;
    function domEval(code) { const s = document.createElement('script'); s.text = code; document.head.appendChild(s); s.parentNode.removeChild(s); }
    domEval(siteCode);
    reg.site.state = 'ready';
    domEval(userCode);
    reg.user.state = 'ready';
    // A store replay from an idle callback while a module waits for its CSS: a batch.
    domEval('if (0) mw.loader.implement("x@1"); window.__stackNone = new Error().stack;');
    // Code inserted by a running function-script module: that module.
    domEval('window.__stackStyled = new Error().stack;');
    reg['ext.gadget.Styled'].state = 'ready';
    domEval('window.__stackPlain = new Error().stack;');
    const h = window[Symbol.for('tpr-auditor.bootstrap')];
    return { site: window.__stackSite, user: window.__stackUser, batch: window.__stackNone, styled: window.__stackStyled,
      plain: window.__stackPlain, nonce: h.nonce, src: h.inlineSource('mw-module://site?tpr=' + h.nonce) };
  `);
  assert.ok(result.site.includes(`mw-module://site?tpr=${result.nonce}`), result.site);
  assert.ok(result.user.includes(`mw-module://user?tpr=${result.nonce}`), result.user);
  assert.ok(result.batch.includes(`mw-batch://1?tpr=${result.nonce}`), result.batch);
  assert.ok(result.styled.includes(`mw-module://ext.gadget.Styled?tpr=${result.nonce}`), result.styled);
  assert.ok(!result.plain.includes('tpr='), result.plain);
  assert.equal(result.src, 'window.__stackSite = new Error().stack;');
  await context.close();
});

// The same odd-but-legal calls with and without the bootstrap must give identical results.
const ODD_CALLS = `
  const out = {};
  const err = async (f) => { try { await f(); return 'ok'; } catch (e) { return e.constructor.name + ': ' + e.message; } };
  out.fetchNoArgs = await err(() => fetch());
  out.fetchBadUrl = await err(() => fetch('http://[bad'));
  out.fetchSymbol = await err(() => fetch(Symbol('x')));
  out.fetchUsedRequest = await err(async () => { const r = new Request('/odd/r', { method: 'POST', body: 'x' }); await r.text(); return fetch(r); });
  out.fetchRequestBody = await (await fetch(new Request('/odd/rb', { method: 'POST', body: 'body' }))).text();
  out.fetchUrlObject = await (await fetch(new URL('/odd/u', location.href))).text();
  out.wsBad = await err(() => new WebSocket('ftp://x'));
  out.wsFragment = await err(() => new WebSocket('ws://127.0.0.1:1/#frag'));
  out.wsNoNew = await err(() => WebSocket('ws://x'));
  out.esNoArgs = await err(() => new EventSource());
  out.beaconNoArgs = await err(() => navigator.sendBeacon());
  out.xhrBadMethod = await err(() => { const x = new XMLHttpRequest(); x.open('BAD METHOD', '/odd'); });
  out.xhrSendUnopened = await err(() => new XMLHttpRequest().send());
  out.xhrSync = (() => { const x = new XMLHttpRequest(); x.open('GET', '/odd/sync', false); x.send(); return x.status + ' ' + x.responseText; })();
  class MyXHR extends XMLHttpRequest { constructor() { super(); this.tag = 'mine'; } }
  const mx = new MyXHR();
  out.xhrSubclass = [mx instanceof XMLHttpRequest, mx instanceof MyXHR, mx.tag, Object.getPrototypeOf(mx) === MyXHR.prototype];
  out.xhrSubclassLoad = await new Promise((res) => { mx.open('GET', '/odd/sub'); mx.onload = () => res(mx.responseText); mx.send(); });
  class MyWS extends WebSocket { hello() { return 'hi'; } }
  const ws = new MyWS('ws://127.0.0.1:1/');
  out.wsSubclass = [ws instanceof WebSocket, ws instanceof MyWS, ws.hello(), ws.url, WebSocket.OPEN, ws.constructor === MyWS, new WebSocket('ws://127.0.0.1:1/').constructor === WebSocket];
  ws.close();
  out.imageCtor = [new Image() instanceof HTMLImageElement, new Image(2, 3).width, typeof Image, new Audio() instanceof HTMLAudioElement];
  out.names = [fetch.name, fetch.length, XMLHttpRequest.prototype.open.name, XMLHttpRequest.prototype.open.length,
    WebSocket.name, WebSocket.length, Node.prototype.appendChild.name, Node.prototype.appendChild.length,
    Object.getOwnPropertyDescriptor(HTMLScriptElement.prototype, 'src').set.name, Function.prototype.toString.name];
  out.toStrings = [String(fetch), String(WebSocket), Function.prototype.toString.call(Node.prototype.appendChild),
    String(Object.getOwnPropertyDescriptor(Element.prototype, 'innerHTML').set), String(Function.prototype.toString)];
  const desc = (o, k) => { const d = Object.getOwnPropertyDescriptor(o, k); return [d.enumerable, d.configurable, 'writable' in d ? d.writable : 'accessor']; };
  out.descriptors = [desc(window, 'fetch'), desc(window, 'WebSocket'), desc(Node.prototype, 'appendChild'),
    desc(HTMLImageElement.prototype, 'src'), desc(Element.prototype, 'innerHTML'), desc(WebSocket, 'prototype'), desc(WebSocket.prototype, 'constructor')];
  out.notConstructible = await err(() => new fetch('/x'));
  out.hasPrototype = ['prototype' in fetch, 'prototype' in Node.prototype.appendChild];
  // appendChild of a fragment containing a script
  const frag = document.createDocumentFragment();
  const s = document.createElement('script'); s.textContent = 'window.__fragRan = (window.__fragRan || 0) + 1;';
  frag.appendChild(s);
  const ret = document.body.appendChild(frag);
  out.fragment = [ret === frag, frag.childNodes.length, window.__fragRan];
  out.appendErrors = [await err(() => document.body.appendChild('x')), await err(() => document.appendChild(document.createElement('p'))),
    await err(() => Node.prototype.appendChild.call({}, document.createElement('p')))];
  // foreign nodes via .call
  const f = document.createElement('iframe'); document.body.appendChild(f);
  const fdoc = f.contentDocument;
  const foreign = fdoc.createElement('img'); foreign.src = '/odd/foreign.png';
  Node.prototype.appendChild.call(document.body, foreign);
  out.foreign = [foreign.ownerDocument === document, foreign.isConnected];
  const fp = fdoc.createElement('p');
  Node.prototype.appendChild.call(fdoc.body, fp);
  Element.prototype.append.call(fdoc.body, 'text');
  out.foreignCall = [fp.parentNode === fdoc.body, fdoc.body.textContent];
  out.innerHTMLTable = (() => { const t = document.createElement('table'); t.innerHTML = '<tr><td><img src="/odd/t.png">x</td></tr>'; return t.innerHTML; })();
  out.insertAdjacentBad = await err(() => document.body.insertAdjacentHTML('nowhere', '<img src="/odd/y.png">'));
  out.setAttrErrors = [await err(() => document.body.setAttribute('1bad', 'x')), await err(() => document.body.setAttribute())];
  out.srcReflect = (() => { const i = document.createElement('img'); i.src = 'rel.png'; return [i.src, i.getAttribute('src')]; })();
  out.writeDuringParse = window.__written;
  out.cloned = (() => { const i = document.createElement('img'); i.src = '/odd/clone.png'; const c = i.cloneNode(); return c.getAttribute('src'); })();
  return out;
`;

test('differential: odd calls behave identically with and without the bootstrap', async () => {
  server.pages.set('/odd.html', '<!doctype html><html><head><script>document.write("<p id=w>written</p><img src=/odd/written.png>"); window.__written = document.getElementById("w") && document.getElementById("w").textContent;</script></head><body></body></html>');
  const results = [];
  for (const bootstrap of [false, true]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    if (bootstrap) await page.addInitScript({ content: BOOTSTRAP + RECORDING_SINK });
    await page.goto(server.origin + '/odd.html');
    if (!bootstrap) await page.evaluate(() => { window.__obs = []; });
    const { result } = await runScript(page, server, ODD_CALLS);
    results.push({ result, errors, internal: bootstrap ? await page.evaluate(() => window.__obs.filter((o) => o.kind === 'internal-error')) : [] });
    await context.close();
  }
  const [plain, audited] = results;
  for (const key of Object.keys(plain.result)) {
    assert.deepEqual(audited.result[key], plain.result[key], `differs at ${key}`);
  }
  assert.deepEqual(audited.errors, plain.errors);
  assert.deepEqual(audited.internal, [], 'no internal errors for legal odd calls');
});
