// The API reference: Swagger UI (npm swagger-ui-dist, pinned in package.json) showing the
// generated OpenAPI document. Both files sit beside this one (census_ops/site.py mounts them
// locally; `census site` copies them for the bucket). A file of its own, not an inline script,
// so the site's CSP (script-src 'self') holds here too.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.SwaggerUIBundle({
    url: "openapi.json",
    domNode: document.getElementById("reference"),
    deepLinking: true,
    validatorUrl: null, // never send the document to swagger.io's validator
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
    tryItOutEnabled: false, // "Try it out" stays a deliberate click: requests go to this origin's API
  });
});
