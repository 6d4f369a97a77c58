/* The files page: drag and drop (or choose) files, upload each with a progress bar, list them. */
(function () {
  "use strict";

  var zone = document.getElementById("dropzone");
  var input = document.getElementById("upload-input");
  var list = document.getElementById("uploads");
  var table = document.querySelector("#files-table tbody");
  var rowTemplate = document.getElementById("file-row");
  if (!zone || !input || !list || !window.CrmFiles) return;

  function uploadItem(file) {
    var item = document.createElement("li");
    item.className = "upload-item";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name + " · " + window.CrmFiles.humanSize(file.size);
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    var state = document.createElement("span");
    state.className = "upload-state";
    state.textContent = "Waiting…";
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(state);
    list.appendChild(item);
    return { item: item, bar: bar, state: state };
  }

  // The label the server shows for a category ("Invoice", not "invoice"): the filter lists them all.
  function categoryLabel(value) {
    var option = document.querySelector('#f-category option[value="' + value + '"]');
    return option ? option.textContent : value;
  }

  function addRow(record) {
    if (!table || !rowTemplate) return;
    var empty = table.querySelector(".empty-row");
    if (empty) empty.remove();
    // The first file: the empty state gives way to the list and its filters.
    var emptyState = document.getElementById("files-empty");
    if (emptyState) emptyState.remove();
    ["file-filters", "files-card"].forEach(function (id) {
      var element = document.getElementById(id);
      if (element) element.hidden = false;
    });
    var row = rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.fileId = record.id;
    row.querySelector(".name-cell").textContent = record.originalName;
    row.querySelector(".type-cell").textContent = record.contentType;
    row.querySelector(".size-cell").textContent = window.CrmFiles.humanSize(record.size);
    row.querySelector(".category-cell").textContent = categoryLabel(record.category);
    row.querySelector(".download-link").href = "/files/" + record.id + "/download";
    var form = row.querySelector(".delete-form");
    form.action = "/files/" + record.id + "/delete";
    form.dataset.name = record.originalName;
    table.insertBefore(row, table.firstChild);
  }

  function start(file) {
    var ui = uploadItem(file);
    var category = document.getElementById("upload-category");
    var isPublic = document.getElementById("upload-public");
    var department = document.getElementById("upload-department");
    ui.state.textContent = "Uploading…";
    return window.CrmFiles.upload(file, {
      category: category ? category.value : "general",
      isPublic: isPublic ? isPublic.checked : false,
      departmentId: department ? department.value.trim() : "",
      onProgress: function (fraction) {
        ui.item.dataset.progressEvents = String(parseInt(ui.item.dataset.progressEvents || "0", 10) + 1);
        ui.bar.value = Math.round(fraction * 100);
        ui.state.textContent = fraction < 1 ? Math.round(fraction * 100) + "%" : "Checking…";
      }
    }).then(function (record) {
      ui.bar.value = 100;
      ui.state.textContent = "Uploaded";
      ui.item.classList.add("upload-done");
      addRow(record);
    }, function (error) {
      ui.item.classList.add("upload-failed");
      ui.state.textContent = error.message;
    });
  }

  function startAll(files) {
    // One at a time keeps each progress bar meaningful and the connection free.
    Array.prototype.reduce.call(files, function (previous, file) {
      return previous.then(function () { return start(file); });
    }, Promise.resolve());
  }

  input.addEventListener("change", function () {
    startAll(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
    });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) startAll(event.dataTransfer.files);
  });
  zone.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      input.click();
    }
  });

  function emails(count, what) {
    return count + " " + what.replace("email", count === 1 ? "email" : "emails");
  }

  // What the delete page would say, in a dialog: how many emails carry the file (files.usage on the server).
  function deleteQuestion(form) {
    var name = form.dataset.name || "this file";
    var sent = parseInt(form.dataset.sent || "0", 10);
    var waiting = parseInt(form.dataset.waiting || "0", 10);
    if (!sent && !waiting) return "Delete " + name + "?";
    var carriers = [];
    if (sent) carriers.push(emails(sent, "sent email"));
    if (waiting) carriers.push(emails(waiting, "email waiting to be sent"));
    return name + " is attached to " + carriers.join(" and to ") + ". Their record of it stays, " +
      "but it can no longer be downloaded or attached.\n\nDelete it?";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("delete-form")) {
      if (!window.confirm(deleteQuestion(form))) {
        event.preventDefault();
        return;
      }
      var confirmed = form.querySelector("input[name=confirmed]");
      if (confirmed) confirmed.value = "1";
    }
  });
})();
