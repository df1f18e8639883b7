#!/usr/bin/env node
// Consent that works, on the REAL MediaWiki harness (issue 5 items 6, 7, 8, 9 and 11).
//
//   node tests/e2e/consent-wiki.mjs      (after scripts/build.sh: dist/tpr-auditor.js and pkg/)
//
// Uses its own wiki instance so it can run next to the other harness drivers: TPR_MW_DIR
// (default /tmp/tpr-mw-consent), TPR_MW_PORT (8108), TPR_FAKE_PORT (8109). It runs
// tests/mediawiki/setup.sh (idempotent) and start.sh (leaves a running wiki alone), and stops
// the servers at the end only if it started them (TPR_MW_KEEP=1 keeps them).
//
// The auditor is injected at document start in every page of a Playwright context
// (`addInitScript`), as the extension does. Bundles: dist/tpr-auditor.js as built (storage
// `auto`: the user's preferences when logged in, localStorage when logged out) for items 8, 9
// and 11; variants with a baked consent list and `storage: 'memory'` (scripts/bundle.py from
// pkg/) for items 6 and 7, so that they do not depend on persistence.
//
// The gadgets this test drives (tests/mediawiki/pages/Gadget-consent-*.js) are inert unless the
// page URL carries `tprconsent=ask` (consent-a, consent-b) or `tprconsent=block`
// (consent-kinds), so the other drivers never see their requests.
//
//   item 6  ask: consent-a's fetch to an unconsented third party stays pending (event decision
//           `pending`, the page's promise unresolved, nothing reaches the host); answering
//           `source` lets it and consent-a's next request through while consent-b's identical
//           request stays held; answering `block` makes consent-b see a TypeError.
//   item 7  block: consent-kinds inserts a script, loads an image, an iframe and an XHR from an
//           unconsented host (denied: `error` events, XHR error with status 0, nothing reaches
//           the host) and from a consented one (they load).
//           Items 6 and 7 run twice: production (gadgets in one load.php batch, attribution
//           waits for the batch text) and ?debug=1 (one request per module).
//   item 8  persistence: logged in, three rules set in one tick are one `action=options`
//           write (batched), and a rule set in one context is in the wiki's user options
//           (API) and in the auditor of a FRESH context logging in as the same user (and not in
//           its localStorage); logged out, a rule survives a reload through localStorage; two
//           tabs adding different rules at once both keep their rule (the stored option / the
//           localStorage value after both writes).
//   item 9  corruption: a broken `userjs-tpr-auditor` planted through the API (Admin's CSRF
//           token): the page loads, the auditor runs strict (mode ask or block,
//           consent.problem() and report().consentProblem set), the broken text is still
//           retrievable (consent.stored(), the API), and after the auditor writes a new list
//           the broken text is in `userjs-tpr-auditor-broken`. The panel's recovery message is
//           checked through the accessibility tree (the panel is a closed shadow root) once
//           src/web/panel.rs is no longer a stub; until then it is a NOTE.
//   item 11 audit mode: every probe of probes.json (issue 2) has exactly one event with the
//           expected source, and every probe still ran (the full harness is
//           tests/e2e/mediawiki.mjs).
//
// Prints PASS/FAIL per assertion, ends with "N passed, N failed"; exit status 1 on any FAIL.
// env: TPR_BUNDLE (default dist/tpr-auditor.js), TPR_PKG (default pkg/), TPR_BUNDLE_PY (default
//      scripts/bundle.py: the variants take their bootstrap and loader from its tree), CHROMIUM,
//      CONSENT_WIKI_ONLY=6,7,8,9,11 (a subset), TPR_MW_KEEP=1.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.TPR_MW_DIR ||= '/tmp/tpr-mw-consent';
process.env.TPR_MW_PORT ||= '8108';
process.env.TPR_FAKE_PORT ||= '8109';
if (process.env.CHROMIUM && !process.env.TPR_CHROMIUM) process.env.TPR_CHROMIUM = process.env.CHROMIUM;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MW = path.join(ROOT, 'tests/mediawiki');
const BUNDLE = process.env.TPR_BUNDLE || path.join(ROOT, 'dist/tpr-auditor.js');
const PKG = process.env.TPR_PKG || path.join(ROOT, 'pkg');
const BUNDLE_PY = process.env.TPR_BUNDLE_PY || path.join(ROOT, 'scripts/bundle.py');
const ONLY = (process.env.CONSENT_WIKI_ONLY || '6,7,8,9,11').split(',').map((s) => s.trim());
const KEY = 'userjs-tpr-auditor';
const BROKEN_KEY = 'userjs-tpr-auditor-broken';
const T0 = Date.now();

// harness.mjs reads TPR_MW_DIR at import time: import it after the defaults above.
const { readConfig, launchChromium, apiLogin, recordNetwork, waitForProbes, matches } =
  await import('../mediawiki/lib/harness.mjs');

