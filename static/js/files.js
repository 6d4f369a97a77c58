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

  function addRow(record) {
    if (!table || !rowTemplate) return;
    var empty = table.querySelector(".empty-row");
    if (empty) empty.remove();
    var row = rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.fileId = record.id;
    row.querySelector(".name-cell").textContent = record.originalName;
    row.querySelector(".type-cell").textContent = record.contentType;
    row.querySelector(".size-cell").textContent = window.CrmFiles.humanSize(record.size);
    row.querySelector(".category-cell").textContent = record.category;
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
    ui.state.textContent = "Uploading…";
    return window.CrmFiles.upload(file, {
      category: category ? category.value : "general",
      isPublic: isPublic ? isPublic.checked : false,
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

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("delete-form")) {
      if (!window.confirm("Delete " + (form.dataset.name || "this file") + "?")) event.preventDefault();
    }
  });
})();
