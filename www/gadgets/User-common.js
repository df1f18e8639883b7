/**
 * User:Demo User/common.js (demo), the user's own script, loaded as
 * /w/index.php?title=User:Demo_User/common.js&action=raw&ctype=text/javascript —
 * the auditor names its source `user-script: User:Demo User/common.js`.
 *
 * Requests: a live-changes WebSocket and an EventSource on a Cloud VPS project (wmcloud.org,
 * project "stream"), and a fetch() to a development server on localhost.
 */
( function () {
	'use strict';
	var g = window.demoGadget( 'UserCommon' );

	var wsUrl = 'ws://stream.wmcloud.org:@@FAKE_PORT@@/ws/recentchanges';
	g.track( 'websocket', wsUrl, new Promise( function ( resolve, reject ) {
		var ws = new WebSocket( wsUrl );
		ws.onopen = function () {
			ws.send( 'subscribe Demo_page' );
		};
		ws.onmessage = function () {
			ws.close();
			resolve();
		};
		ws.onerror = function () {
			reject( new Error( 'WebSocket failed: ' + wsUrl ) );
		};
	} ) );

	var sseUrl = 'http://stream.wmcloud.org:@@FAKE_PORT@@/v2/stream/events';
	g.track( 'eventsource', sseUrl, new Promise( function ( resolve, reject ) {
		var es = new EventSource( sseUrl );
		es.onmessage = function () {
			es.close();
			resolve();
		};
		es.onerror = function () {
			if ( es.readyState === EventSource.CLOSED ) {
				reject( new Error( 'EventSource failed: ' + sseUrl ) );
			}
		};
	} ) );

	var dev = 'http://localhost:@@FAKE_PORT@@/dev/status';
	g.track( 'fetch', dev, fetch( dev ).then( function ( r ) {
		return r.json();
	} ) );

	g.end();
}() );
