/* The composer's attachments: pick from your files, or upload new ones with a progress bar.
 * Each attached file is a hidden `attachmentFileIds` input; the send waits for uploads. */
(function () {
  "use strict";

  var card = document.getElementById("attachments-card");
  var list = document.getElementById("attachment-list");
  var choose = document.getElementById("attachment-choose");
  var upload = document.getElementById("attachment-upload");
  var form = card ? card.closest("form") : null;
  var send = document.getElementById("send-button");
  if (!card || !list || !form || !window.CrmFiles) return;
  var maxCount = parseInt(card.dataset.maxCount || "10", 10);
  var pending = 0;

  function count() { return list.querySelectorAll(".attachment-chip:not(.upload-failed)").length; }

  function refresh() {
    var full = count() >= maxCount;
    if (choose) choose.disabled = full;
    if (upload) upload.disabled = full;
    if (send) {
      send.disabled = pending > 0;
      send.textContent = pending > 0 ? "Waiting for uploads…" : "Send email";
    }
    if (choose) {
      var attached = {};
      list.querySelectorAll("input[name=attachmentFileIds]").forEach(function (input) { attached[input.value] = true; });
      Array.prototype.forEach.call(choose.options, function (option) {
        if (option.value) option.disabled = !!attached[option.value];
      });
    }
  }

  // Size and upload time tell apart files of the same name (two "invoice.pdf").
  function chip(name, size, uploaded) {
    var item = document.createElement("li");
    item.className = "attachment-chip";
    var label = document.createElement("span");
    label.className = "attachment-name";
    label.textContent = name;
    var detail = document.createElement("span");
    detail.className = "muted small attachment-detail";
    detail.textContent = window.CrmFiles.humanSize(size) + (uploaded ? " · " + uploaded : "");
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "attachment-remove";
    remove.setAttribute("aria-label", "Remove " + name);
    remove.textContent = "\u00d7";
    item.appendChild(label);
    item.appendChild(detail);
    item.appendChild(remove);
    list.appendChild(item);
    return item;
  }

  function attach(item, fileId) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "attachmentFileIds";
    input.value = fileId;
    item.dataset.fileId = fileId;
    item.insertBefore(input, item.firstChild);
    item.classList.add("upload-done");
  }

  function uploadOne(file) {
    var item = chip(file.name, file.size);
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    item.insertBefore(bar, item.querySelector(".attachment-remove"));
    var detail = item.querySelector(".attachment-detail");
    var events = 0;
    pending += 1;
    refresh();
    window.CrmFiles.upload(file, {
      category: "email",
      onProgress: function (fraction) {
        events += 1;
        item.dataset.progressEvents = String(events);
        bar.value = Math.round(fraction * 100);
        detail.textContent = fraction < 1 ? Math.round(fraction * 100) + "%" : "Checking…";
      }
    }).then(function (record) {
      bar.remove();
      detail.textContent = window.CrmFiles.humanSize(record.size);
      attach(item, record.id);
    }, function (error) {
      bar.remove();
      item.classList.add("upload-failed");
      detail.textContent = error.message;
    }).then(function () {
      pending -= 1;
      refresh();
    });
  }

  if (choose) {
    choose.addEventListener("change", function () {
      var option = choose.options[choose.selectedIndex];
      if (option && option.value) {
        var size = parseInt(option.dataset.size || "0", 10);
        attach(chip(option.dataset.name || option.textContent, size, option.dataset.uploaded || ""), option.value);
      }
      choose.value = "";
      refresh();
    });
  }
  if (upload) {
    upload.addEventListener("change", function () {
      Array.prototype.slice.call(upload.files, 0, Math.max(maxCount - count(), 0)).forEach(uploadOne);
      upload.value = "";
    });
  }
  list.addEventListener("click", function (event) {
    var button = event.target.closest(".attachment-remove");
    if (!button) return;
    button.closest(".attachment-chip").remove();
    refresh();
  });
  form.addEventListener("submit", function (event) {
    if (pending > 0) event.preventDefault();
  });
  refresh();
})();
