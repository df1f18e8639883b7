/* User:Admin/common.js (module "user"): fetch() to a third-party host, then importScript() of a
   second user script, User:Admin/extra.js (a <script src> to this wiki's index.php?action=raw). */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://api.thirdparty.test:@@FAKE_PORT@@/api/user';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'user', url: url } );
	fetch( url ).then( function ( r ) { return r.json(); } ).then( function () {
		done.user = true;
	} );
	importScript( 'User:Admin/extra.js' );
}() );
