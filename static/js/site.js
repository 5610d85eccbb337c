// Copy-to-clipboard for buttons carrying data-copy-target="<element id>".
// The listener sits on document so buttons swapped in later by htmx work too.
(function () {
  "use strict";

  function selectContents(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function showLabel(button, label) {
    if (!label) {
      return;
    }
    if (!button.dataset.originalLabel) {
      button.dataset.originalLabel = button.textContent.trim();
    }
    button.textContent = label;
    window.clearTimeout(button.copyResetTimer);
    button.copyResetTimer = window.setTimeout(function () {
      button.textContent = button.dataset.originalLabel;
    }, 4000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) {
      return;
    }
    var source = document.getElementById(button.dataset.copyTarget);
    if (!source) {
      return;
    }
    var text = source.textContent.trim();
    // navigator.clipboard exists only in secure contexts (HTTPS or localhost);
    // a self-hosted instance on plain HTTP falls back to selecting the text.
    var fallback = function () {
      selectContents(source);
      showLabel(button, button.dataset.fallbackLabel);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        showLabel(button, button.dataset.copiedLabel);
      }, fallback);
    } else {
      fallback();
    }
  });
})();

// A run page's share control waits for the run to finish: when the live
// status (swapped in over the run websocket) says it has, fetch the control
// again, now with its Share button.
(function () {
  "use strict";

  var FINISHED = ["completed", "failed", "cancelled"];
  document.addEventListener("htmx:oobAfterSwap", function () {
    var pending = document.querySelector("#run-share[data-refresh-url]");
    var status = document.getElementById("run-status");
    if (!pending || !status || !window.htmx) {
      return;
    }
    if (FINISHED.indexOf(status.dataset.status) === -1) {
      return;
    }
    var url = pending.dataset.refreshUrl;
    pending.removeAttribute("data-refresh-url");
    window.htmx.ajax("GET", url, { target: "#run-share", swap: "outerHTML" });
  });
})();

// Behaviour that would otherwise sit in inline handlers, which the
// Content-Security-Policy blocks:
// - a plain form with data-confirm="<question>" submits only once confirmed
//   (htmx requests use hx-confirm instead);
// - an htmx form with data-reset-after-success empties itself once its request
//   succeeds (e.g. the API key form, ready for the next key).
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (
      event.detail.successful &&
      form instanceof HTMLFormElement &&
      form.hasAttribute("data-reset-after-success")
    ) {
      form.reset();
    }
  });
})();
