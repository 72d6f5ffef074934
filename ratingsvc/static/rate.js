// The citizen page: scan, one tap, an optional reason. Plain ES5 and XMLHttpRequest, for old
// Android WebViews. A tap is never lost: it waits in localStorage with its Idempotency-Key
// and is sent again, with backoff and on the next visit, until the server answers.
(function () {
  "use strict";
  var QUEUE = "ratingsvc.queue", LARGE = "ratingsvc.large";
  var EN = /^en\b/i.test(navigator.language || "");
  var WORDS = {
    title: ["窗口服务评价", "Rate this service window"],
    ask: ["请您对本窗口的服务进行评价", "How was the service at this window?"],
    why: ["遇到了什么问题？（可不填）", "What went wrong? (optional)"],
    comment: ["补充说明", "Comment"], send: ["提交", "Send"], skip: ["跳过", "Skip"],
    big: ["大字", "A+"], sending: ["正在提交…", "Sending…"],
    counted: ["感谢您的评价！", "Thank you for your rating!"],
    duplicate: ["您今天已经评价过这个窗口，感谢！", "You have rated this window today. Thank you!"],
    thanks_reason: ["已收到您的意见，感谢！", "Thank you, we have your comment."],
    offline: ["网络不畅，评价已保存，将自动重新提交。", "No network: your rating is saved and will be sent."],
    busy: ["服务繁忙，稍后自动重新提交。", "The service is busy; we will try again shortly."],
    limited: ["操作太频繁，稍后自动重新提交。", "Too many requests; we will try again shortly."],
    expired: ["页面已过期，请重新扫描窗口的二维码。", "This page has expired. Please scan the code again."],
    revoked: ["此二维码已失效，请扫描窗口现在张贴的二维码。", "This code is no longer valid. Please scan the new one."],
    invalid: ["这个二维码无效，请扫描窗口张贴的评价二维码。", "This code is not valid. Please scan the code at the window."],
    wechat: ["请用微信扫描窗口的二维码进行评价。", "Please scan the code with WeChat."],
    failed: ["提交失败，请重新扫码。", "Something went wrong. Please scan the code again."],
    earlier: ["您上次的评价已提交。", "Your earlier rating has been sent."]
  };
  // level: [Chinese, English, colour, mouth path]; faces are drawn, not emoji, so they look
  // the same on every phone.
  var LEVELS = {5: ["非常满意", "Very satisfied", "#07c160", "M11 23q9 9 18 0"],
                4: ["满意", "Satisfied", "#5ac26a", "M12 24q8 5 16 0"],
                3: ["基本满意", "Fair", "#f0a020", "M12 25h16"],
                2: ["不满意", "Dissatisfied", "#f07020", "M12 27q8-5 16 0"],
                1: ["非常不满意", "Very dissatisfied", "#e64340", "M11 29q9-9 18 0"]};
  function face(l) {
    return '<svg viewBox="0 0 40 40" aria-hidden="true"><circle cx="20" cy="20" r="18" fill="' + l[2] +
      '"/><circle cx="14" cy="15" r="2.5" fill="#fff"/><circle cx="26" cy="15" r="2.5" fill="#fff"/>' +
      '<path d="' + l[3] + '" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/></svg>';
  }
  var TAGS = [["key_work", "落实重点工作", "Delivering the work"],
              ["business", "服务企业", "Serving businesses"],
              ["lawful", "依法行政", "Acting lawfully"],
              ["public", "联系群众", "Treating people well"],
              ["duty", "履职尽责", "Doing their duty"]];
  var token = location.pathname.split("/").pop();
  var scan = null;

  function t(key) { return WORDS[key][EN ? 1 : 0]; }
  function $(id) { return document.getElementById(id); }
  function show(id) {
    var ids = ["faces", "reasons", "done"];
    for (var i = 0; i < ids.length; i++) $(ids[i]).hidden = ids[i] !== id;
  }
  function say(key, ok, detail) {
    show("done");
    $("message").textContent = t(key);
    $("detail").textContent = detail ? t(detail) : "";
    $("icon").className = ok ? "weui-icon-success weui-icon_msg" : "weui-icon-info weui-icon_msg";
  }

  function request(method, url, body, key, done) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    xhr.timeout = 15000;
    if (body) xhr.setRequestHeader("Content-Type", "application/json");
    if (key) xhr.setRequestHeader("Idempotency-Key", key);
    xhr.onload = function () {
      var json = {};
      try { json = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      done(xhr.status, json, parseInt(xhr.getResponseHeader("Retry-After"), 10) || 0);
    };
    xhr.onerror = xhr.ontimeout = function () { done(0, {}, 0); };
    xhr.send(body ? JSON.stringify(body) : null);
  }

  // The queue of taps not yet answered -----------------------------------------------------
  function load() { try { return JSON.parse(localStorage.getItem(QUEUE)) || []; } catch (e) { return []; } }
  function save(q) { try { localStorage.setItem(QUEUE, JSON.stringify(q)); } catch (e) { /* full */ } }
  function keep(entry) { var q = load(); q.push(entry); save(q); }
  function drop(entry) {
    var q = load(), out = [];
    for (var i = 0; i < q.length; i++) if (q[i].key !== entry.key) out.push(q[i]);
    save(out);
  }
  function update(entry) { drop(entry); keep(entry); }
  function newKey() { return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12); }

  // Send one tap; `visible` when this page shows its outcome.
  function send(entry, visible, attempt) {
    var body = {ticket: entry.ticket, level: entry.level};
    if (entry.pow) body.pow = entry.pow;
    request("POST", "/api/v1/ratings", body, entry.key, function (status, json, wait) {
      var code = json.error ? json.error.code : "";
      if (status === 201 || status === 202 || status === 200) {
        drop(entry);
        if (!visible) { $("note").textContent = t("earlier"); return; }
        if (status !== 200 && entry.level <= 2) return askWhy(json.rating_id);
        return say(status === 200 ? "duplicate" : "counted", true);
      }
      if (status === 403 && code === "ticket_expired" && !entry.renewed) {
        // Never recorded (a recorded tap would have been replayed): scan again, send again.
        return request("GET", "/api/v1/scan/" + entry.token, null, null, function (s, fresh) {
          if (s !== 200) return retry(entry, visible, attempt, s === 0 ? "offline" : "busy", 0);
          entry.ticket = fresh.ticket; entry.key = newKey(); entry.renewed = true;
          entry.pow = fresh.pow ? window.ratingsvcPow.solve(fresh.pow.challenge, fresh.pow.bits) : null;
          update(entry);
          send(entry, visible, attempt);
        });
      }
      if (status === 0 || status >= 500) return retry(entry, visible, attempt, status === 0 ? "offline" : "busy", wait);
      if (status === 429) return retry(entry, visible, attempt, "limited", wait);
      drop(entry);  // refused for good: say why
      if (visible) say(status === 410 ? "revoked" : code === "ticket_expired" ? "expired" : "failed", false);
    });
  }

  function retry(entry, visible, attempt, why, wait) {
    if (visible) say(why, false);
    var delay = Math.max(wait * 1000, Math.min(30000, 1000 * Math.pow(2, attempt)));
    setTimeout(function () { send(entry, visible, attempt + 1); }, delay);
  }

  function tap(level) {
    var entry = {token: token, ticket: scan.ticket, level: level, key: newKey(), t: Date.now()};
    if (scan.pow) entry.pow = window.ratingsvcPow.solve(scan.pow.challenge, scan.pow.bits);
    keep(entry);
    say("sending", true);
    send(entry, true, 0);
  }

  // The optional reason after a 1 or a 2 --------------------------------------------------
  function askWhy(ratingId) {
    show("reasons");
    $("send-reasons").onclick = function () {
      var tags = [], boxes = $("tags").getElementsByTagName("input");
      for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) tags.push(boxes[i].value);
      var comment = $("comment").value;
      if (!tags.length && !comment.replace(/\s/g, "")) return say("counted", true);
      request("POST", "/api/v1/ratings/" + ratingId + "/details", {tags: tags, comment: comment},
              null, function () { say("thanks_reason", true); });
    };
    $("skip").onclick = function () { say("counted", true); };
  }

  // The page ------------------------------------------------------------------------------
  function render() {
    var levels = $("levels"), tags = $("tags");
    for (var lvl = 5; lvl >= 1; lvl--) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "face";
      b.setAttribute("data-level", lvl);
      b.setAttribute("aria-label", LEVELS[lvl][EN ? 1 : 0]);
      b.innerHTML = face(LEVELS[lvl]);
      b.appendChild(document.createTextNode(LEVELS[lvl][EN ? 1 : 0]));
      b.onclick = (function (l) { return function () { tap(l); }; })(lvl);
      levels.appendChild(b);
    }
    for (var i = 0; i < TAGS.length; i++) {
      var label = document.createElement("label");
      label.className = "weui-cell weui-check__label";
      label.innerHTML = '<div class="weui-cell__bd"></div><div class="weui-cell__ft">' +
        '<input type="checkbox" class="weui-check" name="tag" value="' + TAGS[i][0] + '">' +
        '<i class="weui-icon-checked"></i></div>';
      label.firstChild.textContent = TAGS[i][EN ? 2 : 1];
      tags.appendChild(label);
    }
    var words = document.querySelectorAll("[data-t]");
    for (var j = 0; j < words.length; j++) words[j].textContent = t(words[j].getAttribute("data-t"));
    if (EN) document.documentElement.lang = "en";
  }

  function start(attempt) {
    request("GET", "/api/v1/scan/" + token, null, null, function (status, json) {
      if (status === 200) {
        scan = json;
        $("unit").textContent = json.unit.name;
        $("window").textContent = json.window.name;
        return show("faces");
      }
      var code = json.error ? json.error.code : "";
      if (status === 0 || status >= 500 || status === 429) {
        say(status === 0 ? "offline" : status === 429 ? "limited" : "busy", false);
        return setTimeout(function () { start(attempt + 1); }, Math.min(30000, 1000 * Math.pow(2, attempt)));
      }
      $("unit").textContent = "";
      say(status === 410 ? "revoked" : code === "wechat_required" ? "wechat" : "invalid", false);
    });
  }

  function largeText(on) {
    document.documentElement.className = on ? "large" : "";
    $("big").setAttribute("aria-pressed", on ? "true" : "false");
    try { localStorage.setItem(LARGE, on ? "1" : ""); } catch (e) { /* private mode */ }
  }

  render();
  largeText(localStorage.getItem(LARGE) === "1");
  $("big").onclick = function () { largeText($("big").getAttribute("aria-pressed") !== "true"); };
  var waiting = load();  // taps from an earlier visit that never got an answer
  for (var k = 0; k < waiting.length; k++) send(waiting[k], false, 0);
  window.addEventListener("online", function () {  // back online: try the waiting taps now
    var q = load();
    for (var i = 0; i < q.length; i++) send(q[i], q[i].token === token, 0);
  });
  start(0);
})();
