/**
 * MediaWiki:Gadget-HotCat.js (demo), loaded as
 * /w/index.php?title=MediaWiki:Gadget-HotCat.js&action=raw&ctype=text/javascript —
 * the auditor names its source `user-script: MediaWiki:Gadget-HotCat.js`.
 *
 * Requests: XMLHttpRequest to the wiki's API (first party) and to a Toolforge tool
 * (cloud, tool "hotcat"), the latter with credentials (carried data: cookies).
 */
( function () {
	'use strict';
	var g = window.demoGadget( 'HotCat' );

	function xhr( url, withCredentials ) {
		return new Promise( function ( resolve, reject ) {
			var req = new XMLHttpRequest();
			req.open( 'GET', url );
			req.withCredentials = !!withCredentials;
			req.onload = function () {
				resolve( req.status );
			};
			req.onerror = function () {
				reject( new Error( 'XHR failed: ' + url ) );
			};
			req.send();
		} );
	}

	var api = '/w/api.php?action=query&list=allcategories&acprefix=Demo&format=json';
	g.track( 'xhr', api, xhr( api ) );

	var suggest = 'http://hotcat.toolforge.org:@@FAKE_PORT@@/api/suggest?q=Demo+cat';
	g.track( 'xhr', suggest, xhr( suggest, true ) );

	// A category bar, as HotCat would add.
	var bar = document.getElementById( 'catlinks' );
	if ( bar ) {
		var span = document.createElement( 'span' );
		span.className = 'demo-hotcat';
		span.textContent = ' (+) HotCat';
		bar.appendChild( span );
	}

	g.end();
}() );
