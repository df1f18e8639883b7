/* External script loaded by gadget probe-loadscript via mw.loader.load(). Makes no request. */
( window.tprProbeDone = window.tprProbeDone || {} )[ 'probe-loadscript' ] = true;
