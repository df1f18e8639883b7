/* An ES module on a third-party CDN (http://cdn.thirdparty.test:@@FAKE_PORT@@/translate/translate-esm.mjs),
   loaded by the demo Translator gadget with a dynamic import(). */
export const languages = [ 'de', 'fr', 'nl' ];
