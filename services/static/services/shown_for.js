// A part of a form that applies to one choice only: `data-shown-by` names the form's select,
// `data-shown-for` the values (space-separated) it is for. While another value is chosen the
// part is hidden; choosing one of its values shows it. Without a script every part stays
// shown, with the help line that says when it is needed (the referral's "Why was it
// declined?", templates/services/referral_detail.html). A part holding a field sent back with
// an error stays shown, so the message beside it is read.
// A file, not an inline script: the Content-Security-Policy allows only the site's own scripts.
(function () {
  "use strict";

  function update(part, select) {
    var wanted = part.dataset.shownFor.split(" ");
    var mistaken = part.querySelector(".has-error, [aria-invalid='true']") !== null;
    part.hidden = wanted.indexOf(select.value) === -1 && !mistaken;
  }

  function start() {
    var parts = document.querySelectorAll("[data-shown-by][data-shown-for]");
    Array.prototype.forEach.call(parts, function (part) {
      var form = part.closest("form");
      var select = form && form.querySelector("select[name='" + part.dataset.shownBy + "']");
      if (!select) {
        return;
      }
      update(part, select);
      select.addEventListener("change", function () {
        update(part, select);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
