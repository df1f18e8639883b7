/**
 * MediaWiki:Gadget-WikiMiniAtlas.js (demo), loaded as
 * /w/index.php?title=MediaWiki:Gadget-WikiMiniAtlas.js&action=raw&ctype=text/javascript —
 * the auditor names its source `user-script: MediaWiki:Gadget-WikiMiniAtlas.js`.
 *
 * Requests: a map <iframe> from a Toolforge tool (cloud, tool "wikiminiatlas", executable), a
 * map tile from a Cloud VPS project (new Image, project "maps"), and a pronunciation <audio>
 * from a third-party media host.
 */
( function () {
	'use strict';
	var g = window.demoGadget( 'WikiMiniAtlas' );
	var area = document.getElementById( 'demo-gadget-area' ) || document.body;

	var mapUrl = 'http://wikiminiatlas.toolforge.org:@@FAKE_PORT@@/map.html?lat=0&lon=0';
	var frame = document.createElement( 'iframe' );
	frame.className = 'demo-atlas';
	frame.title = 'WikiMiniAtlas';
	g.track( 'frame', mapUrl, g.loaded( frame ) );
	frame.src = mapUrl;
	area.appendChild( frame );

	var tile = 'http://maps.wmcloud.org:@@FAKE_PORT@@/osm/1/0/0.png';
	var img = new Image();
	g.track( 'img', tile, g.loaded( img ) );
	img.src = tile;

	var sound = 'http://media.thirdparty.test:@@FAKE_PORT@@/pronounce/Demo_page.wav';
	var audio = document.createElement( 'audio' );
	audio.controls = true;
	audio.preload = 'auto';
	g.track( 'media', sound, g.loaded( audio, 'loadedmetadata' ) );
	audio.src = sound;
	area.appendChild( audio );

	g.end();
}() );
