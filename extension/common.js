/*
 * TPR Auditor extension — shared by the background, the options page and the core host.
 * Thin glue over the WebAssembly core (core/tpr_auditor.js, wasm-bindgen's no-modules glue,
 * which defines `wasm_bindgen`): every decision (validation, merging, chunking, quotas, DNR
 * rules) is made by the core (src/extension/, src/web/extension.rs).
 *
 * Storage layout:
 *   storage.sync   consent (index) + consent.0 … consent.N (the document in chunks, see
 *                  src/extension/sync_store.rs); settings {wikis: [origin…]}
 *   storage.local  consentText: the joined, valid document, mirrored by the background for
 *                  the content scripts (which read it without waking the background);
 *                  lastError {at, message, t}: the last failed save or rule update
 */
const TPR = (function () {
  'use strict';
  const api = chrome;
  let corePromise = null;

  /** The initialised core (the wasm-bindgen namespace). */
  function core() {
    if (!corePromise) {
      corePromise = wasm_bindgen({ module_or_path: api.runtime.getURL('core/tpr_auditor_bg.wasm') })
        .then(function () { return wasm_bindgen; });
    }
    return corePromise;
  }

  const encoder = new TextEncoder();
  /** Bytes of one storage item as the browser counts them (key + JSON of the value). */
  function itemBytes(key, value) {
    return encoder.encode(key).length + encoder.encode(JSON.stringify(value)).length;
  }

  async function syncItems() {
    return api.storage.sync.get(null);
  }

  /** The stored document text, or null; throws when the items are incomplete. */
  async function storedConsent(items) {
    const w = await core();
    const text = w.joinSync(items || await syncItems());
    return typeof text === 'string' ? text : null;
  }

  async function recordError(at, message) {
    await api.storage.local.set({ lastError: message ? { at: at, message: message, t: Date.now() } : null });
  }

  /**
   * Saves a consent document to storage.sync. `merge`: a page's save, merged with what is
   * stored (mergePageSave: every rule is kept; the mode and defaults are the page's only if
   * it changed them from `base`, the stored text it last adopted); otherwise replace (the
   * options page's editor). Validates first. Resolves with the stored text; rejects with an
   * Error whose `errors` (validation) or `quota` (storage full) say why — nothing is written
   * then, so no stored rule is lost.
   */
  async function saveConsent(text, merge, base) {
    const w = await core();
    w.parseConsent(text); // throws with every error and its position
    const items = await syncItems();
    let stored = null;
    try { stored = w.joinSync(items); } catch (e) { stored = null; }
    const doc = merge ? w.mergePageSave(text, typeof base === 'string' ? base : undefined, stored == null ? undefined : stored) : text;
    let total = 0;
    for (const k of Object.keys(items)) total += itemBytes(k, items[k]);
    const others = total - w.consentBytes(items);
    let plan;
    try {
      plan = w.planSync(doc, others);
    } catch (e) {
      await recordError('save', e.message);
      throw e;
    }
    try {
      await api.storage.sync.set(plan.items);
    } catch (e) {
      const err = new Error('the browser refused to save the consent list (' + e.message + '); the stored list is unchanged');
      await recordError('save', err.message);
      throw err;
    }
    const stale = w.staleSyncKeys(Object.keys(items), plan.chunks);
    if (stale.length) await api.storage.sync.remove(stale);
    const joined = w.joinSync(Object.assign({}, items, plan.items));
    await api.storage.local.set({ consentText: joined });
    await recordError('save', null);
    return joined;
  }

  async function settings() {
    const got = await api.storage.sync.get('settings');
    const s = got.settings && typeof got.settings === 'object' ? got.settings : {};
    return { wikis: Array.isArray(s.wikis) ? s.wikis.filter(function (x) { return typeof x === 'string'; }) : [] };
  }

  async function saveSettings(s) {
    await api.storage.sync.set({ settings: { wikis: s.wikis } });
  }

  /** `https://wiki.example.org` (or with a path) → the origin, or null. */
  function wikiOrigin(text) {
    try {
      const u = new URL(String(text).trim());
      if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
      return u.origin;
    } catch (e) { return null; }
  }

  /** The match pattern of a wiki origin (ports are not part of match patterns). */
  function wikiPattern(origin) {
    const u = new URL(origin);
    return u.protocol + '//' + u.hostname + '/*';
  }

  return {
    api: api,
    core: core,
    itemBytes: itemBytes,
    syncItems: syncItems,
    storedConsent: storedConsent,
    saveConsent: saveConsent,
    recordError: recordError,
    settings: settings,
    saveSettings: saveSettings,
    wikiOrigin: wikiOrigin,
    wikiPattern: wikiPattern,
  };
})();
