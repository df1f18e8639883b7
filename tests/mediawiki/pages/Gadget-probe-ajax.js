/* probe-ajax: jQuery $.ajax (XMLHttpRequest) to a Wikimedia Cloud (Toolforge) host. */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://probe.toolforge.org:@@FAKE_PORT@@/api/probe-ajax';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-ajax', url: url } );
	$.ajax( { url: url, dataType: 'json' } ).then( function () {
		done[ 'probe-ajax' ] = true;
	} );
}() );
