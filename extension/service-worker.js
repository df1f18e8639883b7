/* TPR Auditor extension — Chromium's background service worker: the shared scripts. */
importScripts('core/tpr_auditor.js', 'common.js', 'platform.js', 'background.js');
