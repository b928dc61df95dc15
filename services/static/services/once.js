// A form's key (`{% form_once %}`, services/lib/once.py) comes Back with what was typed in it.
// After a save, the browser's Back loads the form's page again (a signed-in page is never kept:
// Cache-Control no-store) with a new key, and Chromium puts back the words typed in it, but
// never a hidden field: Save again sent the same words under a new key, and saved them twice.
// So the key a form is sent with is kept in the browser's own history, in the entry of the
// page it was sent from (history.state: the tab's, never the server's, and only the random
// key, never what was typed). When the browser opens that entry again (Back, Forward, Reload:
// the ways it puts typed words back), the form takes its key up again: the same words sent
// again are "already saved", and words changed after Back are another sending, and save. A
// page opened anew (a link, the address typed) is a new entry: nothing is put back, and its
// new key stands. Without JavaScript the form keeps its new key. A file, not an inline
// script: the Content-Security-Policy allows only the site's own scripts.
(function () {
  "use strict";

  var STATE = "reentryOnce";
  var FIELD = "input[type='hidden'][name='once']";

  // A form by its address and its place among the forms with a key and that address: the
  // same when the browser opens the page again.
  function nameOf(form) {
    var action = form.getAttribute("action") || "";
    var same = Array.prototype.filter.call(document.querySelectorAll("form"), function (other) {
      return (other.getAttribute("action") || "") === action && other.querySelector(FIELD);
    });
    return action + " " + (same.indexOf(form) + 1);
  }

  function keptKeys() {
    var state = history.state;
    return state && typeof state === "object" && state[STATE] ? state[STATE] : {};
  }

  function remember(keys) {
    var state = history.state && typeof history.state === "object" ? history.state : {};
    var next = Object.assign({}, state);  // whatever else the entry holds (htmx's own mark) stays
    next[STATE] = Object.assign({}, keptKeys(), keys);
    try {
      history.replaceState(next, "");
    } catch (error) {
      // The entry refused it (too large, a sandboxed page): the form is sent all the same.
    }
  }

  // On load: a form the entry already knows takes its key back; the others' keys are kept in
  // the entry now, not as the form is sent (a history change while the page is being left
  // reads, to a script watching the page, as one more navigation racing the real one).
  function start() {
    var kept = keptKeys();
    var fresh = {};
    var any = false;
    Array.prototype.forEach.call(document.querySelectorAll("form " + FIELD), function (key) {
      var name = nameOf(key.form);
      if (typeof kept[name] === "string") {
        key.value = kept[name];
      } else {
        fresh[name] = key.value;
        any = true;
      }
    });
    if (any) {
      remember(fresh);
    }
  }

  // A form the page gained later (htmx) is kept as it is sent.
  function keep(event) {
    var key = event.target.querySelector(FIELD);
    if (!key) {
      return;
    }
    var name = nameOf(event.target);
    if (keptKeys()[name] !== key.value) {
      var keys = {};
      keys[name] = key.value;
      remember(keys);
    }
  }

  // Capture: seen before any other script sends the form itself (the upload's, htmx).
  document.addEventListener("submit", keep, true);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
