/**
 * Gadget Charinsert (demo), loaded in ResourceLoader debug mode as
 * /w/load.php?debug=1&modules=ext.gadget.Charinsert&only=scripts —
 * the auditor names its source `gadget: Charinsert`.
 *
 * Requests: a Google-Fonts-style stylesheet (<link rel=stylesheet>), and an inserted <style>
 * whose text has an @import, a background url() and an @font-face, all on third-party hosts.
 */
( function () {
	'use strict';
	var g = window.demoGadget( 'Charinsert' );
	var cdn = 'http://cdn.thirdparty.test:@@FAKE_PORT@@/charinsert/';

	var fonts = 'http://fonts.googleapis.com:@@FAKE_PORT@@/css2?family=Noto+Sans&display=swap';
	var link = document.createElement( 'link' );
	link.rel = 'stylesheet';
	link.href = fonts;
	g.track( 'style', fonts, g.loaded( link ) );
	document.head.appendChild( link );

	var style = document.createElement( 'style' );
	style.textContent = [
		'@import url("' + cdn + 'theme.css");',
		'@font-face { font-family: "Charinsert Symbols"; src: url("' + cdn + 'symbols.woff2") format("woff2"); }',
		'.demo-charinsert { font-family: "Charinsert Symbols", sans-serif;',
		'  background: #f8f9fa url("http://img.thirdparty.test:@@FAKE_PORT@@/charinsert/bg.png") no-repeat right top; }'
	].join( '\n' );
	g.track( 'css-import', cdn + 'theme.css', g.loaded( style ) );
	document.head.appendChild( style );

	// The character bar under the edit box; using the font makes the browser load it.
	var box = document.createElement( 'div' );
	box.className = 'demo-charinsert';
	box.textContent = 'Insert: – — … ° ≈ ≠ ≤ ≥ ± − × ÷ ← → · §';
	( document.getElementById( 'demo-gadget-area' ) || document.body ).appendChild( box );
	if ( document.fonts && document.fonts.load ) {
		// The demo's fake font host serves a few bytes that do not decode as a font (the console
		// says so): what counts here is that the font was fetched, as resource timing tells.
		var symbols = cdn + 'symbols.woff2';
		g.track( 'font-face', symbols, document.fonts.load( '1em "Charinsert Symbols"' ).catch( function () {} )
			.then( function () {
				if ( !performance.getEntriesByName( symbols ).length ) {
					throw new Error( 'font not fetched: ' + symbols );
				}
			} ) );
	}

	g.end();
}() );
