// The console's few behaviours: the CSRF token on every htmx request, confirmations before
// forms that say data-confirm, and charts drawn from JSON the page carries (ECharts, where the
// page loads it). Pages work without this file: forms post, tables are there.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (e) {
    if (token) { e.detail.headers["X-CSRFToken"] = token.content; }
  });
  document.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); }
  }, true);
  function charts() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var source = document.getElementById(el.getAttribute("data-chart"));
      if (!source) { return; }
      el.dataset.drawn = "1";
      window.echarts.init(el).setOption(JSON.parse(source.textContent));
    });
  }
  document.addEventListener("DOMContentLoaded", charts);
  document.addEventListener("htmx:afterSettle", charts);
})();
