/*! KV Cache Lab embed host helper · MIT License · (c) KV Cache Lab authors
 * Makes embedded KV Cache Lab iframes follow the height of their content.
 * Usage: <script src="https://<site>/embed-host.js" defer></script> anywhere on the
 * page. Embed pages post {type: "kv-cache-lab:resize", height} to their parent; this
 * sets the height of the iframe that sent it, and only of such an iframe:
 * - the message must come from that iframe's own window (event.source);
 * - the iframe's src must be on the origin this script was loaded from (the KV Cache
 *   Lab site), and a message with a real origin must come from that origin too
 *   (sandboxed frames without allow-same-origin post from the opaque origin "null");
 * - the height is clamped to 50-10000 px, so no frame can cover the page;
 * - when at least one iframe on the page carries data-kv-cache-lab, only those are resized.
 * Without this script the iframes simply keep their fixed height. No dependencies, no
 * network requests.
 */
(function () {
  'use strict';
  if (window.__kvCacheLabHost) return;
  var TYPE = 'kv-cache-lab:resize';
  var MIN = 50;
  var MAX = 10000;

  function originOf(url, base) {
    try {
      return new URL(url, base).origin;
    } catch (e) {
      return null;
    }
  }

  // The site's origin is this script's own: document.currentScript is set while a classic
  // script (also with defer/async) runs. Without it there is no trustworthy origin: do nothing.
  var script = document.currentScript;
  var SITE = script && script.src ? originOf(script.src) : null;
  if (!SITE || SITE === 'null') return;
  window.__kvCacheLabHost = true;

  function frameFor(source) {
    if (!source) return null;
    var frames = document.getElementsByTagName('iframe');
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  window.addEventListener('message', function (event) {
    var data = event.data;
    if (!data || typeof data !== 'object' || data.type !== TYPE) return;
    if (event.origin !== 'null' && event.origin !== SITE) return;
    var height = Number(data.height);
    if (!isFinite(height)) return;
    var frame = frameFor(event.source);
    if (!frame) return;
    if (originOf(frame.getAttribute('src') || '', document.baseURI) !== SITE) return;
    var filtered = document.querySelector('iframe[data-kv-cache-lab]') !== null;
    if (filtered && !frame.hasAttribute('data-kv-cache-lab')) return;
    height = Math.round(Math.min(MAX, Math.max(MIN, height)));
    frame.style.height = height + 'px';
    frame.setAttribute('height', String(height));
  });
})();
