// Old URLs with a query, like WordPress's /?p=123, reach the home page or the 404 page: a static host
// ignores the query. This looks the URL up among the site's query aliases (query-aliases.json, written
// by the build) and goes on to the article. It only ever goes to a path of this site.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!location.search || !script || !window.fetch) return;
  var path = location.pathname.replace(/index\.html$/, "");
  fetch(script.getAttribute("data-map"), { credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : {}; })
    .then(function (targets) {
      var params = new URLSearchParams(location.search);
      params.forEach(function (value, name) {
        var target = targets[path + "?" + name + "=" + value];
        if (typeof target === "string" && target.charAt(0) === "/" && target.charAt(1) !== "/") {
          location.replace(target + location.hash);
        }
      });
    })
    .catch(function () {});
})();
