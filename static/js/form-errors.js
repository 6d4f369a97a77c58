/* A form the server refused: the first field in error takes the focus (its error is linked to it by
   aria-describedby, so a screen reader reads both); the summary above the form lists every problem. */
(function () {
  "use strict";
  var first = document.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea");
  if (first) {
    first.focus();
    return;
  }
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
})();
