// The Files page: drop or choose several files; each uploads with its own
// progress bar, then follows its ingestion stages live (extracting →
// chunking → embedding → ready) from the user events websocket, which
// notifications.js relays as "agentry:event" DOM events.
(function () {
  "use strict";

  var STAGES = {
    uploaded: "Uploaded",
    extracting: "Extracting text",
    chunking: "Chunking",
    embedding: "Embedding",
    ready: "Ready",
    failed: "Failed",
  };

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function renderStatus(container, file) {
    container.dataset.stage = file.stage;
    container.textContent = "";
    if (file.stage === "ready") {
      container.appendChild(element("span", "badge badge-success", STAGES.ready));
    } else if (file.stage === "failed") {
      container.appendChild(element("span", "badge badge-danger", STAGES.failed));
      container.appendChild(element("small", "file-error", " " + (file.error || "")));
    } else {
      container.appendChild(element("span", "file-stage", STAGES[file.stage] || file.stage));
      var bar = element("progress");
      bar.max = 100;
      bar.value = file.progress || 0;
      bar.setAttribute("aria-label", "Progress");
      container.appendChild(bar);
    }
  }

  document.addEventListener("agentry:event", function (event) {
    var data = event.detail;
    if (!data || data.type !== "file" || !data.file) {
      return;
    }
    var file = data.file;
    document.querySelectorAll('[data-file-status="' + file.id + '"]').forEach(function (node) {
      renderStatus(node, file);
    });
    var row = document.querySelector('tr[data-file="' + file.id + '"]');
    if (row) {
      ["chunk_count", "page_count"].forEach(function (field) {
        var cell = row.querySelector('[data-field="' + field + '"]');
        if (cell && file[field] !== null && file[field] !== undefined) {
          cell.textContent = String(file[field]);
        }
      });
    }
  });

  var form = document.getElementById("file-upload");
  if (!form) {
    return;
  }
  var zone = document.getElementById("drop-zone");
  var input = document.getElementById("file-input");
  var queue = document.getElementById("upload-queue");
  var token = form.querySelector("[name=csrfmiddlewaretoken]").value;

  function refreshList() {
    if (window.htmx) {
      window.htmx.ajax("GET", form.dataset.listUrl, {
        target: "#file-list",
        swap: "outerHTML",
      });
    }
  }

  function upload(file) {
    var item = element("li", "upload-item");
    item.appendChild(element("strong", "", file.name));
    var status = element("div", "file-status");
    status.appendChild(element("span", "file-stage", "Uploading"));
    var bar = element("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload progress");
    status.appendChild(bar);
    item.appendChild(status);
    queue.appendChild(item);

    var body = new FormData();
    body.append("file", file);
    ["collection", "chunk_size", "chunk_overlap"].forEach(function (name) {
      var field = form.querySelector("[name=" + name + "]");
      if (field && field.value) {
        body.append(name, field.value);
      }
    });
    var request = new XMLHttpRequest();
    request.open("POST", form.dataset.apiUrl);
    request.setRequestHeader("X-CSRFToken", token);
    request.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) {
        bar.value = Math.round((100 * progress.loaded) / progress.total);
      }
    });
    request.addEventListener("load", function () {
      var answer = {};
      try {
        answer = JSON.parse(request.responseText);
      } catch (error) {
        answer = {};
      }
      if (request.status === 201) {
        status.dataset.fileStatus = String(answer.id);
        renderStatus(status, answer);
        refreshList();
        return;
      }
      var problems = [];
      Object.keys(answer).forEach(function (field) {
        [].concat(answer[field]).forEach(function (problem) {
          problems.push(String(problem));
        });
      });
      renderStatus(status, {
        stage: "failed",
        error: problems.join(" ") || "The upload failed (" + request.status + ").",
      });
    });
    request.addEventListener("error", function () {
      renderStatus(status, { stage: "failed", error: "The upload did not reach the server." });
    });
    request.send(body);
  }

  function uploadAll(files) {
    Array.prototype.forEach.call(files, upload);
  }

  input.addEventListener("change", function () {
    uploadAll(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("drop-zone-active");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.remove("drop-zone-active");
    });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) {
      uploadAll(event.dataTransfer.files);
    }
  });
})();
