/**
 * MediaWiki:Gadget-Translator.js (demo), loaded as
 * /w/index.php?title=MediaWiki:Gadget-Translator.js&action=raw&ctype=text/javascript —
 * the auditor names its source `user-script: MediaWiki:Gadget-Translator.js`.
 *
 * Requests: an external library from a third-party CDN (<script src>, executable), which in turn
 * fetch()es a translation API (its source is that library, with the gadget in its chain); a
 * dynamic import() of an ES module from the same CDN; and a Worker from the wiki itself, which
 * fetch()es the translation API from inside the worker.
 */
( function () {
	'use strict';
	var g = window.demoGadget( 'Translator' );
	var cdn = 'http://cdn.thirdparty.test:@@FAKE_PORT@@/translate/';

	var lib = cdn + 'translate-lib.js';
	var script = document.createElement( 'script' );
	script.src = lib;
	g.track( 'script', lib, g.loaded( script ).then( function () {
		// translate-lib.js sets this to the promise of its own API call.
		return window.demoTranslateLib;
	} ) );
	document.head.appendChild( script );

	var esm = cdn + 'translate-esm.mjs';
	g.track( 'module', esm, import( esm ).then( function ( mod ) {
		return mod.languages;
	} ) );

	var workerUrl = '/gadgets/translator-worker.js';
	g.track( 'worker', workerUrl, new Promise( function ( resolve, reject ) {
		var worker = new Worker( workerUrl );
		worker.onmessage = function ( e ) {
			worker.terminate();
			if ( e.data && e.data.ok ) {
				resolve();
			} else {
				reject( new Error( 'worker: ' + ( e.data && e.data.error ) ) );
			}
		};
		worker.onerror = function () {
			reject( new Error( 'Worker failed: ' + workerUrl ) );
		};
		worker.postMessage( { text: 'Demo' } );
	} ) );

	g.end();
}() );
