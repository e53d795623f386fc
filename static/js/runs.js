// Live regions of the runs dashboard (templates/runs*.templ, web/sse.go).
//
// An element with data-live="/url" is kept current by the Server-Sent Events stream at that
// URL: each "update" event carries the region's new HTML, rendered on the server by the same
// templ component as the page; "done" means nothing will change any more. Which <details>
// the reader opened (or closed) is kept across updates, by their data-key, and so are the
// checkboxes an admin ticked for a bulk action (input[type=checkbox][data-key]).
(function () {
  'use strict';

  function swap(el, html) {
    var opened = {};
    var ticked = {};
    el.querySelectorAll('details[data-key]').forEach(function (d) { opened[d.dataset.key] = d.open; });
    el.querySelectorAll('input[type=checkbox][data-key]').forEach(function (b) { ticked[b.dataset.key] = b.checked; });
    el.innerHTML = html;
    el.querySelectorAll('details[data-key]').forEach(function (d) {
      if (d.dataset.key in opened) d.open = opened[d.dataset.key];
    });
    el.querySelectorAll('input[type=checkbox][data-key]').forEach(function (b) {
      if (ticked[b.dataset.key]) b.checked = true;
    });
    if (window.htmx) window.htmx.process(el);
    el.dataset.updates = String(Number(el.dataset.updates || '0') + 1);
    el.dispatchEvent(new CustomEvent('live:update', { bubbles: true }));
  }

  function follow(el) {
    var source = new EventSource(el.dataset.live);
    el.dataset.liveState = 'connecting';
    source.addEventListener('open', function () { el.dataset.liveState = 'open'; });
    source.addEventListener('update', function (e) { swap(el, e.data); });
    source.addEventListener('done', function () {
      source.close();
      el.dataset.liveState = 'done';
    });
    // On a dropped connection EventSource reconnects by itself (the server sets retry).
    source.addEventListener('error', function () {
      if (source.readyState === EventSource.CLOSED) el.dataset.liveState = 'closed';
    });
    window.addEventListener('pagehide', function () { source.close(); });
  }

  function start() {
    document.querySelectorAll('[data-live]').forEach(follow);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