// ---------------------------------------------------------------------------------------------
const results = [];
const notes = [];
function check(name, ok, detail = '') {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail && !ok ? `\n       ${detail}` : ''}`);
  return !!ok;
}
function note(text) {
  notes.push(text);
  console.log(`NOTE ${text}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const short = (v) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s && s.length > 400 ? `${s.slice(0, 400)}...` : s;
};
/** Polls `f` (async) until it returns a truthy value or `ms` pass; returns the last value. */
async function until(f, ms = 5000, every = 100) {
  const end = Date.now() + ms;
  let v;
  for (;;) {
    try { v = await f(); } catch (e) { v = undefined; }
    if (v || Date.now() > end) return v;
    await sleep(every);
  }
}

// --- the wiki ----------------------------------------------------------------------------------
function sh(script) {
  execFileSync('bash', [path.join(MW, script)], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
}
async function healthy(url) {
  try { return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok; } catch { return false; }
}
if (!fs.existsSync(BUNDLE)) {
  console.log(`FAIL ${BUNDLE} missing: run scripts/build.sh\n0 passed, 1 failed`);
  process.exit(1);
}
let env, hosts, probes, wasRunning;
try {
  sh('setup.sh');
  ({ env, hosts, probes } = readConfig());
  wasRunning = (await healthy(`${env.wikiUrl}/index.php?title=Main_Page`))
    && (await healthy(`http://127.0.0.1:${env.fakePort}/__health`));
  sh('start.sh');
} catch (e) {
  if (!wasRunning) { try { sh('stop.sh'); } catch { /* nothing to stop */ } }
  console.log(`FAIL the test wiki in ${process.env.TPR_MW_DIR} could not be set up or started: ${e.message}\n0 passed, 1 failed`);
  process.exit(1);
}
const API = `${env.wikiUrl}/api.php`;
const FAKE = `http://127.0.0.1:${env.fakePort}`;
const MAIN = `${env.wikiUrl}/index.php?title=Main_Page`;
const BLANK = `${env.wikiUrl}/index.php?title=Special:BlankPage`;

// --- bundles -----------------------------------------------------------------------------------
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tpr-consent-wiki-'));
const defaultBundle = fs.readFileSync(BUNDLE, 'utf8');
function variant(name, options) {
  const out = path.join(TMP, `${name}.js`);
  execFileSync('python3', [BUNDLE_PY, PKG, out, '--options', JSON.stringify(options)],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  return fs.readFileSync(out, 'utf8');
}

// --- API helpers (a logged-in context's request client) ----------------------------------------
async function csrf(context) {
  const j = await (await context.request.get(`${API}?action=query&meta=tokens&format=json`)).json();
  return j.query.tokens.csrftoken;
}
async function readOptions(context) {
  const j = await (await context.request.get(
    `${API}?action=query&meta=userinfo&uiprop=options&format=json&formatversion=2`)).json();
  return j.query.userinfo.options || {};
}
async function setOption(context, name, value) {
  const form = { action: 'options', format: 'json', token: await csrf(context) };
  if (value === null) form.change = name; // no value: reset to the default (removes it)
  else Object.assign(form, { optionname: name, optionvalue: value });
  const j = await (await context.request.post(API, { form })).json();
  if (j.options !== 'success') throw new Error(`action=options ${name}: ${JSON.stringify(j)}`);
}
async function resetConsentOptions(context) {
  await setOption(context, KEY, null);
  await setOption(context, BROKEN_KEY, null);
}

// --- page helpers ------------------------------------------------------------------------------
async function newContext(browser, bundle, { login = false } = {}) {
  const context = await browser.newContext();
  if (login) await apiLogin(context, env);
  await context.addInitScript({ content: bundle });
  return context;
}
async function open(context, url) {
  const page = await context.newPage();
  page.tprErrors = [];
  page.on('pageerror', (e) => page.tprErrors.push(String(e)));
  page.net = recordNetwork(page);
  await page.goto(url, { waitUntil: 'load' });
  await page.evaluate(() => window.tprAuditor && window.tprAuditor.ready).catch(() => {});
  return page;
}
const status = (page) => page.evaluate(() => window.tprAuditor && window.tprAuditor.status);
const storage = (page) => page.evaluate(() => window.tprAuditor.consent.storage());
/** Waits until the auditor chose where consent lives (not 'pending'); returns the name. */
async function storageChosen(page, ms = 5000) {
  await until(async () => (await storage(page)) !== 'pending', ms);
  return storage(page);
}
function events(page, urlPart) {
  return page.evaluate((u) => window.tprAuditor.report().events.filter((e) => e.url.includes(u)), urlPart);
}
const hasRule = (list, source) => !!list && Array.isArray(list.rules) && list.rules.some((r) => r.source === source);
function parseOr(text) { try { return JSON.parse(text); } catch { return null; } }
/** Adds one rule through consent.set(current + rule), as the panel's editor would. */
function addRule(page, rule) {
  return page.evaluate((r) => {
    const doc = window.tprAuditor.consent.get();
    doc.rules.push(r);
    window.tprAuditor.consent.set(doc);
  }, rule);
}
const imgRule = (host) => ({
  source: `https://${host}`, directives: ['img-src'], scope: '*', decision: 'allow', added: new Date().toISOString(),
});
/** Every name and value in the page's accessibility tree (CDP): the only view into a closed
 *  shadow root such as the auditor's panel. */
async function axText(page) {
  try {
    const cdp = await page.context().newCDPSession(page);
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    await cdp.detach();
    return nodes.map((n) => [n.name && n.name.value, n.value && n.value.value].filter(Boolean).join(' ')).join('\n');
  } catch (e) {
    return '';
  }
}
/** Calls `fn` (a function declaration, `this` = the element) on the first element with
 *  attribute `name` = `value`, inside the auditor's closed shadow root too (CDP pierces it).
 *  Resolves to `{ found, value }` (the function's result, by value). */
async function onPanelElement(page, name, value, fn) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const find = (n) => {
      const a = n.attributes || [];
      for (let i = 0; i + 1 < a.length; i += 2) if (a[i] === name && a[i + 1] === value) return n;
      for (const c of [...(n.children || []), ...(n.shadowRoots || [])]) {
        const f = find(c);
        if (f) return f;
      }
      return null;
    };
    const node = find(root);
    if (!node) return { found: false };
    const { object } = await cdp.send('DOM.resolveNode', { backendNodeId: node.backendNodeId });
    const { result } = await cdp.send('Runtime.callFunctionOn', { objectId: object.objectId, functionDeclaration: fn, returnByValue: true });
    return { found: true, value: result && result.value };
  } catch (e) {
    return { found: false, error: String(e) };
  } finally {
    await cdp.detach().catch(() => {});
  }
}
/** Clicks the panel's `[data-act=ACT]` button; true if found. */
async function clickPanel(page, act) {
  const { found } = await onPanelElement(page, 'data-act', act, 'function () { this.click(); }');
  if (found) await sleep(500); // the panel draws on an animation frame
  return found;
}
/** Clicks the auditor's badge inside its closed shadow root; true if found. */
const openPanel = (page) => clickPanel(page, 'badge');
async function fakeLog(clear = false) {
  return (await fetch(`${FAKE}/__log${clear ? '?clear=1' : ''}`)).json();
}
/** Completed action=options POSTs of a page (its consent writes). */
function trackOptionWrites(page) {
  const writes = [];
  page.on('requestfinished', (req) => {
    const body = req.postData() || '';
    if (req.url().startsWith(API) && /(^|&)action=options(&|$)/.test(body)) {
      writes.push(decodeURIComponent((body.match(/(?:^|&)optionname=([^&]*)/) || [])[1] || ''));
    }
  });
  return writes;
}

