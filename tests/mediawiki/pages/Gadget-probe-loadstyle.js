/* probe-loadstyle: mw.loader.load( url, 'text/css' ) of an external stylesheet.
   The stylesheet sets the custom property --tpr-probe-loadstyle on :root; done when it applies. */
( function () {
	var done = window.tprProbeDone = window.tprProbeDone || {};
	var url = 'http://cdn.thirdparty.test:@@FAKE_PORT@@/probe-loadstyle.css';
	var tries = 0;
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-loadstyle', url: url } );
	mw.loader.load( url, 'text/css' );
	( function poll() {
		if ( getComputedStyle( document.documentElement ).getPropertyValue( '--tpr-probe-loadstyle' ).trim() === '1' ) {
			done[ 'probe-loadstyle' ] = true;
		} else if ( ++tries < 400 ) {
			setTimeout( poll, 50 );
		}
	}() );
}() );
