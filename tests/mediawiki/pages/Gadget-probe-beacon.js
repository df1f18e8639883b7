/* probe-beacon: navigator.sendBeacon to an analytics host (done as soon as the beacon is queued). */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://collect.analytics.test:@@FAKE_PORT@@/beacon';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-beacon', url: url } );
	if ( navigator.sendBeacon( url, 'probe=beacon' ) ) {
		done[ 'probe-beacon' ] = true;
	}
}() );
