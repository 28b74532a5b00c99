// Completion of @usernames in the discussion's text areas (those with data-mention-url): the
// people who may see the proposal, by the letters typed after "@". Arrow keys choose, Enter or
// Tab inserts, Escape closes. Without this script, typing the username whole works the same.
(function () {
  "use strict";

  var MENTION_BEFORE_CARET = /(^|[\s(\[{"'])@([\w.+-]*)$/;
  var counter = 0;

  function attach(area) {
    counter += 1;
    var list = document.createElement("ul");
    list.id = "mention-list-" + counter;
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", area.getAttribute("data-mention-label") || "@");
    list.hidden = true;
    area.insertAdjacentElement("afterend", list);
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", list.id);

    var people = [];
    var active = -1;
    var start = -1;
    var asked = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      people = [];
      active = -1;
      area.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) {
        area.setAttribute("aria-activedescendant", list.children[index].id);
      }
    }

    function choose(index) {
      var person = people[index];
      if (!person) {
        return;
      }
      var caret = area.selectionStart;
      var before = area.value.slice(0, start) + "@" + person.username + " ";
      area.value = before + area.value.slice(caret);
      area.setSelectionRange(before.length, before.length);
      close();
      area.focus();
    }

    function show(found) {
      list.textContent = "";
      people = found;
      if (!found.length) {
        close();
        return;
      }
      found.forEach(function (person, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.textContent = "@" + person.username + (person.name !== person.username ? " — " + person.name : "");
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(item);
      });
      list.hidden = false;
      highlight(0);
    }

    area.addEventListener("input", function () {
      var caret = area.selectionStart;
      var match = MENTION_BEFORE_CARET.exec(area.value.slice(0, caret));
      if (!match) {
        close();
        return;
      }
      start = caret - match[2].length - 1;
      asked += 1;
      var ticket = asked;
      var url = area.getAttribute("data-mention-url") + "?q=" + encodeURIComponent(match[2]);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { people: [] };
        })
        .then(function (data) {
          if (ticket === asked) {
            show(data.people || []);
          }
        })
        .catch(close);
    });

    area.addEventListener("keydown", function (event) {
      if (list.hidden) {
        return;
      }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % people.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight((active - 1 + people.length) % people.length);
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });

    area.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-mention-url]"), attach);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
