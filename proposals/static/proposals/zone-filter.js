/*
 * A time-zone <select> marked data-zone-filter gets a search box above it: typing part of a
 * city or a country (accents and case ignored) leaves only the zones that match, regions with
 * none are hidden. Without this script the grouped <select> works as it is.
 */
(function () {
  "use strict";

  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function enhance(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "-filter";
    box.className = "zone-filter";
    box.setAttribute("aria-controls", select.id);
    box.setAttribute("autocomplete", "off");
    var label = document.createElement("label");
    label.htmlFor = box.id;
    label.className = "zone-filter-label";
    label.textContent = select.getAttribute("data-zone-filter");
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(box, select);

    box.addEventListener("input", function () {
      var wanted = plain(box.value.trim());
      var first = null;
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        var shown = 0;
        Array.prototype.forEach.call(group.querySelectorAll("option"), function (option) {
          var matches = !wanted || plain(option.textContent + " " + option.value).indexOf(wanted) !== -1;
          option.hidden = !matches;
          if (matches) {
            shown += 1;
            if (first === null) first = option;
          }
        });
        group.hidden = shown === 0;
      });
      if (wanted && first !== null && select.selectedOptions.length && select.selectedOptions[0].hidden) {
        first.selected = true;
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-zone-filter]"), enhance);
})();
