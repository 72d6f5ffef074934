// The kiosk at a window (/K/<code>): idle until the clerk's system opens it after a service
// (POST /api/v1/halls/<hall>/kiosk), then one tap within 30 seconds. Asks the server every
// 1.5 seconds; a tap is sent once with an Idempotency-Key and retried while the opening lasts.
(function () {
  "use strict";
  var code = location.pathname.split("/").pop();
  var current = null;  // the opening's token
  var ticket = null, pow = null, until = 0, timer = null, busy = false;

  function $(id) { return document.getElementById(id); }
  function request(method, url, body, key, done) {
    var x = new XMLHttpRequest();
    x.open(method, url);
    x.setRequestHeader("Accept", "application/json");
    if (body) x.setRequestHeader("Content-Type", "application/json");
    if (key) x.setRequestHeader("Idempotency-Key", key);
    x.onload = function () {
      var json = {};
      try { json = JSON.parse(x.responseText); } catch (e) { json = {}; }
      done(x.status, json);
    };
    x.onerror = function () { done(0, {}); };
    x.send(body ? JSON.stringify(body) : null);
  }
  function idle(message) {
    $("ask").hidden = true;
    $("idle").hidden = false;
    $("message").textContent = message || "";
    ticket = null;
  }
  function tick() {
    var left = Math.max(0, Math.round((until - Date.now()) / 1000));
    $("left").textContent = left + " 秒";
    if (left <= 0 && ticket && !busy) idle("");
  }
  function ask(token) {
    request("GET", "/api/v1/visit/" + token, null, null, function (status, json) {
      if (status !== 200) return;
      ticket = json.ticket;
      pow = json.pow ? window.ratingsvcPow.solve(json.pow.challenge, json.pow.bits) : null;
      until = Date.now() + Math.min(30, json.expires_in) * 1000;
      $("idle").hidden = true;
      $("ask").hidden = false;
      $("message").textContent = "";
      tick();
    });
  }
  function poll() {
    request("GET", "/api/v1/kiosk/" + code, null, null, function (status, json) {
      if (status === 200) {
        $("unit").textContent = json.unit.name;
        $("window").textContent = json.window.name;
        if (json.open && json.token !== current) { current = json.token; ask(json.token); }
        if (!json.open && ticket && !busy) idle("");
      }
      setTimeout(poll, 1500);
    });
  }
  function tap(level, key, attempt) {
    busy = true;
    var body = {ticket: ticket, level: level};
    if (pow) body.pow = pow;
    request("POST", "/api/v1/ratings", body, key, function (status) {
      if ((status === 0 || status >= 500) && attempt < 3) {
        return setTimeout(function () { tap(level, key, attempt + 1); }, 1000);
      }
      busy = false;
      idle(status === 201 || status === 202 || status === 200 ? "感谢您的评价！" : "未能提交，请向工作人员反映。");
      setTimeout(function () { if (!ticket) $("message").textContent = ""; }, 4000);
    });
  }
  var buttons = document.querySelectorAll(".level");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (e) {
      if (!ticket || busy) return;
      var level = parseInt(e.currentTarget.getAttribute("data-level"), 10);
      tap(level, "kiosk-" + current.slice(-16) + "-" + Date.now(), 0);
    });
  }
  timer = setInterval(tick, 500);
  poll();
}());
