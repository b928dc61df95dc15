// The idle sign-out warning: two minutes before the server would end an idle session
// (services.middleware.SessionTimeoutMiddleware), #idle-warning appears with "Stay signed in",
// which restarts the server's clock without leaving the page. Any request the page makes
// (htmx) restarts the clock too.
//
// Once the idle time is over, a page nobody has typed into is loaded again: the server, whose
// clock started no later than this page's, has ended the session and shows the sign-in page.
// The person's plan or a record no longer stays on an unattended screen after the sign-out
// (a shared or library computer). A page holding words stays, so that sending its form
// keeps them (services.lib.kept_forms) for after signing in again.
(function () {
  "use strict";

  var MARGIN_SECONDS = 2;

  var WORDS = ["text", "email", "tel", "search", "url", "number", "date", "time", "password"];

  // Whether the page holds words that going on would lose: anything the person changed in a
  // form, or words already in a box of a form that saves (sent back with a mistake to fix, or
  // kept through an earlier sign-out). A page that answered a form sent (its mistakes shown)
  // stays too: its address may not open again. The warning's own form is not counted.
  function holdsWords(banner) {
    if (banner.hasAttribute("data-posted")) {
      return true;
    }
    var fields = document.querySelectorAll("main input, main textarea, main select");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (banner.contains(field) || field.type === "hidden") {
        continue;
      }
      var wordsBox = field.tagName === "TEXTAREA" || WORDS.indexOf(field.type) !== -1;
      var saves = field.form && field.form.method === "post";
      if (wordsBox && saves && field.value !== "") {
        return true;
      }
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== field.defaultChecked) {
          return true;
        }
      } else if (field.type === "file") {
        if (field.files && field.files.length) {
          return true;
        }
      } else if (field.tagName === "SELECT") {
        for (var j = 0; j < field.options.length; j++) {
          if (field.options[j].selected !== field.options[j].defaultSelected) {
            return true;
          }
        }
      } else if (field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function start() {
    var banner = document.getElementById("idle-warning");
    if (!banner) {
      return;
    }
    var idle = Number(banner.dataset.idleSeconds);
    var warn = Number(banner.dataset.warnSeconds);
    var timer = null;
    var over = null;

    function arm() {
      window.clearTimeout(timer);
      window.clearTimeout(over);
      banner.hidden = true;
      timer = window.setTimeout(function () {
        banner.hidden = false;
        var button = banner.querySelector("button");
        if (button) {
          button.focus();
        }
      }, Math.max(idle - warn, 0) * 1000);
      over = window.setTimeout(function () {
        if (!holdsWords(banner)) {
          // replace, not reload: a page shown after a POST is not posted again; and without
          // its #part, or the browser would only scroll.
          window.location.replace(window.location.href.split("#")[0]);
        }
      }, (idle + MARGIN_SECONDS) * 1000);
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
