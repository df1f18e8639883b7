/* probe-websocket: new WebSocket to a third-party host; done when the echo comes back. */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'ws://ws.thirdparty.test:@@FAKE_PORT@@/ws';
	var ws = new WebSocket( url );
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-websocket', url: url } );
	ws.onopen = function () {
		ws.send( 'tpr-probe' );
	};
	ws.onmessage = function () {
		done[ 'probe-websocket' ] = true;
		ws.close();
	};
}() );
