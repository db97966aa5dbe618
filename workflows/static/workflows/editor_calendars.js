/* Condition rows of the workflow editor: when the operator asks about business hours (within / outside), the value
   box offers the business-hours calendars by name (an empty value means the default calendar). Kept apart from
   editor.js; it only listens to operator changes. */
(function () {
  "use strict";
  // Django's JavaScript catalogue (the workflow admin's jsi18n) when the page loads it; the English text otherwise.
  var gettext = window.gettext || function (text) { return text; };
  var CALENDAR_OPS = ["within_business_hours", "outside_business_hours"];

  function sync(select) {
    var leaf = select.closest(".wf-leaf");
    var value = leaf && leaf.querySelector(".wf-cond-value");
    if (!value) { return; }
    if (CALENDAR_OPS.indexOf(select.value) !== -1) {
      value.setAttribute("list", "wf-calendars");
      value.placeholder = gettext("Calendar name (empty: the default calendar)");
    } else if (value.getAttribute("list") === "wf-calendars") {
      value.removeAttribute("list");
      value.placeholder = gettext("value (a, b for lists)");
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(".wf-cond-op")) { sync(event.target); }
  });

  function init() { document.querySelectorAll(".wf-cond-op").forEach(sync); }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
