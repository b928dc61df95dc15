// A box with a most it takes (a textarea's maxlength) says so before it refuses: below it, the
// characters left once few remain, and, when something pasted was longer than the room left,
// that the browser cut its end (it does so silently). The words come translated on this
// script's tag (templates/base.html); the server checks the same most and says so beside the
// field in any case.
(function () {
  "use strict";

  var script = document.currentScript;
  var words = {
    left: script.dataset.left, // "Characters left: {left} of {most}."
    cut: script.dataset.cut, // "What you pasted was too long: ... {most} ..."
  };

  function number(value) {
    return value.toLocaleString(document.documentElement.lang || undefined);
  }

  function say(box, text, urgent) {
    var id = box.id + "_left";
    var line = document.getElementById(id);
    if (!line && !text) {
      return;
    }
    if (!line) {
      line = document.createElement("p");
      line.id = id;
      line.className = "help limit";
      line.setAttribute("aria-live", "polite");
      box.insertAdjacentElement("afterend", line);
    }
    line.textContent = text;
    line.classList.toggle("limit-reached", Boolean(urgent));
    line.hidden = !text;
  }

  function most(box) {
    var value = Number(box.getAttribute("maxlength"));
    return value > 0 ? value : 0;
  }

  function counted(box) {
    var limit = most(box);
    var left = limit - box.value.length;
    if (box.dataset.cut && left <= 0) {
      return; // what was pasted was cut: that is what to say until the box is shortened
    }
    delete box.dataset.cut;
    // Said once a tenth of the room is left (at least 100 characters' worth), not before.
    if (left > Math.max(100, limit / 10)) {
      say(box, "", false);
      return;
    }
    say(box, words.left.replace("{left}", number(Math.max(left, 0))).replace("{most}", number(limit)), left <= 0);
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
    var pasted = event.clipboardData.getData("text/plain").replace(/\r\n/g, "\n").length;
    var room = most(box) - box.value.length + (box.selectionEnd - box.selectionStart);
    if (pasted > room) {
      box.dataset.cut = "1";
      say(box, words.cut.replace("{most}", number(most(box))), true);
    }
  });
})();
