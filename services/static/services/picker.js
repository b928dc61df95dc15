// Searchable lists: a search box above each <select data-searchable> that hides the options
// not matching every word typed. Without JavaScript the plain list still works.
(function () {
  "use strict";

  function enhance(select) {
    if (select.dataset.searchReady) {
      return;
    }
    select.dataset.searchReady = "1";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "picker-search";
    box.setAttribute("aria-label", select.dataset.searchable);
    box.setAttribute("aria-controls", select.id);
    box.placeholder = select.dataset.searchable;
    var status = document.createElement("p");
    status.className = "help";
    status.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(status, select.nextSibling);

    box.addEventListener("input", function () {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) {
          return;
        }
        var text = option.text.toLowerCase();
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !match && !option.selected;
        if (match) {
          shown += 1;
        }
      });
      status.textContent = words.length ? shown + (shown === 1 ? " resource matches" : " resources match") : "";
    });
  }

  function enhanceAll(root) {
    root.querySelectorAll("select[data-searchable]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  document.addEventListener("htmx:load", function (event) { enhanceAll(event.target); });
})();
