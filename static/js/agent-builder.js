// Agent pages: the builder's helpers and the live run timeline.
// Listeners sit on document so content swapped in later by htmx works too.
(function () {
  "use strict";

  var EXAMPLE_SCHEMA = {
    type: "object",
    properties: {
      answer: { type: "number" },
      explanation: { type: "string" },
    },
    required: ["answer"],
  };

  // ---------- Instruction snippets ----------

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart;
    var end = textarea.selectionEnd;
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    // Keep snippets on their own paragraph.
    var prefix = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
    textarea.value = before + prefix + text + after;
    var caret = (before + prefix + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var snippet = event.target.closest("[data-snippet]");
    if (snippet) {
      var target = document.getElementById(snippet.dataset.snippetTarget);
      if (target) {
        insertAtCursor(target, snippet.dataset.snippet);
      }
      return;
    }
    var example = event.target.closest("[data-json-example]");
    if (example) {
      var editor = document.getElementById(example.dataset.jsonExample);
      if (editor) {
        editor.value = JSON.stringify(EXAMPLE_SCHEMA, null, 2);
        editor.dispatchEvent(new Event("input", { bubbles: true }));
        editor.focus();
      }
      return;
    }
    var format = event.target.closest("[data-json-format]");
    if (format) {
      var field = document.getElementById(format.dataset.jsonFormat);
      if (field && field.value.trim()) {
        try {
          field.value = JSON.stringify(JSON.parse(field.value), null, 2);
          field.dispatchEvent(new Event("input", { bubbles: true }));
        } catch (error) {
          checkJson(field);
        }
      }
    }
  });

  // ---------- JSON editor: instant client-side feedback ----------
  // The server's check (htmx, debounced) follows and has the last word.

  function checkJson(field) {
    var status = document.querySelector('[data-json-status-for="' + field.id + '"]');
    if (!status) {
      return;
    }
    var text = field.value.trim();
    status.classList.remove("json-ok", "json-bad");
    if (!text) {
      status.textContent = "";
      return;
    }
    try {
      JSON.parse(text);
      status.textContent = status.dataset.validLabel;
      status.classList.add("json-ok");
    } catch (error) {
      status.textContent = status.dataset.invalidLabel + " " + error.message;
      status.classList.add("json-bad");
    }
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field.matches && field.matches("textarea[data-json-editor][id]")) {
      checkJson(field);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-json-editor][id]").forEach(checkJson);
  });

  // ---------- Live field errors: mark the field invalid or valid ----------
  // htmx fires htmx:load on each element it swaps in, here the new errors.

  document.addEventListener("htmx:load", function (event) {
    var errors = event.target;
    if (!errors.id || !/_error$/.test(errors.id)) {
      return;
    }
    var field = document.getElementById(errors.id.replace(/_error$/, ""));
    if (!field) {
      return;
    }
    if (errors.hidden || errors.classList.contains("field-ok")) {
      field.removeAttribute("aria-invalid");
    } else {
      field.setAttribute("aria-invalid", "true");
    }
  });

  // ---------- A workflow run's node filter ----------
  // Shows the steps of one node (and the steps that contain them, such as
  // the parallel node whose lane holds them); live steps follow the filter.

  function applyNodeFilter() {
    var select = document.getElementById("node-filter");
    if (!select) return;
    var node = select.value;
    document.querySelectorAll("#steps li.step").forEach(function (item) {
      var shown =
        !node ||
        item.getAttribute("data-node") === node ||
        item.querySelector('li.step[data-node="' + CSS.escape(node) + '"]') !== null;
      item.hidden = !shown;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "node-filter") applyNodeFilter();
  });
  document.addEventListener("htmx:oobAfterSwap", applyNodeFilter);

  // ---------- Live run timeline: never show a step twice ----------
  // A freshly connected websocket re-sends every step saved so far, and the
  // page already rendered some of them: a step whose id is on the page is
  // skipped, so the timeline after any (re)connection matches the database.

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var fragment = event.detail.fragment;
    if (!fragment || !fragment.firstElementChild) {
      return;
    }
    var step = fragment.firstElementChild;
    if (/^step-\d+$/.test(step.id) && document.getElementById(step.id)) {
      event.detail.shouldSwap = false;
    }
  });
})();
