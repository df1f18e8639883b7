/**
 * MediaWiki:Gadget-PageStats.js (demo), loaded as
 * /w/index.php?title=MediaWiki:Gadget-PageStats.js&action=raw&ctype=text/javascript —
 * the auditor names its source `user-script: MediaWiki:Gadget-PageStats.js`.
 *
 * Requests: an analytics beacon that carries the page name, a tracking pixel that carries the
 * user name (new Image), and a first-party badge image (<img>).
 */
( function () {
	'use strict';
	var g = window.demoGadget( 'PageStats' );
	var page = mw.config.get( 'wgPageName' );
	var user = mw.config.get( 'wgUserName' ).replace( / /g, '_' );

	var beacon = 'http://collect.analytics.test:@@FAKE_PORT@@/beacon?page=' + encodeURIComponent( page );
	var queued = navigator.sendBeacon( beacon, JSON.stringify( { event: 'pageview', page: page } ) );
	g.track( 'beacon', beacon, queued ? Promise.resolve() : Promise.reject( new Error( 'sendBeacon refused' ) ) );

	var pixel = 'http://pixel.analytics.test:@@FAKE_PORT@@/p.gif?user=' + encodeURIComponent( user );
	var img = new Image();
	g.track( 'img', pixel, g.loaded( img ) );
	img.src = pixel;

	var badge = '/static/pageviews-badge.svg';
	var el = document.createElement( 'img' );
	el.alt = 'page views';
	el.className = 'demo-badge';
	g.track( 'img', badge, g.loaded( el ) );
	el.src = badge;
	var indicators = document.getElementById( 'demo-indicators' );
	( indicators || document.body ).appendChild( el );

	g.end();
}() );
