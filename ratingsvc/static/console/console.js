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
  // A long request (closing a period) shows how far it has come: the element with
  // data-progress names a URL answering {units_done, units, taps}, read each second meanwhile.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var box = document.querySelector("[data-progress]");
    if (!box || !e.detail.elt.closest("form")) { return; }
    var timer = window.setInterval(function () {
      window.fetch(box.getAttribute("data-progress"), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (p) {
          if (p.units) {
            box.textContent = "已处理 " + p.units_done + " / " + p.units + " 个单位，已写出 " + p.taps + " 条评价。";
          }
        })
        .catch(function () {});
    }, 1000);
    document.addEventListener("htmx:afterRequest", function stop() {
      window.clearInterval(timer);
      document.removeEventListener("htmx:afterRequest", stop);
    });
  });
  document.addEventListener("DOMContentLoaded", charts);
  document.addEventListener("htmx:afterSettle", charts);
})();
