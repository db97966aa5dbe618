/* "Try on history" results (docs/managers.md replay): poll GET /api/workflow-replays/{id}/ until the replay is done,
   move the progress bar, then say the figures and the examples in words. Built with DOM nodes and textContent only. */
(function () {
  "use strict";
  // Django's JavaScript catalogue (the workflow admin's jsi18n) when the page loads it; the English text otherwise.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };

  var OUTCOMES = [
    ["would_succeed", gettext("would run to the end"), "ok", gettext("This event would run to the end")],
    ["stopped_at_condition", gettext("would stop at a condition"), "stop", gettext("This event would stop at a condition")],
    ["would_fail", gettext("would fail at a step"), "fail", gettext("This event would fail at a step")],
    ["depth_limit", gettext("were too deep in a chain of workflows"), "warn",
     gettext("This event was too deep in a chain of workflows")],
    ["filtered_out", gettext("did not match the trigger"), "skip", gettext("This event did not match the trigger")]
  ];
  var STEP_STATUS = {
    would_run: gettext("would run"), skipped: gettext("would be skipped (the condition before it was false)"),
    stopped: gettext("does not hold, so the workflow would stop here"), not_reached: gettext("would not be reached"),
    failed: gettext("would fail")
  };
  var POLL_MS = 1000;
  var WORDS = {values: {}, operators: {}, time_zone: "UTC"};  // codes in words and the viewer's zone (the page's)

  function number(value) { return Number(value || 0).toLocaleString("en"); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function words(value) {
    if (value === null || value === undefined || value === "") { return "—"; }
    if (value === true) { return gettext("yes"); }
    if (value === false) { return gettext("no"); }
    if (Array.isArray(value)) { return value.map(words).join(", "); }
    if (typeof value === "object") {
      return Object.keys(value).map(function (key) { return keyWords(key) + ": " + words(value[key]); })
        .join("; ");
    }
    return WORDS.values[String(value)] || String(value);
  }

  function keyWords(key) {
    // `contact.attributes.vip` -> "contact attribute vip", `sender_types` -> "sender types" (as the server says it)
    return String(key).replace(/attributes\./g, "attribute ").replace(/[._]/g, " ");
  }

  function capitalized(text) { return text.charAt(0).toUpperCase() + text.slice(1); }

  function when(iso) {
    // The one admin time format: "2026-12-07 07:30 CET", in the viewer's zone.
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {timeZone: WORDS.time_zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"})
      .formatToParts(new Date(iso)).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute + " " +
      parts.timeZoneName;
  }

  function checkWords(check) {
    var op = WORDS.operators[check.op] || check.op.replace(/_/g, " ");
    return capitalized(keyWords(check.field)) + " " + op + " " + words(check.value) + "? It was " +
      words(check.actual) + (check.result ? " ✓" : " ✗");
  }

  function stepDetails(step, label) {
    var output = step.output || {};
    var parts = [];
    if (Array.isArray(output.checks)) { parts.push(output.checks.map(checkWords).join("; ")); }
    Object.keys(output).forEach(function (key) {
      if (key === "checks" || key === "result" || (key === "would" && output[key] === label)) { return; }
      var bare = key === "would" || key === "input";
      parts.push((bare ? "" : keyWords(key) + ": ") + words(output[key]));
    });
    if (step.error) { parts.push(step.error); }
    return parts.join(" · ");
  }

  function eventWords(event) {
    var payload = event.payload || {};
    var facts = Object.keys(payload).filter(function (key) {
      return !/_id$/.test(key) && payload[key] !== null && typeof payload[key] !== "object";
    }).map(function (key) { return keyWords(key) + " " + words(payload[key]); });
    return facts.join(", ");
  }

  function outcomeLabel(outcome) {
    var found = OUTCOMES.filter(function (item) { return item[0] === outcome; })[0];
    return found ? found : [outcome, outcome.replace(/_/g, " "), "skip", outcome.replace(/_/g, " ")];
  }

  function renderSummary(root, data) {
    var trigger = root.dataset.trigger;
    var total = data.progress.done;
    document.getElementById("replay-summary").textContent = total === 0
      ? interpolate(gettext("No %(trigger)s event was recorded in this period, so there is nothing to try."),
                    {trigger: trigger}, true)
      : interpolate(ngettext("Of %(total)s recorded %(trigger)s event, %(matched)s matched the trigger and " +
                             "%(started)s would have started the workflow.",
                             "Of %(total)s recorded %(trigger)s events, %(matched)s matched the trigger and " +
                             "%(started)s would have started the workflow.", total),
                    {total: number(total), trigger: trigger, matched: number(data.matched),
                     started: number(data.would_start)}, true);
    var box = document.getElementById("replay-outcomes");
    box.replaceChildren();
    OUTCOMES.forEach(function (item) {
      var stat = el("div", "wf-stat wf-outcome-" + item[2]);
      stat.appendChild(el("b", "", number((data.by_outcome || {})[item[0]])));
      stat.appendChild(el("span", "", item[1]));
      box.appendChild(stat);
    });
  }

  function renderSteps(data, labels) {
    var body = document.querySelector("#replay-steps tbody");
    body.replaceChildren();
    Object.keys(data.steps || {}).forEach(function (type) {
      var counts = data.steps[type];
      var row = el("tr");
      row.appendChild(el("td", "", labels[type] || type));
      [counts.would_run, counts.would_skip, counts.would_fail].forEach(function (count) {
        row.appendChild(el("td", "", number(count)));
      });
      body.appendChild(row);
    });
  }

  function renderSample(root, sample, labels) {
    var outcome = outcomeLabel(sample.outcome);
    var card = el("div", "wf-replay-sample");
    var head = el("div", "wf-step-head");
    head.appendChild(el("strong", "", when(sample.event.occurred_at)));
    if (sample.conversation) {
      var link = el("a", "", interpolate(gettext("conversation #%(number)s"), {number: sample.conversation}, true));
      link.href = root.dataset.conversationUrl.replace("/0/", "/" + sample.conversation + "/");
      head.appendChild(link);
    }
    head.appendChild(el("span", "wf-pill wf-outcome-" + outcome[2], outcome[3]));
    card.appendChild(head);
    if (sample.message) { card.appendChild(el("blockquote", "wf-replay-message", sample.message)); }
    var facts = eventWords(sample.event);
    if (facts) { card.appendChild(el("p", "wf-muted", interpolate(gettext("Event: %(facts)s"), {facts: facts}, true))); }
    if (sample.reason) { card.appendChild(el("p", "wf-muted", interpolate(gettext("Why: %(reason)s"), {reason: sample.reason}, true))); }
    if (sample.steps && sample.steps.length) {
      var list = el("ol", "wf-replay-steps");
      sample.steps.forEach(function (step) {
        var label = labels[step.type] || step.type;
        var item = el("li", "st-" + step.status);
        item.appendChild(el("strong", "", label));
        var status = step.type === "condition" && step.status === "would_run" ? gettext("holds")
          : (STEP_STATUS[step.status] || step.status);
        item.appendChild(document.createTextNode(" " + status));
        var details = stepDetails(step, label);
        if (details && step.status !== "not_reached" && step.status !== "skipped") {
          item.appendChild(el("div", "wf-muted", details));
        }
        list.appendChild(item);
      });
      card.appendChild(list);
    }
    return card;
  }

  function renderSamples(root, data, labels) {
    var box = document.getElementById("replay-samples");
    box.replaceChildren();
    if (!data.samples.length) { box.appendChild(el("p", "wf-muted", gettext("No example: no event in this period."))); }
    data.samples.forEach(function (sample) { box.appendChild(renderSample(root, sample, labels)); });
  }

  function renderProgress(data) {
    var done = data.progress.done, total = data.progress.total;
    var percent = data.status === "done" ? 100 : (total ? Math.min(100, Math.round(100 * done / total)) : 0);
    var bar = document.getElementById("replay-progress");
    bar.setAttribute("aria-valuenow", String(percent));
    bar.classList.toggle("wf-progress-failed", data.status === "failed");
    bar.firstElementChild.style.width = percent + "%";
    var status = document.getElementById("replay-status");
    if (data.status === "running") {
      status.textContent = interpolate(gettext("Reading the history: %(done)s of %(total)s events (%(percent)s)…"),
                                       {done: number(done), total: number(total), percent: percent + "%"}, true);
    } else if (data.status === "done") {
      status.textContent = interpolate(ngettext("Done: %(done)s event read.", "Done: %(done)s events read.", done),
                                       {done: number(done)}, true);
    } else {
      status.textContent = interpolate(gettext("The replay failed after %(done)s events: %(error)s"),
                                       {done: number(done), error: data.error || gettext("unknown error")}, true);
    }
  }

  function start() {
    var root = document.getElementById("replay");
    if (!root) { return; }
    var labels = JSON.parse(document.getElementById("replay-step-labels").textContent);
    var pageWords = document.getElementById("replay-words");
    if (pageWords) { WORDS = JSON.parse(pageWords.textContent); }
    function poll() {
      fetch(root.dataset.url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          renderProgress(data);
          if (data.status === "running") { window.setTimeout(poll, POLL_MS); return; }
          if (data.status === "done") {
            renderSummary(root, data);
            renderSteps(data, labels);
            renderSamples(root, data, labels);
            document.getElementById("replay-results").hidden = false;
          }
        })
        .catch(function (error) {
          document.getElementById("replay-status").textContent = interpolate(
            gettext("Could not read the progress (%(error)s); trying again…"), {error: error.message}, true);
          window.setTimeout(poll, POLL_MS * 3);
        });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", start);
}());
