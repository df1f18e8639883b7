/**
 * MediaWiki:Common.js of the demo wiki (ResourceLoader module `site`), loaded in debug mode as
 * /w/load.php?debug=1&modules=site&only=scripts — the auditor names its source `site-script: site`.
 *
 * Requests: a first-party API call (fetch) and a preload of an icon font from a third-party CDN.
 */
( function () {
	'use strict';
	var g = window.demoGadget( 'site' );

	// fetch() to the wiki's own API: first party.
	var api = '/w/api.php?action=query&meta=siteinfo&siprop=general&format=json';
	g.track( 'fetch', api, fetch( api ).then( function ( r ) {
		return r.json();
	} ) );

	// <link rel=preload> of a web font on a third-party CDN.
	var font = 'http://cdn.thirdparty.test:@@FAKE_PORT@@/fonts/site-icons.woff2';
	var link = document.createElement( 'link' );
	link.rel = 'preload';
	link.as = 'font';
	link.type = 'font/woff2';
	link.crossOrigin = 'anonymous';
	link.href = font;
	g.track( 'preload', font, g.loaded( link ) );
	document.head.appendChild( link );

	g.end();
}() );
