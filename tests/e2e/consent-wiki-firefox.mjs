#!/usr/bin/env node
// Issue 5 item 6 (`ask` mode) on the REAL MediaWiki harness in headless Firefox ESR, the
// Firefox half of tests/e2e/consent-wiki.mjs's item 6.
//
//   flock /tmp/tpr-wiki.lock node tests/e2e/consent-wiki-firefox.mjs   (after scripts/build.sh)
//
// Wiki instance as consent-wiki.mjs: TPR_MW_DIR (default /tmp/tpr-mw-consent), TPR_MW_PORT
// (8108), TPR_FAKE_PORT (8109); tests/mediawiki/setup.sh + start.sh when it is not answering,
// stop.sh at the end only if this test started it.
//
// Injection: dist/tpr-auditor.js itself, unchanged, at document start of every document, through
// WebDriver BiDi `script.addPreloadScript` (geckodriver, capability webSocketUrl) — Firefox's
// equivalent of Playwright's `addInitScript` that consent-wiki.mjs uses in Chromium. The script
// runs in the page's own realm before any page script, as the extension's content script at
// document_start does. (Not the temporary add-on: that is the `extension` packaging with its own
// storage and prompt path, tested by extension-firefox-mediawiki.mjs; not the gadget: a gadget
// starts after ResourceLoader, so whether it hooks consent-a's fetch in time is a race.)
//
// Mode: the page's own API — logged in as Admin (the harness enables every gadget for it), the
// auditor's storage is the user's preferences; `tprAuditor.setMode('ask')` on a blank page is
// written to `userjs-tpr-auditor` (checked through the API), and the next page load runs `ask`
// from that stored list. The option is reset before each scenario and at the end.
//
//   item 6 [production | debug]  consent-a's fetch of http://api.thirdparty.test/api/consent
//     stays pending (page promise unresolved, event decision `pending`, nothing reached the fake
//     host); consent-b's identical fetch is held as its own event; answer(a, 'source') lets
//     consent-a's fetch and its next one (/api/consent-next) through (the fake host saw each
//     once), under a rule scoped gadget:consent-a, while consent-b's stays held; answer(b,
//     'block') makes consent-b's promise reject with a TypeError, its event blocked by consent,
//     and the fake host never saw it.
//   holds [XHR, img]  a page script (inline, on the same page, ask mode) opens two XHRs and two
//     images to unconsented third parties: all four stay pending (XHR readyState 1, no image
//     load/error, nothing reached the host); answer 'once' → the XHR fires `load` with 200 and
//     the image `load` (the host saw them); answer 'block' → the XHR fires `error` with status
//     0 and the image `error` (the host never saw them).
//
// Prints "ok"/"FAIL" per check and ends with "N passed, N failed"; exit status 1 on any FAIL.
// env: TPR_BUNDLE (default dist/tpr-auditor.js), FIREFOX, GECKODRIVER, TPR_MW_KEEP=1,
//      CONSENT_FF_SCENARIOS=production,debug (a subset), CONSENT_FF_DEBUG=1 (dumps item 6's events).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.TPR_MW_DIR ||= '/tmp/tpr-mw-consent';
process.env.TPR_MW_PORT ||= '8108';
process.env.TPR_FAKE_PORT ||= '8109';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = process.env.TPR_BUNDLE || path.join(ROOT, 'dist/tpr-auditor.js');
const KEY = 'userjs-tpr-auditor';
const BROKEN_KEY = 'userjs-tpr-auditor-broken';
const T0 = Date.now();

// harness.mjs reads TPR_MW_DIR at import time: import it after the defaults above.
const { HARNESS_DIR, STATE_DIR, readConfig, wikiUp, runHarnessScript } = await import('../mediawiki/lib/harness.mjs');
const { startBrowser } = await import('./lib/webdriver.mjs');
const { checks, sleep } = await import('./lib/checks.mjs');
const { check, tally } = checks();
const short = (v) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s && s.length > 500 ? `${s.slice(0, 500)}...` : s;
};

const runScript = runHarnessScript;

