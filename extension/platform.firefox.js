/*
 * TPR Auditor extension — Firefox's side of the few things the browsers do differently
 * (chosen at build time: this file becomes platform.js in dist/extension/firefox/).
 * The fallback core runs in the background page itself (core-host.js is one of its scripts).
 */
const PLATFORM = {
  name: 'firefox',
  async ensureCoreHost() { /* the background page is the core host */ },
};
