// The report filter bar: typing a date picks "Custom dates"; picking a set period clears the
// dates, so the form always says what the report will cover. Works without it, too.
(function () {
  "use strict";
  var form = document.getElementById("report-filters");
  if (!form) return;
  var period = form.querySelector("select[name=period]");
  var dates = form.querySelectorAll("input[type=date]");
  if (!period) return;
  dates.forEach(function (input) {
    input.addEventListener("change", function () {
      if (input.value) period.value = "custom";
    });
  });
  period.addEventListener("change", function () {
    if (period.value !== "custom") {
      dates.forEach(function (input) { input.value = ""; });
    } else if (dates.length) {
      dates[0].focus();
    }
  });
})();