// --- a minimal WebDriver BiDi client (one command at a time is all this test needs) -------------
async function bidiConnect(url) {
  const WS = globalThis.WebSocket || (await import('playwright-core/lib/utilsBundle')).ws;
  const sock = new WS(url);
  await new Promise((resolve, reject) => {
    sock.onopen = () => resolve();
    sock.onerror = (e) => reject(new Error(`BiDi websocket ${url}: ${e && (e.message || e.type)}`));
  });
  let next = 1;
  const waiting = new Map();
  sock.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(String(ev.data)); } catch { return; }
    const w = msg.id && waiting.get(msg.id);
    if (!w) return; // events: not subscribed to any
    waiting.delete(msg.id);
    if (msg.type === 'success') w.resolve(msg.result);
    else w.reject(new Error(`BiDi ${w.method}: ${msg.error}: ${msg.message}`));
  };
  return {
    send(method, params) {
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject, method });
        sock.send(JSON.stringify({ id, method, params }));
      });
    },
    close() { try { sock.close(); } catch { /* gone */ } },
  };
}

let startedWiki = false;
let wd = null;
let bidi = null;
let cleanup = null;
const watchdog = setTimeout(() => { console.log('FAIL watchdog: not finished in 300 s'); finish(1); }, 300000);
watchdog.unref();
async function finish(code) {
  if (cleanup) { const c = cleanup; cleanup = null; try { await c(); } catch (e) { console.log(`NOTE cleanup: ${e.message}`); } }
  if (bidi) { bidi.close(); bidi = null; }
  if (wd) { const w = wd; wd = null; await w.quit(); }
  if (startedWiki && !process.env.TPR_MW_KEEP) {
    startedWiki = false;
    try { runScript('stop.sh'); } catch (e) { console.log(String(e.message)); }
  }
  console.log(`consent on MediaWiki (Firefox) in ${((Date.now() - T0) / 1000).toFixed(1)} s`);
  console.log(`${tally.passed} passed, ${tally.failed + (code && !tally.failed ? 1 : 0)} failed`);
  process.exit(code || tally.failed ? 1 : 0);
}

// Page-side helpers, run through WebDriver (scripts get their arguments, then `done`).
/** Polls `cond` (an expression over `window`, as a function body) in the page until truthy or
 *  `ms`; resolves to `what` (another function body) evaluated then, JSON-cloned. */
function pollPage(cond, what, ms = 10000, args = []) {
  return wd.executeAsync(`const done = arguments[arguments.length - 1];
    const args = Array.prototype.slice.call(arguments, 0, -1);
    const cond = new Function('args', ${JSON.stringify(cond)});
    const what = new Function('args', ${JSON.stringify(what)});
    const end = Date.now() + ${ms};
    (function poll() {
      let ok = false;
      try { ok = !!cond(args); } catch (e) { ok = false; }
      if (ok || Date.now() > end) {
        let v;
        try { v = JSON.parse(JSON.stringify(what(args))); } catch (e) { v = { thrown: String(e) }; }
        done(v);
      } else setTimeout(poll, 100);
    })();`, args);
}
/** Runs `body` (a function body returning a value or a Promise) in the page; resolves to
 *  `{ value }` or `{ error }`. */
function inPage(body, args = []) {
  return wd.executeAsync(`const done = arguments[arguments.length - 1];
    const args = Array.prototype.slice.call(arguments, 0, -1);
    Promise.resolve().then(() => new Function('args', ${JSON.stringify(body)})(args))
      .then((v) => done({ value: v === undefined ? null : JSON.parse(JSON.stringify(v)) }),
        (e) => done({ error: String(e && e.message || e) }));`, args);
}

