/* probe-image: new Image().src to a third-party host (not inserted into the document). */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://img.thirdparty.test:@@FAKE_PORT@@/pixel.png?probe=image';
	var img = new Image();
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-image', url: url } );
	img.onload = function () {
		done[ 'probe-image' ] = true;
	};
	img.src = url;
}() );
