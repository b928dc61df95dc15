// The language switch (templates/base.html, and the provider's page's own) loads the page again
// in the other language; what the person had typed into the page's forms and not sent comes back
// in the same boxes. It waits in this tab's sessionStorage (never on the server, never in a
// cookie) for the page the switch leads to, and is taken once, on that page only. Never kept, as
// services.lib.kept_forms never keeps them: passwords, codes, tokens and files. Without
// JavaScript the switch still works; the typed words are not kept.
(function () {
  "use strict";

  var KEY = "reentry.typed-before-language-switch";
  var NEVER_KEPT = /^(csrfmiddlewaretoken|otp_token|token|code|.*password.*)$/;
  var NOT_TYPED = ["hidden", "password", "file", "submit", "button", "reset", "image"];

  // The page's own forms; not the frame's (the switch, "Sign out", "Stay signed in").
  function pageForms() {
    return Array.prototype.filter.call(document.querySelectorAll("main form"), function (form) {
      return !form.closest("#idle-warning");
    });
  }

  // A form by its address and its place among the forms with that address: the same on the
  // page sent back with an error as on the page opened afresh.
  function formKeys(forms) {
    var seen = {};
    return forms.map(function (form) {
      var action = form.getAttribute("action") || "";
      seen[action] = (seen[action] || 0) + 1;
      return action + " " + seen[action];
    });
  }

  // A field by its name, and its value for a box to tick or a choice (one name, many boxes),
  // else its place among the fields of that name.
  function fields(form) {
    var seen = {};
    var found = [];
    Array.prototype.forEach.call(form.elements, function (field) {
      var type = field.type || "";
      if (!field.name || NEVER_KEPT.test(field.name) || NOT_TYPED.indexOf(type) !== -1 || field.disabled) {
        return;
      }
      var key;
      if (type === "checkbox" || type === "radio") {
        key = field.name + "=" + field.value;
      } else {
        seen[field.name] = (seen[field.name] || 0) + 1;
        key = field.name + "#" + seen[field.name];
      }
      found.push({ key: key, field: field });
    });
    return found;
  }

  function valueOf(field) {
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked;
    }
    if (field.type === "select-multiple") {
      return Array.prototype.map.call(field.selectedOptions, function (option) {
        return option.value;
      });
    }
    return field.value;
  }

  function setValue(field, value) {
    if (field.type === "checkbox" || field.type === "radio") {
      field.checked = value === true;
    } else if (field.type === "select-multiple") {
      Array.prototype.forEach.call(field.options, function (option) {
        option.selected = value.indexOf(option.value) !== -1;
      });
    } else {
      field.value = value;
    }
    // What listens to typing (limits.js's count of characters left) sees the words.
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function keep(next) {
    var forms = pageForms();
    var keys = formKeys(forms);
    var kept = {};
    forms.forEach(function (form, index) {
      var values = {};
      fields(form).forEach(function (item) {
        values[item.key] = valueOf(item.field);
      });
      kept[keys[index]] = values;
    });
    try {
      window.sessionStorage.setItem(KEY, JSON.stringify({ url: next, forms: kept }));
    } catch (error) {
      // Storage refused (full, or switched off): the switch goes on, as without a script.
    }
  }

  function take() {
    var stored;
    try {
      stored = window.sessionStorage.getItem(KEY);
      window.sessionStorage.removeItem(KEY);
    } catch (error) {
      return;
    }
    if (!stored) {
      return;
    }
    var kept = JSON.parse(stored);
    if (kept.url !== window.location.pathname + window.location.search) {
      return; // the switch led elsewhere (an address it could not come back to)
    }
    var forms = pageForms();
    var keys = formKeys(forms);
    forms.forEach(function (form, index) {
      var values = kept.forms[keys[index]];
      if (!values) {
        return;
      }
      var typed = false;
      fields(form).forEach(function (item) {
        if (Object.prototype.hasOwnProperty.call(values, item.key)) {
          // Typed: what was kept is not what the page opened with (a choice ticked by default is not).
          typed = typed || JSON.stringify(valueOf(item.field)) !== JSON.stringify(values[item.key]);
          setValue(item.field, values[item.key]);
        }
      });
      // A form folded away (My plan's "Ask for help") is shown again with what was typed in it.
      var folded = form.closest("details");
      if (typed && folded) {
        folded.open = true;
      }
    });
  }

  function start() {
    take();
    var switchForm = document.querySelector("form.language-switch");
    if (switchForm) {
      // The site's switch says where it leads back to; the provider's page's own leads back to
      // the page itself (its address holds the link's key, so it is not written into the form).
      var next = switchForm.elements.namedItem("next");
      switchForm.addEventListener("submit", function () {
        keep(next ? next.value : window.location.pathname + window.location.search);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
