// A box with a most it takes (a textarea's maxlength) says so before it refuses: below it, the
// characters left once few remain, and, when something pasted was longer than the room left,
// that the browser cut its end (it does so silently). The words come translated on this
// script's tag (templates/base.html); the server checks the same most and says so beside the
// field in any case.
//
// Counted as the server counts: a browser sends each line break as two characters (\r\n), and
// the server reads them as one (services.forms.widgets.LineBreaksAsOne), as the box's own
// maxlength does. A screen reader hears the count at a few steps only (not at every key),
// through one polite live region; the cut, at once.
(function () {
  "use strict";

  var script = document.currentScript;
  var words = {
    left: script.dataset.left, // "Characters left: {left} of {most}."
    cut: script.dataset.cut, // "What you pasted was too long: ... {most} ..."
  };
  var STEPS = [100, 50, 10, 0]; // what a screen reader hears, as the room left passes each

  function number(value) {
    return value.toLocaleString(document.documentElement.lang || undefined);
  }

  function most(box) {
    var value = Number(box.getAttribute("maxlength"));
    return value > 0 ? value : 0;
  }

  function sent(text) {
    return text.length; // a line break is one character here, and one for the server
  }

  function used(box) {
    return sent(box.value);
  }

  function voice() {
    var region = document.getElementById("limits-live");
    if (!region) {
      region = document.createElement("p");
      region.id = "limits-live";
      region.className = "visually-hidden";
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    return region;
  }

  function line(box, create) {
    var id = box.id + "_left";
    var found = document.getElementById(id);
    if (!found && create) {
      found = document.createElement("p");
      found.id = id;
      found.className = "help limit";
      box.insertAdjacentElement("afterend", found);
      var described = (box.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      box.setAttribute("aria-describedby", described.concat(id).join(" "));
    }
    return found;
  }

  function show(box, text, urgent) {
    var shown = line(box, Boolean(text));
    if (!shown) {
      return;
    }
    shown.textContent = text;
    shown.classList.toggle("limit-reached", Boolean(urgent));
    shown.hidden = !text;
  }

  function counted(box) {
    var limit = most(box);
    var left = Math.max(limit - used(box), 0);
    if (box.dataset.cut && left === 0) {
      return; // what was pasted was cut: that is what to say until the box is shortened
    }
    delete box.dataset.cut;
    var shown = line(box, false);
    if (shown) {
      shown.removeAttribute("role"); // the cut was said; counts are not alerts
    }
    // Shown once a tenth of the room is left (at least 100 characters, at most a quarter).
    if (left > Math.min(Math.max(100, limit / 10), limit / 4)) {
      show(box, "", false);
      delete box.dataset.step;
      return;
    }
    var text = words.left.replace("{left}", number(left)).replace("{most}", number(limit));
    show(box, text, left === 0);
    var step = STEPS.filter(function (value) {
      return left <= value;
    }).pop();
    if (step !== undefined && String(step) !== box.dataset.step) {
      box.dataset.step = String(step);
      voice().textContent = text;
    }
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (box instanceof HTMLTextAreaElement && most(box) && box.id) {
      counted(box);
    }
  });

  document.addEventListener("paste", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !most(box) || !box.id || !event.clipboardData) {
      return;
    }
    var pasted = event.clipboardData.getData("text/plain").replace(/\r\n/g, "\n");
    var room = most(box) - used(box) + (box.selectionEnd - box.selectionStart);
    if (sent(pasted) > room) {
      box.dataset.cut = "1";
      var text = words.cut.replace("{most}", number(most(box)));
      show(box, text, true);
      line(box, false).setAttribute("role", "alert");
    }
  });
})();
