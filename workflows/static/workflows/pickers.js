/* Reference pickers of the workflow editor (teams, agents, integrations, custom actions, SLA policies): the server
   renders a <select> of names. Choosing "Other…" swaps in a text box of the same name (for an id, a name not listed
   or a {{ template }}); only the enabled one of the two is posted. An "Add…" select next to a list box appends the
   chosen name as a new line. Delegated on the document, so steps added later work too. */
(function () {
  "use strict";
  var OTHER = "__other__";

  function useTextBox(select) {
    var box = select.parentNode.querySelector("[data-picker-other]");
    if (!box) { return; }
    select.disabled = true;
    select.hidden = true;
    box.disabled = false;
    box.hidden = false;
    box.focus();
  }

  function appendLine(adder) {
    var box = adder.previousElementSibling;
    while (box && box.tagName !== "TEXTAREA") { box = box.previousElementSibling; }
    if (!box || !adder.value) { return; }
    var lines = box.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean);
    if (lines.indexOf(adder.value) === -1) { lines.push(adder.value); }
    box.value = lines.join("\n");
    adder.value = "";
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-picker]") && target.value === OTHER) { useTextBox(target); }
    if (target.matches("select[data-picker-add]")) { appendLine(target); }
  });
}());
