/* Friendly editors over JSON fields (admin): the week grid of business hours, lists of rows (closed dates), and the
   "JSON" toggle every builder has. Works by event delegation, so rows added later need no setup. The server reads
   the builder's inputs unless JSON is ticked, then it reads the textarea (see sla/widgets.py). */
(function () {
  "use strict";

  var serializers = {
    week: function (builder) {
      var intervals = [];
      builder.querySelectorAll("tr[data-day]").forEach(function (row) {
        if (!row.querySelector("[data-day-open]").checked) { return; }
        row.querySelectorAll("[data-interval]").forEach(function (interval) {
          var times = interval.querySelectorAll("input[data-time]");
          intervals.push({weekday: Number(row.dataset.day), start: times[0].value, end: times[1].value});
        });
      });
      return intervals;
    },
    dates: function (builder) {
      return Array.prototype.map.call(builder.querySelectorAll("[data-rows] input"), function (input) {
        return input.value;
      }).filter(Boolean);
    }
  };

  function toggleJson(builder, on) {
    builder.querySelectorAll("[data-builder-view]").forEach(function (view) { view.hidden = on; });
    var view = builder.querySelector("[data-json-view]");
    var area = view.querySelector("textarea");
    view.hidden = !on;
    var serialize = serializers[builder.dataset.builder];
    if (serialize) {
      area.disabled = !on;  // the grid's own inputs are what is saved while JSON is not ticked
      if (on) { area.value = JSON.stringify(serialize(builder), null, 2); }
    }
    builder.dispatchEvent(new CustomEvent("hd-json-toggle", {detail: {on: on}}));
  }

  function cloneInto(template, target) {
    var copy = template.content.firstElementChild.cloneNode(true);
    target.appendChild(copy);
    var first = copy.querySelector("input");
    if (first) { first.focus(); }
    return copy;
  }

  function syncDay(row) {
    var open = row.querySelector("[data-day-open]").checked;
    row.classList.toggle("hd-open", open);
    row.classList.toggle("hd-closed-day", !open);
    if (open && !row.querySelector("[data-interval]")) {
      cloneInto(row.querySelector("[data-interval-template]"), row.querySelector("[data-intervals]"));
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !button.closest("[data-builder]")) { return; }
    if (button.matches("[data-add-interval]")) {
      var row = button.closest("tr[data-day]");
      cloneInto(row.querySelector("[data-interval-template]"), row.querySelector("[data-intervals]"));
      row.querySelector("[data-day-open]").checked = true;
      syncDay(row);
    } else if (button.matches("[data-add-row]")) {
      var list = button.parentElement;
      cloneInto(list.querySelector("[data-row-template]"), list.querySelector("[data-rows]"));
    } else if (button.matches("[data-remove]")) {
      var item = button.closest("[data-interval], [data-row]");
      var day = button.closest("tr[data-day]");
      item.remove();
      if (day && !day.querySelector("[data-interval]")) {
        day.querySelector("[data-day-open]").checked = false;
        syncDay(day);
      }
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-json-toggle]")) {
      toggleJson(target.closest("[data-builder]"), target.checked);
    } else if (target.matches("[data-day-open]")) {
      syncDay(target.closest("tr[data-day]"));
    }
  });
})();
