/* MediaWiki:Common.js (module "site"): fetch() to a third-party host. */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://api.thirdparty.test:@@FAKE_PORT@@/api/site';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'site', url: url } );
	fetch( url ).then( function ( r ) { return r.json(); } ).then( function () {
		done.site = true;
	} );
}() );
