/* The composer: its address counter (says when a send will be split into several SES messages), and focus on errors. */
(function () {
  "use strict";

  var form = document.getElementById("compose-form");
  if (!form) return;
  var fields = form.querySelectorAll("[data-address-field]");
  var note = document.getElementById("split-note");
  var countEl = document.getElementById("address-count");
  var nounEl = document.getElementById("address-noun");
  var callsEl = document.getElementById("split-calls");
  var groupSize = parseInt((note && note.dataset.groupSize) || "50", 10);
  // An address: something@something, outside quotes and angle brackets.
  var ADDRESS = /[^\s<>,;"'()]+@[^\s<>,;"'()]+/g;

  function count() {
    var total = 0;
    fields.forEach(function (input) {
      var matches = input.value.match(ADDRESS);
      total += matches ? matches.length : 0;
    });
    return total;
  }

  function update() {
    var total = count();
    if (countEl) countEl.textContent = String(total);
    if (nounEl) nounEl.textContent = total === 1 ? "address" : "addresses";
    if (!note) return;
    var calls = Math.ceil(total / groupSize);
    if (callsEl) callsEl.textContent = String(calls);
    note.hidden = total <= groupSize;
  }

  fields.forEach(function (input) { input.addEventListener("input", update); });
  update();

  // After a refused send, the summary of every problem takes the focus, so a
  // screen reader reads it and a keyboard user tabs on from there.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
