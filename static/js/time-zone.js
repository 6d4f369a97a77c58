/* Forms with a date-time in the browser's time zone (send later, reschedule): tell the server which zone. */
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) { /* the server's zone is used */ }
  if (!zone) return;
  document.querySelectorAll("input[data-time-zone]").forEach(function (input) { input.value = zone; });
  // A time the server wrote (in its own zone) shown in this one.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  document.querySelectorAll("input[type=datetime-local][data-utc]").forEach(function (input) {
    var when = new Date(input.dataset.utc);
    if (isNaN(when.getTime())) return;
    input.value = when.getFullYear() + "-" + pad(when.getMonth() + 1) + "-" + pad(when.getDate()) + "T" +
      pad(when.getHours()) + ":" + pad(when.getMinutes());
  });
  document.querySelectorAll("[data-time-zone-label]").forEach(function (label) { label.textContent = "(" + zone + ")"; });
})();
