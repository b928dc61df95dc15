// Document upload (templates/services/document_form.html): drag and drop onto the file
// field, a progress bar while the file goes up, and an early word when it is too large.
// Without this script the form still works as a plain upload; the server checks everything.
(function () {
  "use strict";

  function setup(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-drop-zone]");
    var progress = form.querySelector("[data-progress]");
    var bar = progress && progress.querySelector("progress");
    var error = form.querySelector("[data-upload-error]");
    if (!input || !zone) return;
    var max = parseInt(input.getAttribute("data-max-bytes") || "0", 10);

    // The file chosen, said in the page's own words: the browser's own ("No file chosen") is in
    // the phone's language, and at 320 px it was cut to "No …sen" beside its button.
    var chosen = form.querySelector("[data-chosen-file]");
    function sayChosen() {
      if (!chosen) return;
      var file = input.files && input.files[0];
      chosen.textContent = file
        ? chosen.getAttribute("data-chosen").replace("{name}", file.name)
        : chosen.getAttribute("data-none");
      chosen.hidden = false;
      input.classList.add("chosen-said");
    }
    sayChosen();

    function say(message) {
      error.textContent = message;
      error.hidden = !message;
    }

    function tooLarge() {
      var file = input.files && input.files[0];
      return Boolean(file && max && file.size > max);
    }

    form.querySelector("[data-drop-hint]").hidden = false;
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        sayChosen();
        say(tooLarge() ? error.getAttribute("data-too-large") : "");
      }
    });
    input.addEventListener("change", function () {
      sayChosen();
      say(tooLarge() ? error.getAttribute("data-too-large") : "");
    });

    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData || !bar) return; // a plain post then
      event.preventDefault();
      if (tooLarge()) {
        say(error.getAttribute("data-too-large"));
        input.focus();
        return;
      }
      say("");
      var request = new XMLHttpRequest();
      request.open("POST", form.getAttribute("action") || window.location.href);
      request.setRequestHeader("HX-Request", "true"); // answered with HX-Redirect (django-htmx)
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
      });
      request.addEventListener("load", function () {
        // Saved: the server names the page to go to (with its #place, which a followed
        // redirect would lose).
        var next = request.getResponseHeader("HX-Redirect");
        if (next) {
          window.location.assign(next);
          return;
        }
        // The form again with the server's messages beside the fields: shown as the page.
        var page = new DOMParser().parseFromString(request.responseText, "text/html");
        var main = page.querySelector("main");
        if (main) {
          document.querySelector("main").replaceWith(document.adoptNode(main));
          var again = document.querySelector("form[data-upload]");
          if (again) setup(again);
          var alert = document.querySelector("[role=alert]");
          if (alert) alert.scrollIntoView();
        }
      });
      request.addEventListener("error", function () {
        progress.hidden = true;
        say(error.getAttribute("data-failed"));
      });
      progress.hidden = false;
      bar.value = 0;
      request.send(new FormData(form));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload]").forEach(setup);
  });
})();
