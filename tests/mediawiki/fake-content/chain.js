/* External script on a Toolforge host, loaded by gadget probe-chain; it fetch()es a third party:
   the chain is gadget probe-chain -> http://chain.toolforge.org/chain.js -> api.thirdparty.test. */
( function () {
	var url = 'http://api.thirdparty.test:@@FAKE_PORT@@/api/chain';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'chain.js', url: url } );
	fetch( url ).then( function ( r ) { return r.json(); } ).then( function () {
		( window.tprProbeDone = window.tprProbeDone || {} )[ 'probe-chain' ] = true;
	} );
}() );
