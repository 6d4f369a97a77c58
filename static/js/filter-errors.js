/* Filters the server refused: the summary of what is wrong takes the focus, so a keyboard or screen-reader
   user starts from it; each field's own error is linked to its field (aria-describedby). */
(function () {
  "use strict";
  var summary = document.getElementById("filter-errors");
  if (summary) summary.focus();
})();
