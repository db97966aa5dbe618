/* Drag-to-reorder of the workflow list. Rows are dragged by their handle (the "Order" column); on drop the ids of
   the rows shown, top first, are POSTed to the admin's reorder view, which saves them through
   `services.workflow_reorder` (the visible workflows share out the order values they held). The numbers in the
   column are then updated from the answer, and a status line says whether the order was saved. */
(function () {
  "use strict";
  // Django's JavaScript catalogue (the workflow admin's jsi18n) when the page loads it; the English text otherwise.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };

  function say(status, text, failed) {
    status.textContent = text;
    status.classList.toggle("wf-reorder-failed", Boolean(failed));
  }

  function save(config, body, status) {
    var handles = Array.prototype.slice.call(body.querySelectorAll(".wf-drag"));
    var form = new FormData();
    handles.forEach(function (handle) { form.append("workflow", handle.dataset.workflow); });
    var token = document.querySelector("[name=csrfmiddlewaretoken]");
    say(status, gettext("Saving the order…"));
    fetch(config.dataset.url, {method: "POST", body: form, credentials: "same-origin",
                               headers: {"X-CSRFToken": token ? token.value : ""}})
      .then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      })
      .then(function (result) {
        if (!result.ok) { throw new Error((result.data.workflow || [gettext("The order was not saved.")])[0]); }
        handles.forEach(function (handle) {
          var number = handle.parentNode.querySelector(".wf-order");
          if (number) { number.textContent = result.data.order[handle.dataset.workflow]; }
        });
        say(status, gettext("Order saved."));
      })
      .catch(function (error) { say(status, interpolate(gettext("The order was not saved: %(error)s"), {error: error.message}, true), true); });
  }

  function init() {
    var config = document.getElementById("wf-reorder");
    var body = document.querySelector("#result_list tbody");
    if (!config || !body) { return; }
    var status = document.getElementById("wf-reorder-status");
    var dragged = null;
    body.addEventListener("dragstart", function (event) {
      var handle = event.target.closest ? event.target.closest(".wf-drag") : null;
      if (!handle) { return; }
      dragged = handle.closest("tr");
      dragged.classList.add("wf-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", handle.dataset.workflow);
    });
    body.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      var row = event.target.closest ? event.target.closest("tr") : null;
      if (!row || row === dragged || row.parentNode !== body) { return; }
      var box = row.getBoundingClientRect();
      body.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? row.nextSibling : row);
    });
    body.addEventListener("drop", function (event) { if (dragged) { event.preventDefault(); } });
    body.addEventListener("dragend", function () {
      if (!dragged) { return; }
      dragged.classList.remove("wf-dragging");
      dragged = null;
      save(config, body, status);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
