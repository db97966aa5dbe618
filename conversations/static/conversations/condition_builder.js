/* The condition builder over a JSON textarea (used by SLA policy "match"; any form widget can use it). The textarea
   holds the tree ({"all"/"any": [...]} of {"field", "op", "value"} leaves) and is what the form saves; the builder
   renders from it and writes it back on every change. The container's data-spec lists the fields (with choices,
   shown as a select or as tick boxes for "is one of") and the operators (kind scalar, list or none). */
(function () {
  "use strict";
  // Words come from Django's JavaScript catalog (the `jsi18n/` view loaded before this file); English without it.
  var gettext = window.gettext || function (text) { return text; };

  function make(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function select(options, chosen, label, className) {
    var node = make("select", {"aria-label": label, "class": className});
    options.forEach(function (option) {
      var item = make("option", {value: option[0], text: option[1]});
      item.selected = String(option[0]) === String(chosen);
      node.appendChild(item);
    });
    return node;
  }

  function removeButton(label) {
    return make("button", {type: "button", "class": "hd-remove", "data-cond-remove": "", title: label,
                           "aria-label": label, text: "✕"});
  }

  function Builder(container) {
    this.container = container;
    this.spec = JSON.parse(container.dataset.spec);
    this.area = container.querySelector("textarea");
    this.root = container.querySelector(".hd-cond-root");
    this.fields = {};
    this.ops = {};
    this.spec.fields.forEach(function (field) { this.fields[field.value] = field; }, this);
    this.spec.operators.forEach(function (op) { this.ops[op.value] = op; }, this);
    container.addEventListener("change", this.onChange.bind(this));
    container.addEventListener("click", this.onClick.bind(this));
    container.addEventListener("hd-json-toggle", function (event) { if (!event.detail.on) { this.render(); } }.bind(this));
    this.render();
  }

  Builder.prototype.read = function () {
    try {
      var tree = JSON.parse(this.area.value.trim() || "{}");
      return tree && typeof tree === "object" && !Array.isArray(tree) ? tree : null;
    } catch (error) {
      return null;
    }
  };

  Builder.prototype.render = function () {
    var tree = this.read();
    this.root.textContent = "";
    if (tree === null) {
      this.root.appendChild(make("p", {"class": "errornote", text: gettext("This is not a condition: tick JSON to fix it.")}));
      return;
    }
    this.root.appendChild(this.group(tree, true));
  };

  Builder.prototype.group = function (tree, top) {
    var mode = "any" in tree ? "any" : "all";
    var children = Array.isArray(tree[mode]) ? tree[mode] : ("field" in tree ? [tree] : []);
    var items = make("div", {"class": "hd-cond-items"});
    children.forEach(function (child) {
      items.appendChild("all" in child || "any" in child ? this.group(child, false) : this.leaf(child));
    }, this);
    var head = make("div", {"class": "hd-cond-head"}, [
      document.createTextNode(gettext("Match") + " "),
      select([["all", gettext("all")], ["any", gettext("any")]], mode, gettext("Match all or any"), "hd-cond-mode"),
      document.createTextNode(" " + gettext("of these conditions"))]);
    if (!top) { head.appendChild(removeButton(gettext("Remove group"))); }
    var tools = make("div", {"class": "hd-cond-tools"}, [
      make("button", {type: "button", "class": "button", "data-cond-add": "leaf", text: gettext("+ Condition")}),
      make("button", {type: "button", "class": "button", "data-cond-add": "group", text: gettext("+ Group")})]);
    var empty = make("p", {"class": "help hd-cond-empty", text: gettext("No conditions: every conversation matches.")});
    return make("div", {"class": "hd-cond-group", "data-cond-group": ""}, top ? [head, empty, items, tools]
                                                                             : [head, items, tools]);
  };

  Builder.prototype.leaf = function (leaf) {
    var fieldOptions = this.spec.fields.map(function (field) { return [field.value, field.label]; });
    var opOptions = this.spec.operators.map(function (op) { return [op.value, op.label]; });
    var field = leaf.field || fieldOptions[0][0];
    var node = make("div", {"class": "hd-cond-leaf", "data-cond-leaf": ""}, [
      select(fieldOptions, field, gettext("Field"), "hd-cond-field"),
      select(opOptions, leaf.op || "eq", gettext("Operator"), "hd-cond-op"),
      make("span", {"class": "hd-cond-value"}),
      removeButton(gettext("Remove condition"))]);
    this.fillValue(node, leaf.value);
    return node;
  };

  Builder.prototype.fillValue = function (node, value) {
    var field = this.fields[node.querySelector(".hd-cond-field").value] || {};
    var kind = (this.ops[node.querySelector(".hd-cond-op").value] || {}).kind || "scalar";
    var holder = node.querySelector(".hd-cond-value");
    var values = (Array.isArray(value) ? value : (value === undefined || value === "" ? [] : [value])).map(String);
    holder.textContent = "";
    if (kind === "none") { return; }
    if (field.choices && kind === "list") {
      field.choices.forEach(function (choice) {
        var box = make("input", {type: "checkbox", value: choice[0]});
        box.checked = values.indexOf(String(choice[0])) >= 0;
        holder.appendChild(make("label", {"class": "hd-check"}, [box, document.createTextNode(" " + choice[1])]));
      });
    } else if (field.choices && kind === "scalar") {
      holder.appendChild(select([["", "—"]].concat(field.choices), values[0] || "", gettext("Value"), "hd-cond-input"));
    } else {
      holder.appendChild(make("input", {type: "text", "class": "hd-cond-input", "aria-label": gettext("Value"),
                                        placeholder: kind === "list" ? "a, b, c" : gettext("value"), value: values.join(", ")}));
    }
  };

  function typed(text) {
    return /^\d+$/.test(text) ? Number(text) : text;
  }

  Builder.prototype.leafData = function (node) {
    var leaf = {field: node.querySelector(".hd-cond-field").value, op: node.querySelector(".hd-cond-op").value};
    var kind = (this.ops[leaf.op] || {}).kind || "scalar";
    var holder = node.querySelector(".hd-cond-value");
    var boxes = holder.querySelectorAll("input[type=checkbox]");
    var input = holder.querySelector(".hd-cond-input");
    if (kind === "list") {
      leaf.value = boxes.length ? Array.prototype.filter.call(boxes, function (box) { return box.checked; })
        .map(function (box) { return box.value; })
        : input.value.split(",").map(function (part) { return part.trim(); }).filter(Boolean).map(typed);
    } else if (kind !== "none") {
      leaf.value = input.tagName === "SELECT" ? input.value : typed(input.value.trim());
    }
    return leaf;
  };

  Builder.prototype.groupData = function (node) {
    var mode = node.querySelector(".hd-cond-mode").value;
    var children = Array.prototype.map.call(node.querySelector(".hd-cond-items").children, function (child) {
      return child.hasAttribute("data-cond-group") ? this.groupData(child) : this.leafData(child);
    }, this);
    var data = {};
    data[mode] = children;
    return data;
  };

  Builder.prototype.save = function () {
    var top = this.root.querySelector("[data-cond-group]");
    var tree = this.groupData(top);
    var empty = (tree.all || tree.any).length === 0;
    top.querySelector(".hd-cond-empty").hidden = !empty;
    this.area.value = empty ? "{}" : JSON.stringify(tree, null, 2);
  };

  Builder.prototype.onChange = function (event) {
    if (!this.root.contains(event.target)) { return; }
    var leaf = event.target.closest("[data-cond-leaf]");
    if (leaf && (event.target.matches(".hd-cond-field") || event.target.matches(".hd-cond-op"))) {
      var previous = this.leafData(leaf).value;
      this.fillValue(leaf, event.target.matches(".hd-cond-op") ? previous : undefined);
    }
    this.save();
  };

  Builder.prototype.onClick = function (event) {
    var button = event.target.closest("button");
    if (!button || !this.root.contains(button)) { return; }
    if (button.hasAttribute("data-cond-add")) {
      var items = button.closest("[data-cond-group]").querySelector(".hd-cond-items");
      items.appendChild(button.dataset.condAdd === "group" ? this.group({all: [{}]}, false) : this.leaf({}));
    } else if (button.hasAttribute("data-cond-remove")) {
      button.closest("[data-cond-leaf], [data-cond-group]").remove();
    } else {
      return;
    }
    this.save();
  };

  function init() {
    document.querySelectorAll('[data-builder="condition"]').forEach(function (container) { new Builder(container); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
