/*
 * Signed-in pages: warn before the session ends for want of activity, keep it alive while the
 * person types, and keep what they type in this tab's sessionStorage, so that after logging in
 * again they find it back on the same page. Pages work without this script; it only adds.
 */
(function () {
  "use strict";

  var body = document.body;
  var STORE_PREFIX = "policy-tracker:form:";
  var SENT_KEY = "policy-tracker:form-sent";
  var KEEPALIVE_EVERY_MS = 60 * 1000;
  var SKIPPED_TYPES = ["password", "hidden", "file", "submit", "button", "reset", "image"];

  var secondsLeft = parseInt(body.getAttribute("data-session-seconds-left"), 10);
  var signedIn = !isNaN(secondsLeft);

  function storage() {
    try {
      return window.sessionStorage;
    } catch (error) {
      return null;
    }
  }

  function storeKey(path) {
    return STORE_PREFIX + path;
  }

  function keptFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && field.name !== "csrfmiddlewaretoken" &&
        SKIPPED_TYPES.indexOf(field.type) === -1 && !field.disabled;
    });
  }

  function isTyped(field) {
    return field.tagName === "TEXTAREA" ||
      (field.tagName === "INPUT" && ["checkbox", "radio"].indexOf(field.type) === -1);
  }

  /* Forms worth keeping: sent by POST, with at least one field a person types in. */
  function keptForms() {
    return Array.prototype.filter.call(document.forms, function (form) {
      return (form.method || "").toLowerCase() === "post" && keptFields(form).some(isTyped);
    });
  }

  function fieldKey(field) {
    return field.type === "checkbox" || field.type === "radio"
      ? field.name + "=" + field.value
      : field.name;
  }

  function snapshot(form) {
    var values = {};
    keptFields(form).forEach(function (field) {
      if (field.type === "checkbox" || field.type === "radio") {
        values[fieldKey(field)] = field.checked;
      } else if (field.type === "select-multiple") {
        values[fieldKey(field)] = Array.prototype.filter.call(field.options, function (option) {
          return option.selected;
        }).map(function (option) { return option.value; });
      } else {
        values[fieldKey(field)] = field.value;
      }
    });
    return values;
  }

  function formsSave() {
    var store = storage();
    if (!store) { return; }
    var forms = {};
    keptForms().forEach(function (form, index) { forms[index] = snapshot(form); });
    try {
      store.setItem(storeKey(window.location.pathname), JSON.stringify(forms));
    } catch (error) {
      /* Storage full or refused: the page still works, only nothing is kept. */
    }
  }

  function savedForms(path) {
    var store = storage();
    if (!store) { return null; }
    try {
      return JSON.parse(store.getItem(storeKey(path)) || "null");
    } catch (error) {
      return null;
    }
  }

  function formsForget(path) {
    var store = storage();
    if (store) { store.removeItem(storeKey(path)); }
  }

  function formsForgetAll() {
    var store = storage();
    if (!store) { return; }
    for (var index = store.length - 1; index >= 0; index -= 1) {
      var key = store.key(index);
      if (key && key.indexOf(STORE_PREFIX) === 0) { store.removeItem(key); }
    }
  }

  function fill(form, values) {
    var changed = false;
    keptFields(form).forEach(function (field) {
      var key = fieldKey(field);
      if (!Object.prototype.hasOwnProperty.call(values, key)) { return; }
      var value = values[key];
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== value) { field.checked = value; changed = true; }
      } else if (field.type === "select-multiple") {
        Array.prototype.forEach.call(field.options, function (option) {
          var selected = value.indexOf(option.value) !== -1;
          if (option.selected !== selected) { option.selected = selected; changed = true; }
        });
      } else if (field.value !== value) {
        field.value = value;
        changed = true;
      }
    });
    return changed;
  }

  /* Notices come from a translated <template> in the page. */
  function notice(name) {
    var template = document.getElementById("session-notices");
    if (!template) { return null; }
    var existing = document.querySelector("main [data-session-notice='" + name + "']");
    if (existing) { return existing; }
    var shown = template.content.querySelector("[data-session-notice='" + name + "']");
    if (!shown) { return null; }
    shown = shown.cloneNode(true);
    var main = document.getElementById("main");
    main.insertBefore(shown, main.firstChild);
    return shown;
  }

  function noticeHide(name) {
    document.querySelectorAll("main [data-session-notice='" + name + "']").forEach(function (shown) {
      shown.remove();
    });
  }

  function formsRestore() {
    var path = window.location.pathname;
    var saved = savedForms(path);
    if (!saved) { return; }
    var restored = false;
    keptForms().forEach(function (form, index) {
      if (saved[index] && fill(form, saved[index])) { restored = true; }
    });
    if (!restored) { return; }
    var shown = notice("restored");
    if (!shown) { return; }
    shown.querySelector("[data-session-discard]").addEventListener("click", function () {
      formsForget(path);
      window.location.reload();
    });
  }

  /* A form sent last page: the server answered it (the page it sent us to shows the result, or
   * the form again with what was sent), so what was kept is no longer needed, unless the answer
   * was the login page (the session had ended). */
  function sentFormSettle() {
    var store = storage();
    if (!store) { return false; }
    var sent = store.getItem(SENT_KEY);
    store.removeItem(SENT_KEY);
    if (sent && signedIn) {
      formsForget(sent);
      return sent === window.location.pathname;
    }
    return false;
  }

  if (!signedIn) {
    sentFormSettle();
    return;
  }

  /* The session clock, kept in step with the server by the keep-alive's answers. */
  var idleSeconds = secondsLeft;
  var warnBeforeMs = Math.min(120, Math.floor(idleSeconds / 4)) * 1000;
  var deadline = Date.now() + secondsLeft * 1000;
  var warnTimer = null;
  var endTimer = null;
  var lastKeepalive = Date.now();
  var ended = false;

  function sessionEnd() {
    ended = true;
    noticeHide("warning");
    var shown = notice("ended");
    if (shown) {
      var link = shown.querySelector("[data-session-login]");
      link.href = link.getAttribute("href") + "?next=" +
        encodeURIComponent(window.location.pathname + window.location.search);
    }
  }

  function clockSet(seconds) {
    deadline = Date.now() + seconds * 1000;
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    warnTimer = window.setTimeout(function () {
      notice("warning");
    }, Math.max(0, seconds * 1000 - warnBeforeMs));
    endTimer = window.setTimeout(sessionEnd, seconds * 1000);
  }

  function csrfToken() {
    var field = document.querySelector("input[name='csrfmiddlewaretoken']");
    return field ? field.value : "";
  }

  function keepalive() {
    lastKeepalive = Date.now();
    var url = body.getAttribute("data-session-keepalive-url");
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (answer.signed_in) {
          noticeHide("warning");
          clockSet(answer.seconds_left);
        } else {
          window.clearTimeout(warnTimer);
          window.clearTimeout(endTimer);
          sessionEnd();
        }
      });
    }).catch(function () {
      /* Offline for a moment: the clock goes on, and the next keystroke tries again. */
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-session-stay]")) {
      keepalive();
    }
  });

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (!form || keptForms().indexOf(form) === -1) { return; }
    formsSave();
    if (!ended && Date.now() - lastKeepalive >= KEEPALIVE_EVERY_MS) { keepalive(); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("logout-form")) {
      formsForgetAll();
      return;
    }
    if (keptForms().indexOf(form) === -1) { return; }
    formsSave();
    var store = storage();
    if (store) { store.setItem(SENT_KEY, window.location.pathname); }
  });

  /* Any request the page makes with htmx counts as activity on the server too. */
  document.addEventListener("htmx:afterRequest", function () {
    if (!ended) { clockSet(Math.max(0, idleSeconds - 60)); }
  });

  if (!sentFormSettle()) { formsRestore(); }
  clockSet(secondsLeft);
})();
