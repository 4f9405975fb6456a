/* The help desk's own script: the PHI hint while typing (and its "Remove it"), removing patient
 * data from a ticket, and the idle sign-out warning for shared workstations. No inline script
 * anywhere (the CSP forbids it). */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* PHI hint: warn, never block. The server holds the one detector; the page asks it. "Remove
   * it" replaces each flagged passage with the same mark a removal on the ticket leaves. */
  var REDACTION_MARK = "[removed: patient data]";

  function setupPhiHint(form) {
    var url = form.getAttribute("data-phi-url");
    var warning = form.querySelector("#phi-warning") || document.getElementById("phi-warning");
    var kinds = warning && warning.querySelector("#phi-kinds");
    var fields = form.querySelectorAll("[data-phi-check]");
    if (!url || !warning || !fields.length) { return; }
    var timer = null;
    var lastText = null;
    var pending = Promise.resolve();
    // What the server last answered about, and where in that text the flagged passages are.
    var checked = { text: null, spans: [] };

    function joined() {
      return Array.prototype.map.call(fields, function (f) { return f.value; }).join("\n");
    }

    function check() {
      var text = joined();
      if (text === lastText) { return pending; }
      lastText = text;
      if (!text.trim()) {
        warning.hidden = true;
        pending = Promise.resolve();
        return pending;
      }
      var body = new URLSearchParams();
      body.set("text", text);
      pending = fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(form) },
        body: body
      }).then(function (response) {
        return response.ok ? response.json() : { labels: [] };
      }).then(function (data) {
        if (text !== lastText) { return; }  // an older answer; a newer question is out
        checked = { text: text, spans: data.spans || [] };
        if (data.labels && data.labels.length) {
          kinds.textContent = "It seems to contain " + data.labels.join(", ") + ".";
          warning.hidden = false;
        } else {
          warning.hidden = true;
        }
      }).catch(function () { /* the server rescans on submit */ });
      return pending;
    }

    function removeFlagged() {
      if (checked.text !== joined()) { return; }
      var offset = 0;
      var first = null;
      Array.prototype.forEach.call(fields, function (field) {
        var start = offset;
        var end = offset + field.value.length;
        offset = end + 1;  // the line break the fields were joined with
        var value = field.value;
        // Last passage first, so the earlier offsets still hold.
        checked.spans.slice().reverse().forEach(function (span) {
          var from = Math.max(span[0], start);
          var to = Math.min(span[1], end);
          if (from >= to) { return; }
          value = value.slice(0, from - start) + REDACTION_MARK + value.slice(to - start);
        });
        if (value !== field.value) {
          field.value = value;
          first = first || field;
        }
      });
      if (first) { first.focus(); }
      check();
    }

    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "btn phi-remove";
    remove.textContent = "Remove it";
    remove.addEventListener("click", function () {
      clearTimeout(timer);
      check().then(removeFlagged);
    });
    warning.appendChild(document.createTextNode(" "));
    warning.appendChild(remove);

    Array.prototype.forEach.call(fields, function (field) {
      field.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(check, 400);
      });
    });
    check();
  }

  /* "Remove patient data" on the ticket page: the passage is what the reader last selected in
   * that text (a title, the description, a comment); without a selection it is typed or pasted. */
  function setupRedactForms() {
    var panels = document.querySelectorAll("details[data-redact-for]");
    if (!panels.length) { return; }
    var selected = {};

    function sourceOf(node) {
      var element = node && (node.nodeType === 1 ? node : node.parentElement);
      return element ? element.closest("[data-redact-text]") : null;
    }

    document.addEventListener("selectionchange", function () {
      var selection = window.getSelection();
      var text = selection ? selection.toString().trim() : "";
      if (!text) { return; }
      var source = sourceOf(selection.anchorNode);
      if (source && source === sourceOf(selection.focusNode)) {
        selected[source.getAttribute("data-redact-text")] = text;
      }
    });
    Array.prototype.forEach.call(panels, function (panel) {
      panel.addEventListener("toggle", function () {
        if (!panel.open) { return; }
        var passage = panel.querySelector("textarea");
        var text = selected[panel.getAttribute("data-redact-for")];
        if (text && !passage.value) { passage.value = text; }
        passage.focus();
      });
    });
  }

  /* A note that becomes required with one choice of its form's select (a reason to cancel).
   * The server holds the same rule; this only says so before the round trip. */
  function setupRequiredNote(note) {
    var select = note.form && note.form.querySelector('select[name="' + note.getAttribute("data-required-with") + '"]');
    if (!select) { return; }
    var when = note.getAttribute("data-required-when");
    function sync() { note.required = select.value === when; }
    select.addEventListener("change", sync);
    sync();
  }

  /* IT's reply box: the send button says where the message goes, as the choice changes. */
  function setupSendLabel(form) {
    var button = form.querySelector("#reply-send");
    if (!button) { return; }
    function sync() {
      var chosen = form.querySelector('input[name="visibility"]:checked');
      var label = chosen && button.getAttribute("data-label-" + chosen.value);
      if (label) { button.textContent = label; }
    }
    form.addEventListener("change", sync);
    sync();
  }

  /* Idle sign-out: warn two minutes before the session ends, offer to stay. */
  function setupIdleWarning() {
    var body = document.body;
    var timeout = parseInt(body.getAttribute("data-idle-timeout"), 10);
    if (!timeout) { return; }
    var dialog = document.getElementById("idle-warning");
    var countdown = document.getElementById("idle-countdown");
    var stay = document.getElementById("idle-stay");
    var warnBefore = Math.min(120, Math.floor(timeout / 2));
    var deadline = Date.now() + timeout * 1000;

    function format(seconds) {
      var m = Math.floor(seconds / 60);
      var s = seconds % 60;
      return m + ":" + (s < 10 ? "0" : "") + s;
    }

    function tick() {
      var left = Math.round((deadline - Date.now()) / 1000);
      if (left <= 0) {
        // The server has ended the session by now; the login page comes back to this page.
        window.location.assign(body.getAttribute("data-login-url") + "?next=" +
          encodeURIComponent(window.location.pathname));
        return;
      }
      if (left <= warnBefore) {
        if (dialog.hidden) { dialog.hidden = false; stay.focus(); }
        countdown.textContent = format(left);
      }
    }

    stay.addEventListener("click", function () {
      var form = dialog.querySelector("form");
      fetch(body.getAttribute("data-keep-alive-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(form) }
      }).then(function (response) {
        if (response.ok) {
          deadline = Date.now() + timeout * 1000;
          dialog.hidden = true;
        }
      });
    });
    setInterval(tick, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-phi-url]"), setupPhiHint);
    setupRedactForms();
    Array.prototype.forEach.call(document.querySelectorAll("[data-required-with]"), setupRequiredNote);
    var reply = document.getElementById("reply-form");
    if (reply) { setupSendLabel(reply); }
    setupIdleWarning();
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
