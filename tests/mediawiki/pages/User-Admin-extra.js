/* User:Admin/extra.js: a user script loaded by URL with importScript() from User:Admin/common.js. */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://api.thirdparty.test:@@FAKE_PORT@@/api/extra';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'User:Admin/extra.js', url: url } );
	fetch( url ).then( function ( r ) { return r.json(); } ).then( function () {
		done[ 'User:Admin/extra.js' ] = true;
	} );
}() );