// ===============================================================================================
const browser = await launchChromium({ hosts, args: ['--disable-gpu'] });
const admin = await browser.newContext(); // API only: plants and reads the Admin's options
await apiLogin(admin, env);

try {
  // --- item 11: issue 2's probes in audit mode -------------------------------------------------
  if (ONLY.includes('11')) {
    console.log('\n== item 11: the probes of issue 2 in audit mode (default bundle, logged in)');
    await resetConsentOptions(admin);
    const ctx = await newContext(browser, defaultBundle, { login: true });
    const page = await open(ctx, MAIN);
    const { missingMarkers, missingRequests } = await waitForProbes(page, page.net, probes);
    await page.evaluate(() => window.tprAuditor.settled());
    check('item 11: auditor running', (await status(page)) === 'running', await status(page));
    check('item 11: mode is audit', (await page.evaluate(() => window.tprAuditor.mode())) === 'audit');
    check('item 11: every probe ran (markers)', !missingMarkers.length, `missing: ${missingMarkers}`);
    check('item 11: every probe request answered', !missingRequests.length,
      `missing: ${missingRequests.map((p) => p.id)}`);
    const all = await page.evaluate(() => window.tprAuditor.report().events);
    for (const p of probes) {
      const evs = all.filter((e) => matches(p, e.url));
      const want = p.expect.source;
      const good = evs.length === 1 && evs[0].source.kind === want.kind && evs[0].source.name === want.name
        && evs[0].channel === p.expect.channel && ['allowed', 'unconsented'].includes(evs[0].decision);
      check(`item 11: ${p.id}: one event, ${want.kind} ${want.name}, ${p.expect.channel}, not held`, good,
        short(evs.map((e) => ({ id: e.id, channel: e.channel, source: `${e.source.kind} ${e.source.name}`, decision: e.decision, count: e.count }))));
    }
    await ctx.close();
  }

  // --- item 6: ask ----------------------------------------------------------------------------
  if (ONLY.includes('6')) {
    const askBundle = variant('ask', {
      packaging: 'test', storage: 'memory', consent: JSON.stringify({ version: 1, mode: 'ask', rules: [] }),
    });
    const target = `http://api.thirdparty.test:${env.fakePort}`;
    const url1 = `${target}/api/consent`;
    const url2 = `${target}/api/consent-next`;
    for (const scenario of ['production', 'debug']) {
      const tag = `item 6 [${scenario}]`;
      console.log(`\n== ${tag}: ask mode, consent-a and consent-b fetch ${url1}`);
      const ctx = await newContext(browser, askBundle, { login: true });
      await fakeLog(true);
      const page = await open(ctx, `${MAIN}&tprconsent=ask${scenario === 'debug' ? '&debug=1' : ''}`);
      check(`${tag}: mode is ask`, (await page.evaluate(() => window.tprAuditor.mode())) === 'ask');
      await page.waitForFunction(() => window.tprConsent && window.tprConsent.a1 && window.tprConsent.b1,
        null, { timeout: 15000 }).catch(() => {});
      const bySource = async (u) => {
        const evs = (await events(page, u)).filter((e) => e.url === u);
        return { a: evs.filter((e) => e.source.name === 'consent-a'), b: evs.filter((e) => e.source.name === 'consent-b'), evs };
      };
      await until(async () => { const s = await bySource(url1); return s.a.length && s.b.length; }, 4000);
      await page.evaluate(() => window.tprAuditor.settled());
      await sleep(1500);
      let s = await bySource(url1);
      const st0 = await page.evaluate(() => ({ ...window.tprConsent }));
      check(`${tag}: consent-a's fetch held: promise unresolved after 1.5 s`, st0.a1 === 'pending', short(st0));
      check(`${tag}: consent-b's fetch held: promise unresolved after 1.5 s`, st0.b1 === 'pending', short(st0));
      check(`${tag}: one event for consent-a, decision pending`, s.a.length === 1 && s.a[0].decision === 'pending'
        && s.a[0].verdict === 'ask', short(s.evs.map((e) => [e.id, e.source.kind, e.source.name, e.decision, `count=${e.count}`])));
      check(`${tag}: one event for consent-b (its own, not folded into consent-a's), decision pending`,
        s.b.length === 1 && s.b[0].decision === 'pending',
        short(s.evs.map((e) => [e.id, e.source.kind, e.source.name, e.decision, `count=${e.count}`])));
      let hits = (await fakeLog()).filter((x) => x.path.startsWith('/api/consent'));
      check(`${tag}: nothing reached the third party while held`, hits.length === 0, short(hits));

      // Answer "always for this gadget" on consent-a's prompt.
      let answered = false;
      if (s.a.length) {
        answered = await page.evaluate((id) => window.tprAuditor.answer(id, 'source'), s.a[0].id).catch((e) => String(e));
      }
      check(`${tag}: answer(a, 'source') accepted`, answered === true, short(answered));
      await page.waitForFunction(() => window.tprConsent.a2 && window.tprConsent.a2 !== 'pending', null,
        { timeout: 5000 }).catch(() => {});
      await sleep(700);
      const st1 = await page.evaluate(() => ({ ...window.tprConsent }));
      check(`${tag}: consent-a's held fetch went through`, st1.a1 === 'ok', short(st1));
      check(`${tag}: consent-a's next request went through`, st1.a2 === 'ok', short(st1));
      s = await bySource(url1);
      const next = (await events(page, url2)).filter((e) => e.url === url2);
      check(`${tag}: consent-a's events allowed by a rule scoped gadget:consent-a`,
        s.a.length === 1 && s.a[0].decision === 'allowed' && next.length === 1 && next[0].decision === 'allowed'
        && next[0].source.name === 'consent-a' && next[0].rule && next[0].rule.kind === 'rule'
        && next[0].rule.scope === 'gadget:consent-a',
        short({ a: s.a.map((e) => [e.decision, e.rule]), next: next.map((e) => [e.source.name, e.decision, e.rule]) }));
      const rules = (await page.evaluate(() => window.tprAuditor.consent.get())).rules;
      check(`${tag}: the answer wrote {${target}, connect-src, gadget:consent-a, allow}`,
        rules.some((r) => r.source === target && r.scope === 'gadget:consent-a' && r.decision === 'allow'
          && r.directives.includes('connect-src')), short(rules));
      check(`${tag}: consent-b's identical request still held`, st1.b1 === 'pending'
        && s.b.length === 1 && s.b[0].decision === 'pending', short({ b1: st1.b1, b: s.b.map((e) => e.decision) }));
      hits = (await fakeLog()).filter((x) => x.path === '/api/consent');
      check(`${tag}: the third party saw /api/consent once (consent-a's)`, hits.length === 1, short(hits));

      // Answer "block" on consent-b's prompt.
      answered = false;
      if (s.b.length) {
        answered = await page.evaluate((id) => window.tprAuditor.answer(id, 'block'), s.b[0].id).catch((e) => String(e));
      }
      check(`${tag}: answer(b, 'block') accepted`, answered === true, short(answered));
      await page.waitForFunction(() => window.tprConsent.b1 !== 'pending', null, { timeout: 5000 }).catch(() => {});
      const st2 = await page.evaluate(() => ({ ...window.tprConsent }));
      check(`${tag}: consent-b's fetch rejected with a TypeError`, st2.b1 === 'error:TypeError', short(st2));
      s = await bySource(url1);
      check(`${tag}: consent-b's event blocked by consent`, s.b.length === 1 && s.b[0].decision === 'blocked'
        && s.b[0].blockedBy === 'consent', short(s.b));
      hits = (await fakeLog()).filter((x) => x.path === '/api/consent');
      check(`${tag}: consent-b's request never reached the third party`, hits.length <= 1, short(hits));
      await ctx.close();
    }
  }

  // --- item 7: block --------------------------------------------------------------------------
  if (ONLY.includes('7')) {
    const ok = `http://ok.thirdparty.test:${env.fakePort}`;
    const blockBundle = variant('block', {
      packaging: 'test',
      storage: 'memory',
      consent: JSON.stringify({ version: 1, mode: 'block', rules: [{
        source: ok, directives: ['script-src', 'img-src', 'frame-src', 'connect-src'],
        scope: 'gadget:consent-kinds', decision: 'allow', note: 'consented host of consent-wiki.mjs',
      }] }),
    });
    const kinds = [
      { kind: 'script', path: '/kinds/LABEL.js', channel: 'script' },
      { kind: 'img', path: '/kinds/LABEL.png', channel: 'img' },
      { kind: 'iframe', path: '/kinds/LABEL.html', channel: 'frame' },
      { kind: 'xhr', path: '/api/kinds-LABEL', channel: 'xhr' },
    ];
    for (const scenario of ['production', 'debug']) {
      const tag = `item 7 [${scenario}]`;
      console.log(`\n== ${tag}: block mode, consent-kinds loads from ok.thirdparty.test (consented) and no.thirdparty.test`);
      const ctx = await newContext(browser, blockBundle, { login: true });
      await fakeLog(true);
      const page = await open(ctx, `${MAIN}&tprconsent=block${scenario === 'debug' ? '&debug=1' : ''}`);
      check(`${tag}: mode is block`, (await page.evaluate(() => window.tprAuditor.mode())) === 'block');
      await page.waitForFunction(() => {
        const s = window.tprConsentKinds || {};
        return ['script', 'img', 'iframe', 'xhr'].every((k) => s[`${k}:ok`] && s[`${k}:no`]);
      }, null, { timeout: 15000 }).catch(() => {});
      await page.evaluate(() => window.tprAuditor.settled());
      await sleep(1500);
      const seen = await page.evaluate(() => JSON.parse(JSON.stringify(window.tprConsentKinds || {})));
      const frames = page.frames().map((f) => f.url());
      const log = (await fakeLog()).filter((x) => x.path.includes('kinds'));
      const evs = await events(page, 'kinds');
      for (const k of kinds) {
        for (const label of ['ok', 'no']) {
          const u = `http://${label}.thirdparty.test:${env.fakePort}${k.path.replace('LABEL', label)}`;
          const got = seen[`${k.kind}:${label}`] || [];
          const ev = evs.filter((e) => e.url === u);
          const reached = log.some((x) => x.host === `${label}.thirdparty.test:${env.fakePort}` && x.path === new URL(u).pathname);
          const evDetail = short(ev.map((e) => ({ source: `${e.source.kind} ${e.source.name}`, verdict: e.verdict, decision: e.decision, blockedBy: e.blockedBy, rule: e.rule && (e.rule.scope || e.rule.name) })));
          if (label === 'ok') {
            const loaded = k.kind === 'xhr' ? got.length === 1 && got[0] === 'load:4:200'
              : got.includes('load') && !got.includes('error');
            const frameOk = k.kind !== 'iframe' || frames.includes(u);
            check(`${tag}: consented ${k.kind} loads (page saw ${short(got)})`, loaded && frameOk && reached,
              `page: ${short(got)}; reached host: ${reached}; frames: ${short(frames)}`);
            check(`${tag}: consented ${k.kind}: event allowed by the rule`, ev.length === 1 && ev[0].verdict === 'allow'
              && ev[0].decision === 'allowed', evDetail);
          } else {
            const failed = k.kind === 'xhr' ? got.length === 1 && got[0] === 'error:4:0'
              : got.includes('error') && (k.kind === 'iframe' || !got.includes('load'));
            const frameNo = k.kind !== 'iframe' || !frames.includes(u);
            check(`${tag}: unconsented ${k.kind} denied the browser's way (page saw ${short(got)})`, failed && frameNo,
              `page: ${short(got)}; frames: ${short(frames)}`);
            check(`${tag}: unconsented ${k.kind} never reached the host`, !reached, short(log));
            check(`${tag}: unconsented ${k.kind}: event blocked by consent`, ev.length === 1 && ev[0].decision === 'blocked'
              && ev[0].blockedBy === 'consent', evDetail);
          }
        }
      }
      await ctx.close();
    }
  }

  // --- item 8: persistence --------------------------------------------------------------------
  if (ONLY.includes('8')) {
    const stamp = Date.now().toString(36);
    // (a) logged in: the wiki's user options, read back in a fresh profile.
    console.log('\n== item 8a: logged in, consent in the user\'s preferences, read back in a fresh profile');
    await resetConsentOptions(admin);
    const r1 = imgRule(`logged-in-${stamp}.example.org`);
    {
      const ctx = await newContext(browser, defaultBundle, { login: true });
      const page = await open(ctx, BLANK);
      const where = await storageChosen(page);
      check('item 8a: logged-in storage is user-options', where === 'user-options', `storage(): ${where}`);
      // Batched writes: three rules added in one tick are one action=options POST.
      const writes = trackOptionWrites(page);
      const more = [imgRule(`batch-b-${stamp}.example.org`), imgRule(`batch-c-${stamp}.example.org`)];
      await page.evaluate((rules) => {
        for (const r of rules) {
          const doc = window.tprAuditor.consent.get();
          doc.rules.push(r);
          window.tprAuditor.consent.set(doc);
        }
      }, [r1, ...more]);
      const stored = await until(async () => {
        const doc = parseOr((await readOptions(admin))[KEY]);
        return [r1, ...more].every((r) => hasRule(doc, r.source));
      }, 6000);
      check('item 8a: the rules reached the wiki (API: userjs-tpr-auditor)', stored,
        short((await readOptions(admin))[KEY]));
      await until(() => writes.length > 0, 3000);
      await sleep(1500); // a second write, if any, lands
      const ours = writes.filter((name) => name === KEY);
      check('item 8a: three rules in one tick are one action=options write (batched)', ours.length === 1,
        `${KEY} writes: ${ours.length} (all option writes: ${short(writes)})`);
      const errs = await page.evaluate(() => window.tprAuditor.report().errors);
      check('item 8a: no storage error in the first profile', !errs.some((e) => /consent/.test(e.where)), short(errs));
      await ctx.close();
    }
    {
      const ctx = await newContext(browser, defaultBundle, { login: true }); // fresh profile
      const page = await open(ctx, BLANK);
      const where = await storageChosen(page);
      check('item 8a: fresh profile: storage is user-options', where === 'user-options', `storage(): ${where}`);
      const got = await until(async () => hasRule(await page.evaluate(() => window.tprAuditor.consent.get()), r1.source), 5000);
      const info = await page.evaluate((k) => ({
        rules: window.tprAuditor.consent.get().rules.map((r) => r.source),
        stored: window.tprAuditor.consent.stored(),
        mwOption: window.mw && mw.user.options.get(k),
        local: localStorage.getItem(k),
      }), KEY);
      check('item 8a: fresh profile: the page has the option (mw.user.options)', hasRule(parseOr(info.mwOption), r1.source),
        short(info.mwOption));
      check('item 8a: fresh profile: the auditor uses the rule set in the other profile', got, short(info));
      check('item 8a: fresh profile: read from the wiki (consent.stored()), not localStorage',
        hasRule(parseOr(info.stored), r1.source) && info.local === null, short(info));
      await ctx.close();
    }

    // (b) logged out: localStorage, across a reload.
    console.log('\n== item 8b: logged out, consent in localStorage across a reload');
    const r2 = imgRule(`logged-out-${stamp}.example.org`);
    {
      const ctx = await newContext(browser, defaultBundle);
      const page = await open(ctx, MAIN);
      const where = await storageChosen(page);
      check('item 8b: logged-out storage is local-storage', where === 'local-storage', `storage(): ${where}`);
      await addRule(page, r2);
      const written = await until(async () => hasRule(parseOr(await page.evaluate((k) => localStorage.getItem(k), KEY)), r2.source), 3000);
      check('item 8b: the rule is written to localStorage', written,
        short(await page.evaluate((k) => localStorage.getItem(k), KEY)));
      await page.reload({ waitUntil: 'load' });
      await page.evaluate(() => window.tprAuditor.ready);
      const kept = await until(async () => hasRule(await page.evaluate(() => window.tprAuditor.consent.get()), r2.source), 5000);
      check('item 8b: after a reload the auditor has the rule', kept,
        short(await page.evaluate(() => ({ storage: window.tprAuditor.consent.storage(), rules: window.tprAuditor.consent.get().rules }))));
      await ctx.close();
    }

    // (c) two tabs at once, logged in (user options) and logged out (localStorage).
    console.log('\n== item 8c: two tabs adding different rules at once');
    await resetConsentOptions(admin);
    // The outcome of a race: several rounds, each tab adding one more rule at the same moment.
    const ROUNDS = 3;
    {
      const ctx = await newContext(browser, defaultBundle, { login: true });
      const [p1, p2] = [await open(ctx, BLANK), await open(ctx, BLANK)];
      const w1 = trackOptionWrites(p1);
      const w2 = trackOptionWrites(p2);
      await Promise.all([storageChosen(p1), storageChosen(p2)]);
      const lost = [];
      let bothWrote = true;
      for (let round = 1; round <= ROUNDS; round++) {
        const [n1, n2] = [w1.length, w2.length];
        const [ra, rb] = [imgRule(`tab-a${round}-${stamp}.example.org`), imgRule(`tab-b${round}-${stamp}.example.org`)];
        await Promise.all([addRule(p1, ra), addRule(p2, rb)]);
        bothWrote = (await until(() => w1.length > n1 && w2.length > n2, 8000)) && bothWrote;
        await sleep(1500); // any follow-up write (a re-merge) lands
        const doc = parseOr((await readOptions(admin))[KEY]);
        for (const r of [ra, rb]) if (!hasRule(doc, r.source)) lost.push(`round ${round}: ${r.source}`);
      }
      check(`item 8c: logged in: both tabs wrote the option (${ROUNDS} rounds)`, bothWrote, short({ tab1: w1, tab2: w2 }));
      check(`item 8c: logged in: the stored option keeps both tabs' rules (${ROUNDS} rounds)`, !lost.length,
        `lost: ${short(lost)}; stored: ${short((parseOr((await readOptions(admin))[KEY]) || { rules: [] }).rules.map((r) => r.source))}`);
      await ctx.close();
    }
    {
      const ctx = await newContext(browser, defaultBundle);
      const [p1, p2] = [await open(ctx, MAIN), await open(ctx, MAIN)];
      await Promise.all([storageChosen(p1), storageChosen(p2)]);
      const lost = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const [ra, rb] = [imgRule(`anon-a${round}-${stamp}.example.org`), imgRule(`anon-b${round}-${stamp}.example.org`)];
        await Promise.all([addRule(p1, ra), addRule(p2, rb)]);
        await sleep(1500);
        const doc = parseOr(await p1.evaluate((k) => localStorage.getItem(k), KEY));
        for (const r of [ra, rb]) if (!hasRule(doc, r.source)) lost.push(`round ${round}: ${r.source}`);
      }
      check(`item 8c: logged out: localStorage keeps both tabs' rules (${ROUNDS} rounds)`, !lost.length,
        `lost: ${short(lost)}; stored: ${short((parseOr(await p1.evaluate((k) => localStorage.getItem(k), KEY)) || { rules: [] }).rules.map((r) => r.source))}`);
      await ctx.close();
    }
    await resetConsentOptions(admin);
  }

  // --- item 9: corruption ---------------------------------------------------------------------
  if (ONLY.includes('9')) {
    console.log('\n== item 9: a broken userjs-tpr-auditor planted through the API');
    const broken = `{"version":1,"mode":"audit","rules":[{"source":"https://broken-${Date.now().toString(36)}.example.org","directives":["img-src"],`;
    await resetConsentOptions(admin);
    await setOption(admin, KEY, broken);
    check('item 9: planted (API reads the broken text back)', (await readOptions(admin))[KEY] === broken);
    const ctx = await newContext(browser, defaultBundle, { login: true });
    const page = await open(ctx, MAIN);
    check('item 9: the page loads (auditor running, MediaWiki up)', (await status(page)) === 'running'
      && (await page.evaluate(() => !!(window.mw && mw.config.get('wgPageName') === 'Main_Page'))));
    await until(() => page.evaluate(() => window.tprAuditor.consent.problem()), 5000);
    const st = await page.evaluate(() => ({
      mode: window.tprAuditor.mode(),
      problem: window.tprAuditor.consent.problem(),
      reportProblem: window.tprAuditor.report().consentProblem,
      stored: window.tprAuditor.consent.stored(),
      storage: window.tprAuditor.consent.storage(),
    }));
    check('item 9: strict mode (ask or block)', ['ask', 'block'].includes(st.mode), short(st));
    check('item 9: consent.problem() says why', typeof st.problem === 'string' && st.problem.length > 0, short(st));
    check('item 9: report().consentProblem set', typeof st.reportProblem === 'string' && st.reportProblem.length > 0, short(st));
    check('item 9: the broken text is retrievable (consent.stored())', st.stored === broken, short(st));
    await sleep(1000);
    check('item 9: the wiki still holds the broken text (API)', (await readOptions(admin))[KEY] === broken,
      short((await readOptions(admin))[KEY]));
    // The panel is a closed shadow root: opened with its badge, read through the accessibility tree.
    const panelStub = /STUB/.test(fs.readFileSync(path.join(ROOT, 'src/web/panel.rs'), 'utf8'));
    const en = parseOr(fs.existsSync(path.join(ROOT, 'i18n/en.json')) ? fs.readFileSync(path.join(ROOT, 'i18n/en.json'), 'utf8') : '') || {};
    const prefix = (en['tpr-consent-problem'] || '').split('$1')[0].trim();
    if (panelStub || !prefix) {
      note('item 9: the panel\'s recovery message is not checked: no panel yet (src/web/panel.rs is a stub or i18n/en.json has no tpr-consent-problem)');
    } else {
      const opened = await openPanel(page);
      const ax = await axText(page);
      check('item 9: the panel opens from its badge', opened, 'no [data-act=badge] button in the <tpr-auditor> shadow root');
      check(`item 9: the panel shows the recovery message ("${prefix} ...")`, ax.includes(prefix),
        `accessibility tree: ${short(ax.replace(/\s+/g, ' '))}`);
      // Its two actions. "Edit the text": the broken text in the consent tab's import box.
      for (const key of ['tpr-consent-problem-restore', 'tpr-consent-problem-edit']) {
        check(`item 9: the recovery message offers "${en[key]}"`, !!en[key] && ax.includes(en[key]),
          `accessibility tree: ${short(ax.replace(/\s+/g, ' '))}`);
      }
      check('item 9: "edit the text" clicked', await clickPanel(page, 'consent-edit'));
      const box = await onPanelElement(page, 'id', 'pnl-import-in', 'function () { return this.value; }');
      check('item 9: the import box holds the broken text', box.value === broken, short(box));
      const tab = await onPanelElement(page, 'id', 'pnl-import-in',
        'function () { var p = this.closest("[role=tabpanel]"); return !!p && !p.hidden; }');
      check('item 9: the consent tab is shown', tab.value === true, short(tab));
      // "Restore the defaults": the default list is in use and written over the broken text.
      check('item 9: "restore the defaults" clicked', await clickPanel(page, 'consent-restore'));
      const after = await page.evaluate(() => ({
        problem: window.tprAuditor.consent.problem(),
        consent: window.tprAuditor.consent.get(),
      }));
      check('item 9: after restoring, no consent problem and the default list (no rules)',
        after.problem === null && Array.isArray(after.consent.rules) && after.consent.rules.length === 0, short(after));
      const restored = await until(async () => {
        const o = await readOptions(admin);
        const doc = parseOr(o[KEY]);
        return doc && Array.isArray(doc.rules) && doc.rules.length === 0 ? o : null;
      }, 6000);
      check('item 9: the restored defaults reach the wiki', !!restored, short(restored && restored[KEY]));
      check('item 9: restoring kept the broken text in userjs-tpr-auditor-broken',
        !!restored && restored[BROKEN_KEY] === broken, short(restored && restored[BROKEN_KEY]));
      check('item 9: the recovery message is gone', !(await axText(page)).includes(prefix));
    }
    // A new list written over it: the broken text moves to userjs-tpr-auditor-broken first.
    const r = imgRule(`after-broken-${Date.now().toString(36)}.example.org`);
    await page.evaluate((doc) => window.tprAuditor.consent.set(doc), { version: 1, mode: 'ask', rules: [r] });
    const opts = await until(async () => {
      const o = await readOptions(admin);
      return hasRule(parseOr(o[KEY]), r.source) ? o : null;
    }, 6000);
    check('item 9: a new list replaces it on the wiki', !!opts && hasRule(parseOr(opts[KEY]), r.source), short(opts && opts[KEY]));
    check('item 9: the broken text is kept in userjs-tpr-auditor-broken', !!opts && opts[BROKEN_KEY] === broken,
      short(opts && opts[BROKEN_KEY]));
    await ctx.close();
    await resetConsentOptions(admin);
  }
} catch (e) {
  check(`no unexpected exception (${e && e.message})`, false, e && e.stack);
} finally {
  await browser.close().catch(() => {});
  fs.rmSync(TMP, { recursive: true, force: true });
  if (!wasRunning && process.env.TPR_MW_KEEP !== '1') sh('stop.sh');
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`\nconsent-wiki: ${((Date.now() - T0) / 1000).toFixed(1)} s${notes.length ? `, ${notes.length} note(s)` : ''}`);
if (failed) console.log(`FAILED:\n  ${results.filter((r) => !r.ok).map((r) => r.name).join('\n  ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
