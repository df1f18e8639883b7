/* probe-iframe: an <iframe src> to a third-party host, created and appended to the body. */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://frame.thirdparty.test:@@FAKE_PORT@@/frame.html';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-iframe', url: url } );
	$( function () {
		var frame = document.createElement( 'iframe' );
		frame.id = 'tpr-probe-iframe';
		frame.width = 20;
		frame.height = 20;
		frame.onload = function () {
			done[ 'probe-iframe' ] = true;
		};
		frame.src = url;
		document.body.appendChild( frame );
	} );
}() );
