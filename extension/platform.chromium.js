/*
 * TPR Auditor extension — Chromium's side of the few things the browsers do differently
 * (chosen at build time: this file becomes platform.js in dist/extension/chromium/).
 * The fallback core runs in an offscreen document: a service worker has no DOM and is
 * stopped when idle, an offscreen document lives while pages need it.
 */
const PLATFORM = {
  name: 'chromium',
  async ensureCoreHost() {
    const url = chrome.runtime.getURL('offscreen.html');
    const existing = await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [url] });
    if (existing.length) return;
    try {
      await chrome.offscreen.createDocument({
        url: 'offscreen.html',
        reasons: ['WORKERS'],
        justification: 'Runs the auditor core (WebAssembly) for wiki pages whose Content-Security-Policy forbids WebAssembly in the page.',
      });
    } catch (e) {
      // Two pages asking at once: the second creation fails because the first succeeded.
      const again = await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [url] });
      if (!again.length) throw e;
    }
  },
};
