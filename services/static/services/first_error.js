// A form sent back with errors: the focus goes to the first field with an error (Django marks
// it aria-invalid="true"; its message is beside it, named by aria-describedby), so a screen
// reader reads the field and what is wrong with it, and a phone shows it rather than the top
// of the page. A box marked only to be typed again (the Social Security number, a file: never
// shown back; services/_field.html marks it data-retype-only) gives way to a mistake further
// down, the one "Please correct the 1 field" counts; alone, it has the focus. When no field is
// marked (an error about the whole form, or a field drawn by hand), the focus goes to the error
// message itself. A page without errors keeps its focus.
// A file, not an inline script: the Content-Security-Policy allows only the site's own scripts.
(function () {
  "use strict";

  function shown(element) {
    return !element.closest("[hidden]") && element.getClientRects().length > 0;
  }

  function firstShown(selector, skip) {
    var found = document.querySelectorAll(selector);
    for (var i = 0; i < found.length; i += 1) {
      if (shown(found[i]) && !found[i].disabled && found[i].type !== "hidden" && !(skip && skip(found[i]))) {
        return found[i];
      }
    }
    return null;
  }

  function onlyToRetype(element) {
    return element.closest("[data-retype-only]") !== null;
  }

  function start() {
    var invalid = "main [aria-invalid='true']";
    var field = firstShown(invalid, onlyToRetype) || firstShown(invalid);
    if (field) {
      field.focus();
      // Its label and message too, not only the box (the label sits above it).
      (field.closest(".field, fieldset") || field).scrollIntoView({ block: "nearest" });
      return;
    }
    var message = firstShown("main .form-errors, main [role='alert'] .errorlist");
    if (message) {
      var alert = message.closest("[role='alert']") || message;
      if (!alert.hasAttribute("tabindex")) {
        alert.setAttribute("tabindex", "-1"); // focusable by the script, not a Tab stop
      }
      alert.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
