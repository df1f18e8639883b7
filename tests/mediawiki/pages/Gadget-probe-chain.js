/* probe-chain: mw.loader.getScript() of an external (Toolforge) script, which itself fetch()es
   a third-party API (see fake-content/chain.js); chain.js sets the marker. */
( function () {
	var url = 'http://chain.toolforge.org:@@FAKE_PORT@@/chain.js';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-chain', url: url } );
	mw.loader.getScript( url );
}() );
