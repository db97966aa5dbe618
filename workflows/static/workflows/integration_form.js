/* Integration admin form: show only the auth fields of the chosen auth type (the server still validates the
   chosen type's fields and ignores the others). The map of fields per type comes from the select's
   data-auth-fields attribute, written by the form from workflows.integrations.services.AUTH_FIELDS. */
(function () {
  "use strict";

  function rowOf(name) {
    return document.querySelector(".form-row.field-auth_" + name) ||
      document.querySelector(".fieldBox.field-auth_" + name);
  }

  function showFieldsOf(select) {
    var fieldsByType = JSON.parse(select.getAttribute("data-auth-fields") || "{}");
    var wanted = fieldsByType[select.value] || [];
    Object.keys(fieldsByType).forEach(function (type) {
      fieldsByType[type].forEach(function (name) {
        var row = rowOf(name);
        if (row) { row.style.display = wanted.indexOf(name) === -1 ? "none" : ""; }
      });
    });
    var expiry = document.querySelector(".form-row.field-oauth_token_expires_at");
    if (expiry) { expiry.style.display = select.value === "oauth2_client_credentials" ? "" : "none"; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_auth_type");
    if (!select) { return; }
    select.addEventListener("change", function () { showFieldsOf(select); });
    showFieldsOf(select);
  });
}());
