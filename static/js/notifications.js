// The navigation bar's unread-notification badge, kept current over the
// user events websocket (/ws/events/) without reloading the page.
(function () {
  "use strict";

  var bell = document.querySelector(".notification-bell[data-events-url]");
  var badge = document.getElementById("notification-count");
  if (!bell || !badge || !window.WebSocket) {
    return;
  }
  var retryDelay = 1000;

  function showCount(count) {
    badge.textContent = String(count);
    badge.hidden = !count;
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + bell.dataset.eventsUrl);
    socket.addEventListener("open", function () {
      retryDelay = 1000;
    });
    socket.addEventListener("message", function (message) {
      var event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (event.type === "notifications" && typeof event.unread_count === "number") {
        showCount(event.unread_count);
      }
      // Other pages' scripts listen for their own kinds (files.js: "file").
      document.dispatchEvent(new CustomEvent("agentry:event", { detail: event }));
    });
    socket.addEventListener("close", function (closed) {
      // 4401: signed out; anything else: try again, waiting longer each time.
      if (closed.code === 4401) {
        return;
      }
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 60000);
    });
  }

  connect();
})();