try {
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} missing: run scripts/build.sh`);
  if (!(await wikiUp())) {
    runScript('setup.sh');
    startedWiki = true;
    runScript('start.sh');
  }
  check('the harness wiki and its fake hosts answer', await wikiUp());
  const { env } = readConfig();
  const API = `${env.wikiUrl}/api.php`;
  const FAKE = `http://127.0.0.1:${env.fakePort}`;
  const MAIN = `${env.wikiUrl}/index.php?title=Main_Page`;
  const BLANK = `${env.wikiUrl}/index.php?title=Special:BlankPage`;
  const fakeLog = async (clear = false) => (await fetch(`${FAKE}/__log${clear ? '?clear=1' : ''}`)).json();

  wd = await startBrowser('firefox', {
    extra: { webSocketUrl: true },
    prefs: {
      // Every name resolves to 127.0.0.1: the fake hosts (*.test) reach fake-hosts.py.
      'network.dns.forceResolve': '127.0.0.1', 'network.proxy.type': 0, 'network.proxy.allow_hijacking_localhost': false,
      'dom.security.https_first': false,
    },
  });
  await wd.setTimeouts({ script: 60000, pageLoad: 60000 });
  const wsUrl = wd.capabilities && wd.capabilities.webSocketUrl;
  check('geckodriver offers a WebDriver BiDi connection', typeof wsUrl === 'string', wd.capabilities);
  bidi = await bidiConnect(wsUrl);
  const bundle = fs.readFileSync(BUNDLE, 'utf8');
  // Indirect eval: the bundle runs as a classic script in the page's global scope.
  const preload = await bidi.send('script.addPreloadScript', {
    functionDeclaration: `() => { (0, eval)(${JSON.stringify(bundle)}); }`,
  });
  check('dist/tpr-auditor.js registered as a preload script (document start)', preload && preload.script, preload);

  // Logged in as Admin through the wiki's API from the page (cookies land in the browser).
  await wd.navigate(BLANK);
  const first = await pollPage('return window.tprAuditor && window.tprAuditor.status === "running";',
    'return { status: window.tprAuditor ? window.tprAuditor.status : "absent", packaging: window.tprAuditor && window.tprAuditor.report().packaging };');
  check('the auditor runs on the wiki (injected at document start)', first.status === 'running', first);
  const login = await inPage(`const api = args[0];
    return fetch(api + '?action=query&meta=tokens&type=login&format=json', { credentials: 'same-origin' }).then((r) => r.json())
      .then((t) => fetch(api, { method: 'POST', credentials: 'same-origin', body: new URLSearchParams({
        action: 'clientlogin', format: 'json', username: args[1], password: args[2],
        logintoken: t.query.tokens.logintoken, loginreturnurl: args[3] }) }))
      .then((r) => r.json()).then((b) => b.clientlogin && b.clientlogin.status);`,
  [API, env.adminUser, env.adminPass, `${env.wikiUrl}/`]);
  check('logged in as the harness admin', login.value === 'PASS', login);

  const OPTIONS_JS = `const api = args[0];
    const token = () => fetch(api + '?action=query&meta=tokens&format=json', { credentials: 'same-origin' })
      .then((r) => r.json()).then((j) => j.query.tokens.csrftoken);
    const reset = (name) => token().then((t) => fetch(api, { method: 'POST', credentials: 'same-origin',
      body: new URLSearchParams({ action: 'options', format: 'json', token: t, change: name }) })).then((r) => r.json());
    const read = () => fetch(api + '?action=query&meta=userinfo&uiprop=options&format=json&formatversion=2',
      { credentials: 'same-origin' }).then((r) => r.json()).then((j) => j.query.userinfo.options || {});`;
  const resetOptions = () => inPage(`${OPTIONS_JS}
    return reset(args[1]).then((a) => reset(args[2]).then((b) => [a.options, b.options]));`, [API, KEY, BROKEN_KEY]);
  const readOption = () => inPage(`${OPTIONS_JS} return read().then((o) => o[args[1]] || null);`, [API, KEY]);
  cleanup = async () => { if (wd) await wd.navigate(BLANK); await resetOptions(); };

  const target = `http://api.thirdparty.test:${env.fakePort}`;
  const url1 = `${target}/api/consent`;
  const url2 = `${target}/api/consent-next`;
  const fakeHost = `api.thirdparty.test:${env.fakePort}`;
  const EVENTS = `return window.tprAuditor.report().events.filter((e) => e.url === args[0])
    .map((e) => ({ id: e.id, source: e.source.kind + ' ' + e.source.name, name: e.source.name, decision: e.decision,
      verdict: e.verdict, blockedBy: e.blockedBy, rule: e.rule, count: e.count, channel: e.channel }));`;
  const eventsOf = async (u) => (await inPage(EVENTS, [u])).value || [];

  for (const scenario of (process.env.CONSENT_FF_SCENARIOS || 'production,debug').split(',').map((x) => x.trim())) {
    const tag = `item 6 [${scenario}]`;
    console.log(`\n== ${tag}: ask mode, consent-a and consent-b fetch ${url1}`);
    // Mode `ask` through the page API, persisted to the user's preferences, then a new page.
    await wd.navigate(BLANK);
    const reset = await resetOptions();
    check(`${tag}: the stored consent reset through the API`, reset.value && reset.value.every((x) => x === 'success'), reset);
    await wd.navigate(BLANK);
    const store = await pollPage('return window.tprAuditor && window.tprAuditor.consent.storage() !== "pending";',
      'return window.tprAuditor.consent.storage();');
    check(`${tag}: logged in, consent lives in the user's preferences`, store === 'user-options', store);
    const set = await inPage('window.tprAuditor.setMode("ask"); return window.tprAuditor.mode();');
    check(`${tag}: setMode('ask') on a blank page`, set.value === 'ask', set);
    let stored = null;
    for (let end = Date.now() + 15000; Date.now() < end; await sleep(250)) {
      stored = (await readOption()).value;
      if (stored && /"mode"\s*:\s*"ask"/.test(stored)) break;
    }
    check(`${tag}: mode ask written to ${KEY} (read back through the API)`, !!stored && JSON.parse(stored).mode === 'ask', stored);

    await fakeLog(true);
    await wd.navigate(`${MAIN}&tprconsent=ask${scenario === 'debug' ? '&debug=1' : ''}`);
    const mode = await pollPage('return window.tprAuditor && window.tprAuditor.consent.storage() !== "pending";',
      'return { mode: window.tprAuditor.mode(), storage: window.tprAuditor.consent.storage() };');
    check(`${tag}: after the reload the auditor runs ask (from the stored list)`, mode.mode === 'ask' && mode.storage === 'user-options', mode);
    // Both gadgets ran and both requests are events; then the page is left alone a while.
    await pollPage(`const c = window.tprConsent || {};
      const evs = window.tprAuditor.report().events.filter((e) => e.url === args[0]);
      return c.a1 && c.b1 && evs.some((e) => e.source.name === 'consent-a') && evs.some((e) => e.source.name === 'consent-b');`,
    'return null;', 20000, [url1]);
    await inPage('return window.tprAuditor.settled();');
    await sleep(1500);
    const st0 = (await inPage('return Object.assign({}, window.tprConsent);')).value || {};
    let evs = await eventsOf(url1);
    let a = evs.filter((e) => e.name === 'consent-a');
    let b = evs.filter((e) => e.name === 'consent-b');
    check(`${tag}: consent-a's fetch held: its promise unresolved`, st0.a1 === 'pending', st0);
    check(`${tag}: consent-b's fetch held: its promise unresolved`, st0.b1 === 'pending', st0);
    check(`${tag}: one event for consent-a (gadget), decision pending, verdict ask`,
      a.length === 1 && a[0].source === 'gadget consent-a' && a[0].decision === 'pending' && a[0].verdict === 'ask', evs);
    check(`${tag}: one event for consent-b (its own), decision pending`,
      b.length === 1 && b[0].source === 'gadget consent-b' && b[0].decision === 'pending', evs);
    let hits = (await fakeLog()).filter((x) => x.host === fakeHost && x.path.startsWith('/api/consent'));
    check(`${tag}: nothing reached the third party while held`, hits.length === 0, hits);
    if (process.env.CONSENT_FF_DEBUG) {
      console.log(JSON.stringify((await inPage(`const r = window.tprAuditor.report();
        return { errors: r.errors, events: r.events.filter((e) => e.url === args[0]) };`, [url1])).value, null, 1));
    }

    // "Always for this source" on consent-a's prompt.
    const ansA = a.length ? await inPage('return window.tprAuditor.answer(args[0], "source");', [a[0].id]) : { error: 'no event' };
    check(`${tag}: answer(a, 'source') accepted`, ansA.value === true, ansA);
    const st1 = await pollPage('const c = window.tprConsent; return c.a2 && c.a2 !== "pending";',
      'return Object.assign({}, window.tprConsent);', 10000);
    await sleep(500); // consent-b's request gets every chance to go out wrongly
    const st1b = (await inPage('return Object.assign({}, window.tprConsent);')).value || {};
    check(`${tag}: consent-a's held fetch went through`, st1.a1 === 'ok', st1);
    check(`${tag}: consent-a's next request went through`, st1.a2 === 'ok', st1);
    evs = await eventsOf(url1);
    a = evs.filter((e) => e.name === 'consent-a');
    b = evs.filter((e) => e.name === 'consent-b');
    const next = await eventsOf(url2);
    check(`${tag}: consent-a's events allowed by a rule scoped gadget:consent-a`,
      a.length === 1 && a[0].decision === 'allowed' && next.length === 1 && next[0].decision === 'allowed'
      && next[0].name === 'consent-a' && next[0].rule && next[0].rule.kind === 'rule' && next[0].rule.scope === 'gadget:consent-a',
      { a, next });
    const rules = ((await inPage('return window.tprAuditor.consent.get().rules;')).value) || [];
    check(`${tag}: the answer wrote {${target}, connect-src, gadget:consent-a, allow}`,
      rules.some((r) => r.source === target && r.scope === 'gadget:consent-a' && r.decision === 'allow'
        && r.directives.includes('connect-src')), rules);
    check(`${tag}: consent-b's identical request still held`, st1b.b1 === 'pending' && b.length === 1 && b[0].decision === 'pending',
      { b1: st1b.b1, b });
    hits = (await fakeLog()).filter((x) => x.host === fakeHost && x.path.startsWith('/api/consent'));
    check(`${tag}: the third party saw /api/consent once (consent-a's) and /api/consent-next once`,
      hits.filter((x) => x.path === '/api/consent').length === 1 && hits.filter((x) => x.path === '/api/consent-next').length === 1, hits);

    // "Block" on consent-b's prompt.
    const ansB = b.length ? await inPage('return window.tprAuditor.answer(args[0], "block");', [b[0].id]) : { error: 'no event' };
    check(`${tag}: answer(b, 'block') accepted`, ansB.value === true, ansB);
    const st2 = await pollPage('return window.tprConsent.b1 !== "pending";', 'return Object.assign({}, window.tprConsent);', 10000);
    check(`${tag}: consent-b's fetch rejected with a TypeError (network-style failure)`, st2.b1 === 'error:TypeError', st2);
    b = (await eventsOf(url1)).filter((e) => e.name === 'consent-b');
    check(`${tag}: consent-b's event blocked by consent`, b.length === 1 && b[0].decision === 'blocked' && b[0].blockedBy === 'consent', b);
    await sleep(300);
    hits = (await fakeLog()).filter((x) => x.host === fakeHost && x.path === '/api/consent');
    check(`${tag}: consent-b's request never reached the third party`, hits.length === 1, hits);

    if (scenario !== 'production') continue;

    // --- XHR and element holds, same page (ask mode), from a page script --------------------
    console.log('\n== holds [XHR, img]: a page script, ask mode, answered once / block');
    const holdUrls = {
      'xhr:once': `http://xhr.thirdparty.test:${env.fakePort}/api/hold-once`,
      'xhr:block': `http://xhr.thirdparty.test:${env.fakePort}/api/hold-block`,
      'img:once': `http://img.thirdparty.test:${env.fakePort}/hold/once.png`,
      'img:block': `http://img.thirdparty.test:${env.fakePort}/hold/block.png`,
    };
    await fakeLog(true);
    const injected = await inPage(`const s = document.createElement('script');
      s.textContent = '(' + function (u) {
        var seen = window.tprHold = {};
        window.tprHoldXhr = {};
        window.tprHoldImg = {};
        ['once', 'block'].forEach(function (k) {
          var x = new XMLHttpRequest();
          window.tprHoldXhr[k] = x;
          x.open('GET', u['xhr:' + k]);
          x.onload = function () { seen['xhr:' + k] = 'load:' + x.readyState + ':' + x.status; };
          x.onerror = function () { seen['xhr:' + k] = 'error:' + x.readyState + ':' + x.status; };
          x.send();
          seen['xhr:' + k] = 'sent';
          var i = new Image();
          window.tprHoldImg[k] = i;
          i.onload = function () { seen['img:' + k] = 'load'; };
          i.onerror = function () { seen['img:' + k] = 'error'; };
          i.src = u['img:' + k];
          seen['img:' + k] = 'set';
        });
      } + ')(' + JSON.stringify(args[0]) + ');';
      document.body.appendChild(s);
      return !!window.tprHold;`, [holdUrls]);
    check('holds: the page script ran', injected.value === true, injected);
    await inPage('return window.tprAuditor.settled();');
    await sleep(1500);
    const h0 = (await inPage(`return { seen: Object.assign({}, window.tprHold),
      ready: { once: window.tprHoldXhr.once.readyState, block: window.tprHoldXhr.block.readyState },
      complete: { once: window.tprHoldImg.once.complete && window.tprHoldImg.once.naturalWidth,
        block: window.tprHoldImg.block.complete && window.tprHoldImg.block.naturalWidth } };`)).value || {};
    const holdEvents = {};
    for (const [k, u] of Object.entries(holdUrls)) holdEvents[k] = await eventsOf(u);
    let log = (await fakeLog()).filter((x) => /hold/.test(x.path));
    for (const kind of ['xhr', 'img']) {
      for (const k of ['once', 'block']) {
        const key = `${kind}:${k}`;
        const ev = holdEvents[key];
        check(`holds: ${key}: held (${kind === 'xhr' ? 'send deferred, readyState 1' : 'no load/error'}), one pending event`,
          (h0.seen || {})[key] === (kind === 'xhr' ? 'sent' : 'set') && (kind !== 'xhr' || (h0.ready || {})[k] === 1)
          && ev.length === 1 && ev[0].decision === 'pending' && ev[0].verdict === 'ask',
          { seen: h0.seen && h0.seen[key], ready: h0.ready, ev });
      }
    }
    check('holds: nothing reached the third parties while held', log.length === 0, log);
    for (const kind of ['xhr', 'img']) {
      for (const k of ['once', 'block']) {
        const ev = holdEvents[`${kind}:${k}`];
        const r = ev.length ? await inPage('return window.tprAuditor.answer(args[0], args[1]);', [ev[0].id, k]) : { error: 'no event' };
        check(`holds: answer(${kind}:${k}, '${k}') accepted`, r.value === true, r);
      }
    }
    const h1 = await pollPage(`const s = window.tprHold;
      return ['xhr:once', 'xhr:block', 'img:once', 'img:block'].every((k) => s[k] !== 'sent' && s[k] !== 'set');`,
    'return Object.assign({}, window.tprHold);', 10000);
    await sleep(300);
    log = (await fakeLog()).filter((x) => /hold/.test(x.path));
    const reached = (u) => log.some((x) => x.host === new URL(u).host && x.path === new URL(u).pathname);
    check('holds: xhr answered once: `load` with status 200, the host saw it',
      h1['xhr:once'] === 'load:4:200' && reached(holdUrls['xhr:once']), { seen: h1['xhr:once'], log });
    check('holds: xhr answered block: `error` with status 0, the host never saw it',
      h1['xhr:block'] === 'error:4:0' && !reached(holdUrls['xhr:block']), { seen: h1['xhr:block'], log });
    check('holds: img answered once: `load`, the host saw it',
      h1['img:once'] === 'load' && reached(holdUrls['img:once']), { seen: h1['img:once'], log });
    check('holds: img answered block: `error`, the host never saw it',
      h1['img:block'] === 'error' && !reached(holdUrls['img:block']), { seen: h1['img:block'], log });
    const after = {};
    for (const [k, u] of Object.entries(holdUrls)) after[k] = (await eventsOf(u)).map((e) => [e.decision, e.blockedBy]);
    check('holds: events end allowed (once) and blocked by consent (block)',
      ['xhr:once', 'img:once'].every((k) => after[k].length === 1 && after[k][0][0] === 'allowed')
      && ['xhr:block', 'img:block'].every((k) => after[k].length === 1 && after[k][0][0] === 'blocked' && after[k][0][1] === 'consent'),
      after);
  }

  // The Admin's stored consent back to nothing (also done by `finish` if this throws first).
  await wd.navigate(BLANK);
  const endReset = await resetOptions();
  cleanup = null;
  check('the stored consent reset at the end', endReset.value && endReset.value.every((x) => x === 'success'), endReset);
} catch (e) {
  check('the test ran to its end', false, String(e && e.stack || e));
}
await finish(0);
