// The idle sign-out warning: two minutes before the server would end an idle session
// (services.middleware.SessionTimeoutMiddleware), #idle-warning appears with "Stay signed in",
// which restarts the server's clock without leaving the page. Any request the page makes
// (htmx) restarts the clock too.
(function () {
  "use strict";

  function start() {
    var banner = document.getElementById("idle-warning");
    if (!banner) {
      return;
    }
    var idle = Number(banner.dataset.idleSeconds);
    var warn = Number(banner.dataset.warnSeconds);
    var timer = null;

    function arm() {
      window.clearTimeout(timer);
      banner.hidden = true;
      timer = window.setTimeout(function () {
        banner.hidden = false;
        var button = banner.querySelector("button");
        if (button) {
          button.focus();
        }
      }, Math.max(idle - warn, 0) * 1000);
    }

    var form = banner.querySelector("form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      }).then(function (response) {
        if (response.status === 204) {
          arm();
        } else {
          window.location.reload(); // signed out meanwhile: the sign-in page says why
        }
      });
    });
    document.addEventListener("htmx:afterRequest", arm);
    arm();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
