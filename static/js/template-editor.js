/* The template editor: a live preview as you type (debounced), syntax errors at their field, the variables panel,
   sample data that follows the variables, and focus on the first error after a refused save.
   The preview is rendered by the server (emails:template-preview, the same engine a send uses, the HTML
   sanitised) and shown in an iframe with an empty sandbox: no scripts, no same-origin. */
(function () {
  "use strict";

  var form = document.getElementById("template-form");
  if (!form) return;
  var DELAY = 400;
  var LIVE = ["subject", "html", "text", "sampleData"];
  var url = form.getAttribute("data-preview-url");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var field = function (name) { return form.elements.namedItem(name); };
  var out = {
    status: document.getElementById("preview-status"),
    box: document.getElementById("preview-out"),
    subject: document.getElementById("preview-subject"),
    html: document.getElementById("preview-html"),
    text: document.getElementById("preview-text"),
    variables: document.getElementById("variables-list"),
    noVariables: document.getElementById("variables-empty"),
    note: document.getElementById("preview-note")
  };
  var shown = false;  // whether a preview has been rendered yet
  var timer = null;
  var asked = 0;
  // The sample data's placeholders ("[name]") were put there by this page, so they may be taken away again.
  var sample = field("sampleData");

  function say(text) { out.status.textContent = text; }

  function refresh() {
    var body = new FormData();
    LIVE.forEach(function (name) { body.append(name, field(name).value); });
    var mine = ++asked;
    say("Updating…");
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": token } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (answer) { if (mine === asked) show(answer); })
      .catch(function () {
        if (mine === asked) say("The preview could not be updated. Is your session still open?");
      });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DELAY);
  }

  function show(answer) {
    LIVE.forEach(function (name) {
      errorsShow(name, answer.errors.filter(function (e) { return e.field === name; }).map(function (e) { return e.message; }));
    });
    variablesShow(answer.variables);
    if (answer.html === null) {
      // Keep the last good preview, marked as out of date, until the errors are fixed.
      out.box.classList.add("is-stale");
      var count = answer.errors.length;
      var errors = count + " error" + (count === 1 ? "" : "s");
      say("Preview paused: " + errors + " to fix.");
      out.note.textContent = shown
        ? "Showing the last preview without errors: fix the " + errors + " marked in the form to update it."
        : "Fix the " + errors + " marked in the form to see the preview.";
      out.note.hidden = false;
      out.box.hidden = !shown;
      return;
    }
    shown = true;
    out.note.hidden = true;
    out.box.hidden = false;
    out.box.classList.remove("is-stale");
    out.subject.textContent = answer.subject;
    out.html.srcdoc = answer.html;
    out.text.textContent = answer.text;
    if (sampleFollow(answer.variables)) {
      schedule();  // the sample data changed: show it rendered
    } else {
      say("Preview up to date.");
    }
  }

  function errorsShow(name, messages) {
    var list = document.getElementById("id_" + name + "_live");
    var input = field(name);
    if (!list || !input) return;
    list.textContent = "";
    messages.forEach(function (message) {
      var item = document.createElement("li");
      item.textContent = message;
      list.appendChild(item);
    });
    list.hidden = messages.length === 0;
    // Only ids the page has: the live list is named while it holds something.
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
      return id && id !== list.id;
    });
    if (messages.length) ids.unshift(list.id);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
    var saved = document.getElementById("id_" + name + "_errors");
    var wrong = messages.length > 0 || !!saved;
    if (wrong) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    var box = document.getElementById("field-" + name);
    if (box) box.classList.toggle("has-error", wrong);
  }

  function variablesShow(variables) {
    out.variables.textContent = "";
    variables.forEach(function (v) {
      var item = document.createElement("li");
      var code = document.createElement("code");
      code.textContent = v.name;
      var badge = document.createElement("span");
      badge.className = "badge " + (v.required ? "badge-required" : "badge-optional");
      badge.textContent = v.required ? "required" : "optional";
      item.appendChild(code);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(badge);
      out.variables.appendChild(item);
    });
    out.noVariables.hidden = variables.length > 0;
  }

  /* The sample data follows the variables while it is a JSON object: a new variable gets its placeholder,
     a placeholder whose variable is gone goes, and what the user typed stays. Not while they type in it. */
  function sampleFollow(variables) {
    if (document.activeElement === sample || sample.readOnly) return false;
    var data;
    try {
      data = sample.value.trim() ? JSON.parse(sample.value) : {};
    } catch (e) {
      return false;
    }
    if (!data || typeof data !== "object" || Array.isArray(data)) return false;
    var names = variables.map(function (v) { return v.name; });
    var changed = false;
    Object.keys(data).forEach(function (key) {
      if (names.indexOf(key) < 0 && data[key] === "[" + key + "]") { delete data[key]; changed = true; }
    });
    names.forEach(function (name) {
      if (!Object.prototype.hasOwnProperty.call(data, name)) { data[name] = "[" + name + "]"; changed = true; }
    });
    if (changed) sample.value = JSON.stringify(data, null, 2);
    return changed;
  }

  LIVE.forEach(function (name) { field(name).addEventListener("input", schedule); });
  refresh();

  // After a refused save, the first field in error takes the focus (the summary above lists them all).
  if (document.getElementById("error-summary")) {
    var first = form.querySelector("[aria-invalid=true]");
    (first || document.getElementById("error-summary")).focus();
  }
})();
