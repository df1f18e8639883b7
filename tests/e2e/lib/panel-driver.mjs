// The panel test driver and helpers, shared by tests/e2e/panel.mjs and the real-wiki panel
// checks in tests/e2e/mediawiki.mjs: the panel lives in a CLOSED shadow root, which only a
// script running before the auditor can keep a reference to (test code only).
// ---- the test driver injected before the bundle ----------------------------------------------
// Keeps the closed root for the test (as any script running before the auditor could: see the
// report's gaps) and records elements added to the page's document.
//
// driver({ openRootForAxe: true }) is for the accessibility section only, in its own browser
// context: there the driver (test code, running before the bundle, so the bootstrap captures
// this wrapper as its "native" attachShadow) attaches the <tpr-auditor> root with mode "open"
// although the auditor asked for "closed", because axe-core can only walk open shadow roots.
// The auditor itself is unchanged and no page can ask for this: section 1 checks, without this
// option, that the root is closed; section 13 checks the auditor still asked for "closed".
export const driver = ({ openRootForAxe = false } = {}) => `
(function () {
  var OPEN_FOR_AXE = ${openRootForAxe ? 'true' : 'false'};
  var roots = [];
  var orig = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    var asked = init && init.mode;
    var use = OPEN_FOR_AXE && this.localName === 'tpr-auditor' ? Object.assign({}, init, { mode: 'open' }) : init;
    var r = orig.call(this, use);
    roots.push({ host: this, root: r, mode: asked });
    return r;
  };
  var added = [];
  new MutationObserver(function (list) {
    list.forEach(function (m) { m.addedNodes.forEach(function (n) {
      if (n.nodeType !== 1) return;
      var tag = n.tagName.toLowerCase();
      // Scripts are recorded with their URL: only the page's own (window.__pageScripts) are expected.
      added.push(tag === 'script' ? 'script ' + (n.getAttribute('src') || '(inline) ' + String(n.textContent).slice(0, 80)) : tag);
    }); });
  }).observe(document, { childList: true, subtree: true });
  // What the parser builds is the page, not something the auditor did.
  addEventListener('load', function () { added.length = 0; });
  window.__tprTest = {
    root: function () { var r = roots.find(function (x) { return x.host.localName === 'tpr-auditor'; }); return r && r.root; },
    mode: function () { var r = roots.find(function (x) { return x.host.localName === 'tpr-auditor'; }); return r && r.mode; },
    added: added,
  };
})();
`;

// Helpers evaluated in the page.
export const frames = (page, n = 2) => page.evaluate((n) => new Promise((r) => {
  let k = 0; const f = () => (++k >= n ? r() : requestAnimationFrame(f)); requestAnimationFrame(f);
}), n);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function waitFor(fn, timeout = 5000, step = 50) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > deadline) return v;
    await sleep(step);
  }
}
export const inRoot = (page, fn, arg) => page.evaluate(({ src, arg }) => {
  const root = window.__tprTest.root();
  // eslint-disable-next-line no-new-func
  return new Function('root', 'arg', src)(root, arg);
}, { src: fn, arg });
export async function clickInRoot(page, selector, index = 0) {
  const box = await inRoot(page, `
    const els = root.querySelectorAll(arg.selector); const e = els[arg.index];
    if (!e) return null; e.scrollIntoView({ block: 'nearest' });
    const r = e.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 };`, { selector, index });
  if (!box) return false;
  await page.mouse.click(box.x, box.y);
  return true;
}
