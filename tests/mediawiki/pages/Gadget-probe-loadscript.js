/* probe-loadscript: mw.loader.load() of an external script. The script itself sets the marker. */
( function () {
	var url = 'http://cdn.thirdparty.test:@@FAKE_PORT@@/probe-loadscript.js';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-loadscript', url: url } );
	mw.loader.load( url );
}() );
