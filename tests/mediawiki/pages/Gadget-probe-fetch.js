/* probe-fetch: fetch() to a third-party host. Deliberately ES2017 (arrow, const, async):
   MediaWiki 1.39 only accepts it because $wgResourceLoaderValidateJS = false. */
( async () => {
	const done = window.tprProbeDone = window.tprProbeDone || {};
	const url = 'http://api.thirdparty.test:@@FAKE_PORT@@/api/probe-fetch';
	( window.tprProbeLog = window.tprProbeLog || [] ).push( { probe: 'probe-fetch', url } );
	const r = await fetch( url );
	await r.json();
	done[ 'probe-fetch' ] = true;
} )();
