/* probe-foreignapi: mw.ForeignApi (XMLHttpRequest with credentials) to another wiki's action API. */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://meta.wikimedia.test:@@FAKE_PORT@@/w/api.php';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-foreignapi', url: url } );
	new mw.ForeignApi( url ).get( { meta: 'siteinfo' } ).then( function () {
		done[ 'probe-foreignapi' ] = true;
	} );
}() );
