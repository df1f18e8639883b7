/* consent-b (issue 5 item 6): inert unless the page URL has tprconsent=ask. Then it makes the
   same request as consent-a's first one. State in window.tprConsent.b1. */
( function () {
	if ( !/[?&]tprconsent=ask(&|$)/.test( location.search ) ) {
		return;
	}
	var state = window.tprConsent = window.tprConsent || {};
	state.b1 = 'pending';
	fetch( 'http://api.thirdparty.test:@@FAKE_PORT@@/api/consent' ).then( function ( r ) {
		return r.json();
	} ).then( function () {
		state.b1 = 'ok';
	}, function ( e ) {
		state.b1 = 'error:' + ( e && e.name );
	} );
}() );
