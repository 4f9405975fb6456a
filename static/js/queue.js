/* The live queue and the keyboard. Polls the rows fragment with If-None-Match (an idle queue
 * gets 304s), announces new tickets instead of reshuffling rows under the cursor, raises a P1
 * alert, can be paused, and keeps countdowns current between polls. */
(function () {
  "use strict";
  var POLL_MS = 15000;

  function rowIds(container) {
    return Array.prototype.map.call(container.querySelectorAll("tr[data-ticket]"), function (row) {
      return row.getAttribute("data-ticket");
    });
  }

  function spanText(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    if (minutes < 1) { return "under a minute"; }
    if (minutes < 60) { return minutes + " min"; }
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) { return hours + " h" + (minutes ? " " + minutes + " min" : ""); }
    var days = Math.floor(hours / 24);
    hours = hours % 24;
    return days + " d" + (hours ? " " + hours + " h" : "");
  }

  function refreshCountdowns() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll(".countdown[data-due]"), function (el) {
      var seconds = (Date.parse(el.getAttribute("data-due")) - now) / 1000;
      el.textContent = seconds >= 0 ? "in " + spanText(seconds) : spanText(seconds) + " overdue";
    });
  }

  function rowFor(container, id) {
    return container.querySelector('tr[data-ticket="' + id + '"]');
  }

  /* Mark the row of this ticket as the selected one, and focus it. */
  function keepRow(id, focus) {
    var row = rowFor(document.getElementById("queue-rows"), id);
    if (!row) { return; }
    row.classList.add("selected");
    if (focus) { row.focus(); }
  }

  function say(text, kind) {
    var region = document.getElementById("queue-said");
    if (!region) { return; }
    var line = document.createElement("p");
    line.className = "message message-" + kind;
    line.textContent = text;
    region.textContent = "";
    region.appendChild(line);
  }

  /* c on a row: claim it without leaving the page, so the focus stays on that row, then show
   * the row as it is now (the new owner in place of the button). Anything unexpected (signed
   * out, a network error) falls back to the button's own form post. */
  function claimInPlace(row, button) {
    var form = document.getElementById("claim-form");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var id = row.getAttribute("data-ticket");
    var fragmentUrl = document.getElementById("queue-table").getAttribute("data-fragment-url");
    fetch(button.getAttribute("formaction"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": token}
    }).then(function (response) {
      if (response.status !== 200 && response.status !== 409) { throw new Error("claim"); }
      return response.json();
    }).then(function (data) {
      say(data.message, data.claimed ? "success" : "warning");
      fetch(fragmentUrl, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) { showRow(id, html); })
        .catch(function () { showRow(id, ""); });
    }).catch(function () { button.click(); });
  }

  function showRow(id, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = rowFor(holder, id);
    var current = rowFor(document.getElementById("queue-rows"), id);
    if (fresh && current) {
      current.replaceWith(fresh);
    } else if (current) {
      // Gone from this view (the unassigned one) or not read: at least the button goes.
      var stale = current.querySelector(".claim-button");
      if (stale) { stale.remove(); }
    }
    keepRow(id, true);
  }

  function setupLiveQueue() {
    var table = document.getElementById("queue-table");
    if (!table) { return; }
    var url = table.getAttribute("data-fragment-url");
    var rows = document.getElementById("queue-rows");
    var banner = document.getElementById("live-banner");
    var message = document.getElementById("live-message");
    var show = document.getElementById("live-show");
    var toggle = document.getElementById("live-toggle");
    var alertBox = document.getElementById("p1-alert");
    var views = document.getElementById("saved-views");
    var etag = null;
    var pending = null;
    var paused = false;
    var seen = {};
    rowIds(rows).forEach(function (id) { seen[id] = true; });

    function apply() {
      if (!pending) { return; }
      var selected = rows.querySelector("tr.selected");
      var focused = selected && selected === document.activeElement;
      rows.innerHTML = pending.querySelector("#fragment-rows").innerHTML;
      rowIds(rows).forEach(function (id) { seen[id] = true; });
      pending = null;
      banner.hidden = true;
      refreshCountdowns();
      // The row the technician was on stays selected, and focused if it was.
      if (selected) { keepRow(selected.getAttribute("data-ticket"), focused); }
    }

    function poll() {
      if (paused || document.hidden) { return; }
      var headers = {"Accept": "text/html"};
      if (etag) { headers["If-None-Match"] = etag; }
      fetch(url, {credentials: "same-origin", headers: headers}).then(function (response) {
        if (response.status === 304 || !response.ok) { return null; }
        etag = response.headers.get("ETag");
        return response.text();
      }).then(function (html) {
        if (!html) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        views.innerHTML = holder.querySelector("#fragment-views").innerHTML;
        var incoming = holder.querySelector("#fragment-rows");
        var fresh = rowIds(incoming).filter(function (id) { return !seen[id]; });
        pending = holder;
        if (!fresh.length) {
          // Only changes to rows already shown: update in place, nothing moves under a click
          // unless the order really changed, which a refresh shows on the next "Show".
          if (rowIds(incoming).join() === rowIds(rows).join()) { apply(); }
          return;
        }
        var p1 = fresh.filter(function (id) {
          var row = incoming.querySelector('tr[data-ticket="' + id + '"]');
          return row && row.getAttribute("data-priority") === "1";
        });
        message.textContent = fresh.length + (fresh.length === 1 ? " new ticket" : " new tickets") + ".";
        banner.hidden = false;
        if (p1.length) {
          alertBox.textContent = "New P1: " + p1.length + " critical ticket" + (p1.length === 1 ? "" : "s") + " waiting.";
          alertBox.hidden = false;
        }
      }).catch(function () { /* the next poll tries again */ });
    }

    show.addEventListener("click", function () { apply(); alertBox.hidden = true; });
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.setAttribute("aria-pressed", paused ? "true" : "false");
      toggle.textContent = paused ? "Resume updates" : "Pause updates";
      if (!paused) { poll(); }
    });
    setInterval(poll, POLL_MS);
    setInterval(refreshCountdowns, 30000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
    window.helpdeskQueuePoll = poll;
  }

  function setupKeyboard() {
    var dialog = document.getElementById("shortcuts");

    function queueRows() { return document.querySelectorAll("#queue-rows tr[data-ticket]"); }

    /* The selected row is read from the page, as a refresh of the rows keeps it. */
    function selectedIndex() {
      return Array.prototype.indexOf.call(queueRows(), document.querySelector("#queue-rows tr.selected"));
    }

    function select(index) {
      var list = queueRows();
      if (!list.length) { return; }
      var current = Math.max(0, Math.min(index, list.length - 1));
      Array.prototype.forEach.call(list, function (row) { row.classList.remove("selected"); });
      list[current].classList.add("selected");
      list[current].focus();
    }

    function openDialog() { if (dialog) { dialog.hidden = false; document.getElementById("shortcuts-close").focus(); } }
    function closeDialog() { if (dialog) { dialog.hidden = true; } }

    var opener = document.getElementById("shortcuts-open");
    if (opener) { opener.addEventListener("click", openDialog); }
    var closer = document.getElementById("shortcuts-close");
    if (closer) { closer.addEventListener("click", closeDialog); }

    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
      if (event.key === "Escape") { closeDialog(); return; }
      if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
      var current = selectedIndex();
      var row = current >= 0 ? queueRows()[current] : null;
      var reply = document.getElementById("reply-form");
      switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "Enter": if (row) { window.location.assign(row.getAttribute("data-url")); } else { return; } break;
      case "c":
        if (row) {
          var button = row.querySelector(".claim-button");
          if (button) { claimInPlace(row, button); }
        } else {
          var claim = document.querySelector('[data-key="c"]');
          if (claim) { claim.click(); }
        }
        break;
      case "/":
        var search = document.getElementById("id_q");
        if (search) { search.focus(); } else { return; }
        break;
      case "r":
      case "n":
        if (!reply) { return; }
        var choice = reply.querySelector('input[name="visibility"][value="' + (event.key === "r" ? "reply" : "internal") + '"]');
        if (choice) {
          choice.checked = true;
          choice.dispatchEvent(new Event("change", {bubbles: true}));  // the send button's label follows
        }
        reply.querySelector("textarea").focus();
        break;
      case "e":
        var panel = document.getElementById("resolve-panel");
        if (!panel) { return; }
        panel.open = true;
        panel.querySelector("select").focus();
        break;
      case "?": openDialog(); break;
      default: return;
      }
      event.preventDefault();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupLiveQueue();
    setupKeyboard();
    refreshCountdowns();
  });
})();
