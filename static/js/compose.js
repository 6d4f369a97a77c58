/* The composer, enhanced: address chips validated as you type, counters against the real limits, suppression
   warnings on chips, the split-send notice when it applies, the template picker with its variables and a live
   preview, the browser's time zone for "Send later", one send per click, and focus on the first error.
   Without this script the form still works: every rule is the server's. */
(function () {
  "use strict";

  var form = document.getElementById("compose-form");
  if (!form) return;
  var maxPerField = parseInt(form.dataset.maxPerField || "50", 10);
  var maxTotal = parseInt(form.dataset.maxTotal || "100", 10);
  var groupSize = parseInt(form.dataset.groupSize || "50", 10);
  var marketing = form.dataset.marketing || "marketing";
  var csrf = (form.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  var sendButton = document.getElementById("send-button");
  var sendState = document.getElementById("send-state");
  var category = document.getElementById("id_category");
  var LABELS = { to: "To", cc: "Cc", bcc: "Bcc" };
  // One address, bare or as Name <address>: something@something.tld, no spaces or brackets in it.
  var BARE = /^[^\s<>@,;"]+@[^\s<>@,;"]+\.[^\s<>@,;"]+$/;
  var NAMED = /^(?:"[^"]*"|[^<>"]*)\s*<([^\s<>@,;"]+@[^\s<>@,;"]+\.[^\s<>@,;"]+)>$/;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text) node.textContent = text;
    return node;
  }

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, wait);
    };
  }

  // "a@x.com, Jane <j@y.com>; b@z.com": split on commas, semicolons and line breaks outside quotes and <>.
  function tokens(text) {
    var out = [], current = "", quoted = false, angled = false;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === '"') quoted = !quoted;
      else if (c === "<" && !quoted) angled = true;
      else if (c === ">" && !quoted) angled = false;
      if (!quoted && !angled && (c === "," || c === ";" || c === "\n")) {
        if (current.trim()) out.push(current.trim());
        current = "";
      } else {
        current += c;
      }
    }
    if (current.trim()) out.push(current.trim());
    return out;
  }

  function addressOf(entry) {
    if (BARE.test(entry)) return entry.toLowerCase();
    var named = NAMED.exec(entry);
    return named ? named[1].toLowerCase() : null;
  }

  // --- Chips -------------------------------------------------------------------------------------------------
  var suppressed = {};
  var fields = [];

  function ChipField(input) {
    var self = this;
    this.name = input.name;
    this.value = input; // keeps the name and the value the server reads
    this.entries = tokens(input.value);
    var id = input.id;
    var wrap = el("div", { "class": "chip-input" });
    this.list = el("ul", { "class": "chip-list", "aria-label": LABELS[this.name] + " recipients" });
    this.entry = el("input", {
      type: "text", id: id, autocomplete: "off", spellcheck: "false", "class": "chip-entry",
      placeholder: input.getAttribute("placeholder") || "", "aria-describedby": (input.getAttribute("aria-describedby") || "") + " " + id + "_count",
    });
    if (input.getAttribute("aria-invalid")) this.entry.setAttribute("aria-invalid", "true");
    input.type = "hidden";
    input.id = id + "_value";
    input.removeAttribute("aria-describedby");
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(this.list);
    wrap.appendChild(this.entry);
    this.counter = el("p", { "class": "field-count", id: id + "_count", "aria-live": "polite" });
    wrap.parentNode.insertBefore(this.counter, wrap.nextSibling);
    wrap.addEventListener("click", function (event) { if (event.target === wrap || event.target === self.list) self.entry.focus(); });
    this.entry.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === "," || event.key === ";") {
        if (self.entry.value.trim()) {
          event.preventDefault();
          self.commit();
        } else if (event.key === "Enter") {
          event.preventDefault(); // Enter in an address field never sends the form by accident
        }
      } else if (event.key === "Backspace" && !self.entry.value && self.entries.length) {
        self.entry.value = self.entries.pop();
        self.changed();
        event.preventDefault();
      }
    });
    this.entry.addEventListener("input", function () {
      if (/[,;\n]/.test(self.entry.value)) self.commit();
      else update();
    });
    this.entry.addEventListener("blur", function () { if (self.entry.value.trim()) self.commit(); });
    this.render();
  }

  ChipField.prototype.commit = function () {
    var text = this.entry.value;
    var quotes = (text.match(/"/g) || []).length;
    if (quotes % 2 === 1 || (text.indexOf("<") >= 0 && text.indexOf(">") < 0)) return; // still typing a name
    this.entries = this.entries.concat(tokens(text));
    this.entry.value = "";
    this.changed();
  };

  ChipField.prototype.changed = function () {
    this.render();
    update();
    checkSuppressed();
  };

  // Every entry, including what is typed and not yet a chip: what the server would read.
  ChipField.prototype.all = function () {
    return this.entries.concat(tokens(this.entry.value));
  };

  ChipField.prototype.render = function () {
    var self = this;
    this.value.value = this.all().join(", ");
    this.list.textContent = "";
    this.entries.forEach(function (entry, index) {
      var address = addressOf(entry);
      var warning = address && suppressed[address];
      var chip = el("li", { "class": "chip-item " + (address ? (warning ? "chip-warn" : "chip-ok") : "chip-bad") });
      chip.appendChild(el("span", { "class": "chip-text" }, entry));
      if (!address) chip.appendChild(el("span", { "class": "chip-why" }, "Not an email address"));
      if (warning) {
        chip.appendChild(el("span", { "class": "chip-why" }, warning.reason));
        if (form.hasAttribute("data-can-lift")) {
          var lift = el("button", { type: "button", "class": "chip-lift" }, "Lift");
          lift.setAttribute("aria-label", "Lift the suppression of " + address);
          lift.addEventListener("click", function () { liftSuppression(warning.id, address); });
          chip.appendChild(lift);
        }
      }
      var remove = el("button", { type: "button", "class": "chip-remove", "aria-label": "Remove " + entry }, "\u00d7");
      remove.addEventListener("click", function () {
        self.entries.splice(index, 1);
        self.changed();
        self.entry.focus();
      });
      chip.appendChild(remove);
      self.list.appendChild(chip);
    });
    var count = this.all().length;
    this.counter.textContent = count + " of " + maxPerField + " in " + LABELS[this.name];
    this.counter.classList.toggle("over", count > maxPerField);
  };

  form.querySelectorAll("[data-address-field]").forEach(function (input) { fields.push(new ChipField(input)); });

  // --- Counters, limits and the split-send notice ---------------------------------------------------------------
  var countEl = document.getElementById("address-count");
  var nounEl = document.getElementById("address-noun");
  var totalEl = document.getElementById("recipient-total");
  var limitNote = document.getElementById("limit-note");
  var splitNote = document.getElementById("split-note");

  function update() {
    var total = 0, problems = [], bad = 0;
    fields.forEach(function (field) {
      var all = field.all();
      total += all.length;
      bad += all.filter(function (entry) { return !addressOf(entry); }).length;
      if (all.length > maxPerField) problems.push(LABELS[field.name] + " has " + all.length + " addresses; at most " + maxPerField + " per field.");
      field.counter.textContent = all.length + " of " + maxPerField + " in " + LABELS[field.name];
      field.counter.classList.toggle("over", all.length > maxPerField);
      field.value.value = all.join(", ");
    });
    if (total > maxTotal) problems.push(total + " recipients in all; at most " + maxTotal + ".");
    countEl.textContent = String(total);
    nounEl.textContent = total === 1 ? "address" : "addresses";
    totalEl.classList.toggle("over", total > maxTotal);
    limitNote.hidden = problems.length === 0;
    limitNote.textContent = problems.join(" ");
    sendButton.disabled = problems.length > 0 || form.dataset.submitting === "1";
    if (sendState) {
      sendState.textContent = problems.length ? "Sending is off until the recipients are within the limits." :
        (bad ? bad + " entr" + (bad === 1 ? "y is" : "ies are") + " not an email address." : "");
    }
    var isMarketing = category && category.value === marketing;
    var calls = isMarketing ? total : Math.ceil(total / groupSize);
    splitNote.hidden = calls <= 1;
    if (calls > 1) {
      splitNote.textContent = isMarketing
        ? "Marketing goes one recipient per call: this email is sent as " + calls + " separate messages, each with its own unsubscribe link."
        : "More than " + groupSize + " addresses: this email is sent as " + calls + " SES messages of at most " + groupSize + " addresses each. Each copy shows only its own group's To and Cc; Bcc is never shown.";
    }
  }

  // --- Suppressions on the chips --------------------------------------------------------------------------------
  var checkSuppressed = debounce(function () {
    var addresses = [];
    fields.forEach(function (field) {
      field.entries.forEach(function (entry) { var a = addressOf(entry); if (a) addresses.push(a); });
    });
    if (!addresses.length) { suppressed = {}; return; }
    var query = addresses.map(function (a) { return "address=" + encodeURIComponent(a); }).join("&");
    query += "&category=" + encodeURIComponent(category ? category.value : "");
    fetch(form.dataset.checkUrl + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { suppressed: {} }; })
      .then(function (data) {
        suppressed = data.suppressed || {};
        fields.forEach(function (field) { field.render(); });
      })
      .catch(function () { /* the chips stay as they are; the send is checked anyway */ });
  }, 300);

  function liftSuppression(id, address) {
    fetch("/api/email/suppressions/" + encodeURIComponent(id), {
      method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    }).then(function (response) {
      if (response.ok) {
        delete suppressed[address];
        if (sendState) sendState.textContent = "The suppression of " + address + " is lifted.";
        fields.forEach(function (field) { field.render(); });
        checkSuppressed();
      } else if (sendState) {
        sendState.textContent = "The suppression of " + address + " could not be lifted (" + response.status + ").";
      }
    });
  }

  if (category) category.addEventListener("change", function () { update(); checkSuppressed(); });

  // --- The template picker ----------------------------------------------------------------------------------
  var templateSelect = document.getElementById("id_templateId");
  var dataField = document.getElementById("id_templateData");
  var dataWrap = document.getElementById("template-data-field");
  var variableBox = document.getElementById("variable-inputs");
  var bodyFields = document.getElementById("body-fields");
  var templateNote = document.getElementById("template-note");
  var previewBox = document.getElementById("template-preview");
  var frame = document.getElementById("preview-frame");
  var subjectInput = document.getElementById("id_subject");
  var canPreview = form.hasAttribute("data-can-preview");

  function templateData() {
    try {
      var data = JSON.parse(dataField.value || "{}");
      return data && typeof data === "object" && !Array.isArray(data) ? data : {};
    } catch (e) {
      return {};
    }
  }

  function askTemplate() {
    var body = new URLSearchParams();
    body.set("templateId", templateSelect.value);
    body.set("templateData", JSON.stringify(templateData()));
    return fetch(form.dataset.templateUrl, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    }).then(function (response) { return response.json(); });
  }

  function showPreview(data) {
    if (data.error) return;
    document.getElementById("preview-subject").textContent = data.subject;
    frame.srcdoc = data.html || "<pre>" + (data.text || "").replace(/&/g, "&amp;").replace(/</g, "&lt;") + "</pre>";
    var missing = document.getElementById("preview-missing");
    missing.hidden = !data.missing.length;
    missing.textContent = data.missing.length ? "Still needed: " + data.missing.join(", ") + "." : "";
    previewBox.hidden = false;
    variableBox.querySelectorAll("input").forEach(function (input) {
      var isMissing = data.missing.indexOf(input.dataset.variable) >= 0;
      input.setAttribute("aria-invalid", isMissing && input.dataset.touched ? "true" : "false");
    });
  }

  var refreshPreview = debounce(function () { askTemplate().then(showPreview).catch(function () {}); }, 400);

  function buildVariables(variables) {
    var data = templateData();
    variableBox.textContent = "";
    variables.forEach(function (variable) {
      var id = "var-" + variable.name.replace(/[^A-Za-z0-9_-]/g, "_");
      var wrap = el("div", { "class": "field" });
      var label = el("label", { "for": id }, variable.name);
      if (variable.required) {
        label.appendChild(el("span", { "class": "req", "aria-hidden": "true" }, " *"));
      }
      var input = el("input", { type: "text", id: id, "data-variable": variable.name, "aria-describedby": id + "-help" });
      if (variable.required) input.required = true;
      var value = data[variable.name];
      input.value = value === undefined || value === null ? "" : (typeof value === "object" ? JSON.stringify(value) : String(value));
      input.addEventListener("input", function () {
        input.dataset.touched = "1";
        var current = templateData();
        if (input.value === "") delete current[variable.name];
        else current[variable.name] = input.value;
        dataField.value = JSON.stringify(current, null, 1);
        refreshPreview();
      });
      wrap.appendChild(label);
      var control = el("div", { "class": "control" });
      control.appendChild(input);
      control.appendChild(el("p", { "class": "help", id: id + "-help" }, variable.required ? "Required." : "Optional."));
      wrap.appendChild(control);
      variableBox.appendChild(wrap);
    });
    variableBox.hidden = !variables.length;
  }

  function templateChanged(initial) {
    var chosen = templateSelect && templateSelect.value;
    bodyFields.hidden = !!chosen;
    templateNote.hidden = !chosen;
    if (!chosen) {
      previewBox.hidden = true;
      variableBox.hidden = true;
      dataWrap.hidden = false;
      if (subjectInput) subjectInput.placeholder = "";
      return;
    }
    document.getElementById("template-name").textContent = templateSelect.options[templateSelect.selectedIndex].text;
    if (!canPreview) return; // the JSON field stays: no template details for this user
    askTemplate().then(function (data) {
      if (data.error) return;
      document.getElementById("template-subject").textContent = data.templateSubject;
      if (subjectInput) subjectInput.placeholder = data.templateSubject;
      if (category && !category.value && !initial) { category.value = data.category; update(); }
      buildVariables(data.variables || []);
      dataWrap.hidden = (data.variables || []).length > 0;
      showPreview(data);
    }).catch(function () {});
  }

  if (templateSelect) {
    templateSelect.addEventListener("change", function () { templateChanged(false); });
    dataField.addEventListener("input", refreshPreview);
    templateChanged(true);
  }

  // --- Send later in the browser's time zone ------------------------------------------------------------------
  var zone = form.querySelector("[data-time-zone]");
  var sendAt = document.getElementById("id_sendAt");
  try {
    if (zone) zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) { /* the server's zone is used */ }
  function sendLabel() { sendButton.textContent = sendAt && sendAt.value ? "Schedule email" : "Send email"; }
  if (sendAt) {
    sendAt.addEventListener("input", sendLabel);
    var help = document.getElementById("id_sendAt_helptext");
    if (help && zone && zone.value) help.textContent = "Leave empty to send now. In your time zone (" + zone.value + "); at most 90 days ahead.";
    sendLabel();
  }

  // --- One send per click -----------------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    fields.forEach(function (field) { field.commit(); });
    update();
    if (form.dataset.submitting === "1" || sendButton.disabled) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    sendButton.disabled = true;
    sendButton.textContent = sendAt && sendAt.value ? "Scheduling\u2026" : "Sending\u2026";
  });
  // Back from the message page (bfcache): the form is usable again, and what it sends next is a new email.
  window.addEventListener("pageshow", function (event) {
    form.dataset.submitting = "";
    if (event.persisted && window.crypto && crypto.randomUUID) {
      var key = form.querySelector("[name=idempotencyKey]");
      if (key) key.value = crypto.randomUUID();
    }
    update();
    sendLabel();
  });

  update();
  checkSuppressed();

  // --- Focus on the first error -------------------------------------------------------------------------------
  var firstError = form.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea");
  if (firstError) firstError.focus();
  else {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
  }
})();
