/*! KV Cache Lab embed host helper · MIT License · (c) KV Cache Lab authors
 * Makes embedded KV Cache Lab iframes follow the height of their content.
 * Usage: <script src="https://<site>/embed-host.js" defer></script> anywhere on the
 * page. Embed pages post {type: "kv-cache-lab:resize", height} to their parent; this
 * sets the height of the iframe that sent it. Only iframes carrying the
 * data-kv-cache-lab attribute are resized when at least one iframe on the page has
 * it; otherwise any iframe that sends the message is. Without this script the
 * iframes simply keep their fixed height. No dependencies, no network requests.
 */
(function () {
  'use strict';
  if (window.__kvCacheLabHost) return;
  window.__kvCacheLabHost = true;
  var TYPE = 'kv-cache-lab:resize';
  var MIN = 120;
  var MAX = 20000;

  function frameFor(source) {
    var frames = document.getElementsByTagName('iframe');
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  window.addEventListener('message', function (event) {
    var data = event.data;
    if (!data || typeof data !== 'object' || data.type !== TYPE) return;
    var height = Number(data.height);
    if (!isFinite(height)) return;
    var frame = frameFor(event.source);
    if (!frame) return;
    var filtered = document.querySelector('iframe[data-kv-cache-lab]') !== null;
    if (filtered && !frame.hasAttribute('data-kv-cache-lab')) return;
    height = Math.round(Math.min(MAX, Math.max(MIN, height)));
    frame.style.height = height + 'px';
    frame.setAttribute('height', String(height));
  });
})();
