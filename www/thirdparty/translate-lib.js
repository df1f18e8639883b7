/* "translate-lib.js", an external library on a third-party CDN (served by the demo's fake hosts as
   http://cdn.thirdparty.test:@@FAKE_PORT@@/translate/translate-lib.js), inserted by the demo
   Translator gadget. Its own request is attributed to this script, with the gadget in its chain:
   user-script MediaWiki:Gadget-Translator.js -> this script -> api.thirdparty.test. */
( function () {
	'use strict';
	var url = 'http://api.thirdparty.test:@@FAKE_PORT@@/translate/v1?text=Hello&to=de';
	window.demoTranslateLib = fetch( url ).then( function ( r ) {
		return r.json();
	} );
}() );
