/* consent-a (issue 5 items 6 and 8): inert unless the page URL has tprconsent=ask. Then it
   fetch()es a third-party API, and once that answered, a second ("next") request to the same
   destination. State in window.tprConsent: 'pending' | 'ok' | 'error:<name>'. */
( function () {
	if ( !/[?&]tprconsent=ask(&|$)/.test( location.search ) ) {
		return;
	}
	var state = window.tprConsent = window.tprConsent || {};
	var base = 'http://api.thirdparty.test:@@FAKE_PORT@@/api/consent';
	function track( key, url ) {
		state[ key ] = 'pending';
		return fetch( url ).then( function ( r ) {
			return r.json();
		} ).then( function () {
			state[ key ] = 'ok';
		}, function ( e ) {
			state[ key ] = 'error:' + ( e && e.name );
			throw e;
		} );
	}
	track( 'a1', base ).then( function () {
		return track( 'a2', base + '-next' );
	} ).catch( function () {} );
}() );
