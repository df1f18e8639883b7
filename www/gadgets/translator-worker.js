/* Worker of the demo Translator gadget (first party, /gadgets/translator-worker.js): fetch()es a
   third-party translation API from inside the worker. Requests made by workers the page created
   belong to the page (SPEC §4). */
'use strict';
self.onmessage = function ( e ) {
	var url = 'http://api.thirdparty.test:@@FAKE_PORT@@/translate/worker?text=' + encodeURIComponent( e.data.text );
	fetch( url ).then( function ( r ) {
		return r.json();
	} ).then( function () {
		self.postMessage( { ok: true } );
	}, function ( err ) {
		self.postMessage( { ok: false, error: String( err ) } );
	} );
};
