/* consent-kinds (issue 5 item 7): inert unless the page URL has tprconsent=block. Then it makes
   a script insertion, an image, an iframe and an XHR to each of two hosts (ok.thirdparty.test,
   which the test consents to, and no.thirdparty.test, which it does not) and records what the
   page sees in window.tprConsentKinds[KIND + ':' + HOSTLABEL]: the events fired ('load',
   'error', ...) and, for XHR, readyState and status. */
( function () {
	if ( !/[?&]tprconsent=block(&|$)/.test( location.search ) ) {
		return;
	}
	var seen = window.tprConsentKinds = window.tprConsentKinds || {};
	function rec( key, what ) {
		( seen[ key ] = seen[ key ] || [] ).push( what );
	}
	function element( tag, key, url, parent ) {
		var el = document.createElement( tag );
		el.onload = function () {
			rec( key, 'load' );
		};
		el.onerror = function () {
			rec( key, 'error' );
		};
		if ( tag === 'iframe' ) {
			el.width = 20;
			el.height = 20;
		}
		el.src = url;
		if ( parent ) {
			parent.appendChild( el );
		}
		return el;
	}
	function run( label ) {
		var origin = 'http://' + label + '.thirdparty.test:@@FAKE_PORT@@';
		element( 'script', 'script:' + label, origin + '/kinds/' + label + '.js', document.head );
		window.tprConsentImages = window.tprConsentImages || [];
		window.tprConsentImages.push( element( 'img', 'img:' + label, origin + '/kinds/' + label + '.png', null ) );
		element( 'iframe', 'iframe:' + label, origin + '/kinds/' + label + '.html', document.body );
		var xhr = new XMLHttpRequest();
		xhr.open( 'GET', origin + '/api/kinds-' + label );
		xhr.onload = function () {
			rec( 'xhr:' + label, 'load:' + xhr.readyState + ':' + xhr.status );
		};
		xhr.onerror = function () {
			rec( 'xhr:' + label, 'error:' + xhr.readyState + ':' + xhr.status );
		};
		xhr.send();
	}
	$( function () {
		run( 'ok' );
		run( 'no' );
	} );
}() );
