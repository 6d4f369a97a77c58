/* The live parts of the log, a message's page and a bulk's page poll with htmx ("every Ns"). A poll is
 * skipped while the focus is inside the part it would redraw (data-live-hold names it by id), so a
 * keyboard or screen-reader user is never thrown out of what they are reading. This is a listener, not an
 * htmx trigger filter, because filters are evaluated code and the CSP allows no eval. */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var poller = event.detail && event.detail.elt;
    var held = poller && poller.dataset ? document.getElementById(poller.dataset.liveHold || "") : null;
    if (held && held.contains(document.activeElement)) event.preventDefault();
  });
})();
