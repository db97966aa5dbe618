/*
 * Workflow editor behaviour (no dependencies, no CDN).
 *
 * The server renders every input with its name = its path in the workflow definition
 * (e.g. "steps[2].config.all[0].value"). Elements carry that path in pieces:
 *   data-seg="steps" / ".config"  a literal segment,
 *   data-item                     "[index]" among its data-item siblings,
 *   data-group                    ".all" or ".any" from its mode select,
 *   data-leaf=".field"            the input's own last segment.
 * After any move, add or removal, renumber() recomputes every name from the DOM, so the server always receives
 * consecutive indexes and its error keys match the inputs.
 */
(function () {
  "use strict";
  // Django's JavaScript catalogue (the workflow admin's jsi18n) when the page loads it; the English text otherwise.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };

  function init() {
    var root = document.getElementById("wf-editor");
    if (!root) { return; }
    var noValueOps = (root.dataset.noValueOps || "").split(" ");
    var lastFocused = null;
    var dragged = null;

    function itemIndex(el) {
      var index = 0;
      var siblings = el.parentElement.children;
      for (var i = 0; i < siblings.length; i++) {
        if (siblings[i] === el) { return index; }
        if (siblings[i].hasAttribute("data-item")) { index++; }
      }
      return index;
    }

    function nameOf(input) {
      var parts = [input.dataset.leaf];
      for (var el = input.parentElement; el && el !== root; el = el.parentElement) {
        if (el.hasAttribute("data-group")) {
          var mode = el.querySelector(":scope > .wf-group-head > .wf-mode");
          parts.unshift("." + (mode ? mode.value : "all"));
        }
        if (el.hasAttribute("data-item")) { parts.unshift("[" + itemIndex(el) + "]"); }
        if (el.dataset.seg !== undefined) { parts.unshift(el.dataset.seg); }
      }
      return parts.join("");
    }

    function renumber() {
      root.querySelectorAll("[data-leaf]").forEach(function (input) { input.name = nameOf(input); });
      var cards = root.querySelectorAll(".wf-steps-module > .wf-steps > .wf-step");
      cards.forEach(function (card, i) { card.querySelector(".wf-step-no").textContent = i + 1; });
      var empty = root.querySelector(".wf-empty");
      if (empty) { empty.hidden = cards.length > 0; }
    }

    function cloneTemplate(template) {
      return template.content.firstElementChild.cloneNode(true);
    }

    function showTrigger(type) {
      root.querySelectorAll(".wf-trigger-panel").forEach(function (panel) {
        var active = panel.dataset.trigger === type;
        panel.hidden = !active;
        panel.disabled = !active;
      });
    }

    function syncOperator(select) {
      var value = select.closest(".wf-leaf").querySelector(".wf-cond-value");
      if (value) { value.hidden = noValueOps.indexOf(select.value) !== -1; }
    }

    // The main "Add a step" select adds to the top-level list; a branch path's own select adds to that path.
    function addStep(select) {
      select = select || root.querySelector(".wf-steps-module > .wf-add-step .wf-add-type");
      var type = select.value;
      var template = root.querySelector('template[data-step-template="' + type + '"]');
      if (!template) { return; }
      var card = cloneTemplate(template);
      var nested = select.closest(".wf-add-nested");
      (nested ? nested.previousElementSibling : root.querySelector(".wf-steps-module > .wf-steps")).appendChild(card);
      renumber();
      card.scrollIntoView({block: "nearest"});
      var first = card.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    }

    function moveStep(card, direction) {
      var sibling = direction < 0 ? card.previousElementSibling : card.nextElementSibling;
      if (!sibling) { return; }
      card.parentElement.insertBefore(card, direction < 0 ? sibling : sibling.nextElementSibling);
      renumber();
    }

    function addConditionRow(button, templateClass) {
      var group = button.closest(".wf-group");
      var row = cloneTemplate(root.querySelector("template." + templateClass));
      group.querySelector(":scope > .wf-group-items").appendChild(row);
      renumber();
      var field = row.querySelector(".wf-cond-field");
      if (field) { field.focus(); }
    }

    function addRow(button) {
      var rows = button.closest(".wf-rows");
      var row = cloneTemplate(rows.querySelector(":scope > template.wf-row-template"));
      rows.querySelector(".wf-rows-body").appendChild(row);
      renumber();
    }

    function insertPlaceholder(path) {
      var status = root.querySelector(".wf-ph-status");
      var target = lastFocused;
      if (!target || !document.body.contains(target)) {
        status.textContent = gettext("Click a field first, then a name.");
        return;
      }
      if (target.classList.contains("wf-cond-field")) {
        target.value = path;
      } else {
        var text = "{{ " + path + " }}";
        var start = target.selectionStart != null ? target.selectionStart : target.value.length;
        var end = target.selectionEnd != null ? target.selectionEnd : target.value.length;
        target.value = target.value.slice(0, start) + text + target.value.slice(end);
        target.selectionStart = target.selectionEnd = start + text.length;
      }
      target.focus();
      status.textContent = interpolate(gettext("Inserted %(path)s."), {path: path}, true);
    }

    root.addEventListener("focusin", function (event) {
      var el = event.target;
      var typing = (el.tagName === "INPUT" && (el.type === "text" || el.type === "url" || el.type === "email")) ||
        el.tagName === "TEXTAREA";
      if (typing && el.closest(".wf-main")) { lastFocused = el; }
    });

    root.addEventListener("change", function (event) {
      var el = event.target;
      if (el.classList.contains("wf-trigger-type")) { showTrigger(el.value); }
      if (el.classList.contains("wf-mode")) { renumber(); }
      if (el.classList.contains("wf-cond-op")) { syncOperator(el); }
      // Choosing a step type adds it at once (one action, not two); the button stays for keyboards.
      if (el.classList.contains("wf-add-type") && el.value) { addStep(el); el.value = ""; }
    });

    root.addEventListener("click", function (event) {
      var el = event.target.closest("button");
      if (!el || !root.contains(el)) { return; }
      if (el.classList.contains("wf-ph")) { insertPlaceholder(el.dataset.path); return; }
      if (el.classList.contains("wf-add-step-btn")) { addStep(); return; }
      if (el.classList.contains("wf-save-activate")) { root.querySelector("#wf-status").value = "active"; return; }
      if (el.classList.contains("wf-up")) { moveStep(el.closest(".wf-step"), -1); return; }
      if (el.classList.contains("wf-down")) { moveStep(el.closest(".wf-step"), 1); return; }
      if (el.classList.contains("wf-remove")) { el.closest(".wf-step").remove(); renumber(); return; }
      if (el.classList.contains("wf-add-leaf")) { addConditionRow(el, "wf-leaf-template"); return; }
      if (el.classList.contains("wf-add-group")) { addConditionRow(el, "wf-group-template"); return; }
      if (el.classList.contains("wf-add-row")) { addRow(el); return; }
      if (el.classList.contains("wf-add-branch")) {
        el.previousElementSibling.appendChild(cloneTemplate(root.querySelector("template.wf-branch-template")));
        renumber();
        return;
      }
      if (el.classList.contains("wf-remove-row")) { el.closest("[data-item]").remove(); renumber(); }
    });

    // Drag and drop by the handle; the up/down buttons do the same without a mouse.
    root.addEventListener("mousedown", function (event) {
      var handle = event.target.closest(".wf-handle");
      if (handle) { handle.closest(".wf-step").draggable = true; }
    });
    root.addEventListener("dragstart", function (event) {
      dragged = event.target.closest && event.target.closest(".wf-step");
      if (!dragged) { return; }
      dragged.classList.add("wf-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", "step");
    });
    root.addEventListener("dragover", function (event) {
      var over = dragged && event.target.closest(".wf-steps > .wf-step");
      if (!over || over === dragged) { return; }
      event.preventDefault();
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      over.parentElement.insertBefore(dragged, after ? over.nextElementSibling : over);
    });
    root.addEventListener("drop", function (event) { if (dragged) { event.preventDefault(); } });
    root.addEventListener("dragend", function () {
      if (!dragged) { return; }
      dragged.classList.remove("wf-dragging");
      dragged.draggable = false;
      dragged = null;
      renumber();
    });

    root.querySelectorAll(".wf-cond-op").forEach(syncOperator);
    var typeSelect = root.querySelector(".wf-trigger-type");
    if (typeSelect) { showTrigger(typeSelect.value); }
    renumber();
    var firstError = root.querySelector(".wf-has-error");
    if (firstError && document.querySelector(".errornote")) { firstError.scrollIntoView({block: "center"}); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
