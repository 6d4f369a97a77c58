/* Direct uploads, the same for S3 and disk: ask for an upload URL, POST the file there with
 * progress, then ask the server to check it. Exposes window.CrmFiles. */
(function () {
  "use strict";

  // The server's allowlist, by extension, for browsers that give no type or another one
  // (Windows calls a .csv "application/vnd.ms-excel").
  var TYPES_BY_EXTENSION = {
    jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp",
    pdf: "application/pdf", doc: "application/msword",
    docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    xls: "application/vnd.ms-excel",
    xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    txt: "text/plain", csv: "text/csv"
  };

  function contentTypeOf(file) {
    var extension = (file.name.split(".").pop() || "").toLowerCase();
    return TYPES_BY_EXTENSION[extension] || file.type || "application/octet-stream";
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function errorText(body, fallback) {
    if (body && body.details && body.details.length) {
      return body.details.map(function (d) { return d.message; }).join(" ");
    }
    return (body && body.error) || fallback;
  }

  function api(method, url, payload) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: payload === undefined ? undefined : JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || body.success === false) {
          throw new Error(errorText(body, "The server answered " + response.status + "."));
        }
        return body.data;
      });
    });
  }

  // S3 (and the app's disk endpoint, which answers like S3) reports errors as XML.
  function storageError(xhr) {
    var message = "";
    try {
      var xml = new DOMParser().parseFromString(xhr.responseText || "", "application/xml");
      var node = xml.getElementsByTagName("Message")[0];
      message = node ? node.textContent : "";
    } catch (e) { /* not XML */ }
    return message || ("Storage refused the upload (" + (xhr.status || "network error") + ").");
  }

  function post(target, file, contentType, onProgress) {
    return new Promise(function (resolve, reject) {
      var form = new FormData();
      Object.keys(target.fields).forEach(function (name) { form.append(name, target.fields[name]); });
      // The file goes last: S3 ignores every field after it.
      form.append("file", new File([file], file.name, { type: contentType }));
      var xhr = new XMLHttpRequest();
      xhr.open("POST", target.uploadUrl);
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(new Error(storageError(xhr)));
      });
      xhr.addEventListener("error", function () { reject(new Error(storageError(xhr))); });
      xhr.addEventListener("abort", function () { reject(new Error("The upload was cancelled.")); });
      xhr.send(form);
    });
  }

  /* Upload one File; resolves with the server's file record once it passed the completion check.
   * options: {category, isPublic, departmentId, onProgress(fraction)}. */
  function upload(file, options) {
    options = options || {};
    var onProgress = options.onProgress || function () {};
    var contentType = contentTypeOf(file);
    return api("POST", "/api/files/upload-url", {
      fileName: file.name,
      contentType: contentType,
      category: options.category || "general",
      maxSizeBytes: Math.max(file.size, 1),
      isPublic: !!options.isPublic,
      departmentId: options.departmentId || ""
    }).then(function (target) {
      onProgress(0);
      return post(target, file, contentType, function (loaded, total) {
        onProgress(total ? loaded / total : 0);
      }).then(function () {
        onProgress(1);
        return api("POST", "/api/files/complete", { fileId: target.fileId });
      });
    }).then(function (data) { return data.file; });
  }

  function humanSize(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    var units = ["KB", "MB", "GB"];
    var value = bytes;
    var unit = -1;
    do { value /= 1024; unit += 1; } while (value >= 1024 && unit < units.length - 1);
    return value.toFixed(1) + " " + units[unit];
  }

  window.CrmFiles = { upload: upload, api: api, humanSize: humanSize, contentTypeOf: contentTypeOf };
})();
