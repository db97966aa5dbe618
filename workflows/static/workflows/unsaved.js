/*
 * Unsaved-changes guard of the workflow editor: leaving the page (a link, back, closing the tab) after changing
 * anything asks first. "Changed" means the form's submitted values differ from the ones it was shown with, so a
 * change undone by hand, or a step added and removed again, does not count. Saving (any submit) leaves freely.
 * A page shown again with errors holds changes that are not saved yet, so it guards from the start.
 */
(function () {
  "use strict";

  function snapshot(form) {
    var pairs = [];
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrfmiddlewaretoken" && typeof value === "string") { pairs.push(key + "=" + value); }
    });
    return pairs.join("&");
  }

  function init() {
    var editor = document.getElementById("wf-editor");
    var form = editor && editor.closest("form");
    if (!form) { return; }
    var shown = document.querySelector(".errornote") ? null : snapshot(form);
    var submitting = false;
    form.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("beforeunload", function (event) {
      if (submitting || snapshot(form) === shown) { return; }
      event.preventDefault();
      event.returnValue = "";  // older Chromium shows the prompt only when returnValue is set
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
