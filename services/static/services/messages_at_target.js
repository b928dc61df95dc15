// A save that goes back to a part of a long page (the person page's #notes, a need's card, a
// follow-up's row) left its message ("Note saved. Marked done: …") at the top of the page, out
// of view: the browser had scrolled down to the part. The message moves to the start of that
// part, where the eyes are. Without a script it stays at the top, as before. A table's row or
// section cannot hold it, so there it stays at the top too.
// A file, not an inline script: the Content-Security-Policy allows only the site's own scripts.
(function () {
  "use strict";

  function start() {
    var messages = document.querySelector("main > .messages");
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (!messages || !target || !target.closest("main") || target.closest("table")) {
      return;
    }
    target.insertBefore(messages, target.firstChild);
    target.scrollIntoView({ block: "start" });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
