/* probe-default (default-on gadget): fetch() to a third-party host. */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://api.thirdparty.test:@@FAKE_PORT@@/api/probe-default';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-default', url: url } );
	fetch( url ).then( function ( r ) { return r.json(); } ).then( function () {
		done[ 'probe-default' ] = true;
	} );
}() );
