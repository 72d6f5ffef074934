// The plain citizen page: scan, show five levels, one tap posts the rating.
(function () {
  "use strict";
  var token = location.pathname.split("/").pop();
  var $ = function (id) { return document.getElementById(id); };
  var ticket = null, pow = null;

  function say(text) { $("message").textContent = text; }

  function request(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: body ? {"Content-Type": "application/json", "Idempotency-Key": body.key} : {},
      body: body ? JSON.stringify(body.data) : undefined
    }).then(function (r) {
      return r.json().then(function (j) { return {status: r.status, body: j}; });
    });
  }

  function tap(level) {
    $("levels").hidden = true;
    say("正在提交…");
    var key = Date.now().toString(36) + Math.random().toString(36).slice(2);
    var data = {ticket: ticket, level: level};
    if (pow) data.pow = window.ratingsvcPow.solve(pow.challenge, pow.bits);
    request("POST", "/api/v1/ratings", {key: key, data: data})
      .then(function (r) {
        if (r.status === 201 || r.status === 202) say("感谢您的评价！");
        else if (r.status === 200) say("您今天已经评价过这个窗口，感谢！");
        else say(r.body.error ? r.body.error.message : "提交失败，请稍后再试。");
      })
      .catch(function () { say("网络不畅，请稍后再试。"); });
  }

  request("GET", "/api/v1/scan/" + token).then(function (r) {
    if (r.status !== 200) { $("unit").textContent = "无法评价"; say(r.body.error.message); return; }
    ticket = r.body.ticket;
    pow = r.body.pow || null;
    $("unit").textContent = r.body.unit.name;
    $("window").textContent = r.body.window.name;
    r.body.levels.forEach(function (l) {
      var b = document.createElement("button");
      b.textContent = l.label;
      b.setAttribute("data-level", l.level);
      b.onclick = function () { tap(l.level); };
      $("levels").appendChild(b);
    });
  }).catch(function () { say("网络不畅，请稍后再试。"); });
})();
