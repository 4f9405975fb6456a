// The filing form asks "Which unit are you reporting for?" as soon as a location of another
// unit is picked, instead of after the send (which is how it asks without this script).
(function () {
  "use strict";

  function setupOtherUnit(form) {
    var select = form.querySelector("select[name=location]");
    var slot = document.getElementById("other-unit-slot");
    var template = document.getElementById("other-unit-template");
    if (!select || !slot || !template || !template.content) { return; }
    var ownUnit = template.getAttribute("data-own-unit");
    // Where "my own unit" goes back to: the first of her own locations.
    var own = Array.prototype.filter.call(select.options, function (option) {
      return option.value && !option.getAttribute("data-other-unit");
    })[0];

    function clear() {
      while (slot.firstChild) { slot.removeChild(slot.firstChild); }
    }

    function ask(option) {
      var asked = slot.querySelector("fieldset");
      if (asked && asked.getAttribute("data-for") === option.value) { return; }
      var question = template.content.querySelector("fieldset").cloneNode(true);
      question.setAttribute("data-for", option.value);
      var label = option.textContent.replace(/^\S+ - /, "");
      Array.prototype.forEach.call(question.querySelectorAll("[data-location]"), function (el) {
        el.textContent = label;
      });
      Array.prototype.forEach.call(question.querySelectorAll("[data-unit-name]"), function (el) {
        el.textContent = option.getAttribute("data-other-unit-name");
      });
      question.querySelector("[data-unit-code]").value = option.getAttribute("data-other-unit");
      clear();
      slot.appendChild(question);
    }

    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      if (option && option.getAttribute("data-other-unit")) { ask(option); } else { clear(); }
    });
    slot.addEventListener("change", function (event) {
      if (event.target.name !== "reporting_for" || event.target.value !== ownUnit) { return; }
      clear();
      if (own) { select.value = own.value; }
      select.focus();
    });
  }

  // A known major incident's "add yourself" shows for its own category only, once one is chosen.
  function setupKnownIssues(form) {
    var known = document.querySelectorAll("[data-known-category]");
    if (!known.length) { return; }
    function show() {
      var chosen = form.querySelector("input[name=category]:checked");
      Array.prototype.forEach.call(known, function (box) {
        box.hidden = !chosen || box.getAttribute("data-known-category") !== chosen.value;
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "category") {
        show();
        var shown = Array.prototype.filter.call(known, function (box) { return !box.hidden; })[0];
        if (shown) { shown.scrollIntoView({ block: "start" }); }
      }
    });
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form.file-form"), setupKnownIssues);
    Array.prototype.forEach.call(document.querySelectorAll("form.file-form"), setupOtherUnit);
  });
})();
