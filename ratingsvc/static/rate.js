// The citizen page: scan, one tap, an optional reason, a short time to change the tap. Plain
// ES5 and XMLHttpRequest, for old Android WebViews. Words are in rate-words.js. A tap or a
// reason is never lost: it waits in localStorage with its key and is sent again, with backoff
// and on the next visit, until the server answers. The page only says what is true: "saved"
// only for what waits in localStorage, "received" only for what the server accepted.
(function () {
  "use strict";
  var W = window.ratingsvcWords, t = W.t, EN = W.EN;
  var TAPS = "ratingsvc.queue", REASONS = "ratingsvc.reasons", LARGE = "ratingsvc.large";
  var token = location.pathname.split("/").pop();
  // a visit token (/V/<token>, one service: README "Visit tokens") or a window's poster (/R/)
  var SCAN = /^\/[Vv]\//.test(location.pathname) ? "/api/v1/visit/" : "/api/v1/scan/";
  var scan = null;
  var offset = 0;  // the server's clock minus this phone's (ms), from the scan's "now"
  var rated = null;  // this visit's rating: {id, level, until (server ms; 0: not changeable), reasons}
  var changing = false, changeTimer = null, backTo = "done";  // where 不修改 returns

  function $(id) { return document.getElementById(id); }
  function show(id) {
    var ids = ["faces", "reasons", "done"];
    for (var i = 0; i < ids.length; i++) $(ids[i]).hidden = ids[i] !== id;
  }
  // The message screen. ok: the green tick, else the blue "i"; final: the 完成 button.
  function say(key, ok, final) {
    show("done");
    $("message").textContent = t(key);
    $("detail").textContent = "";
    $("icon").className = ok ? "weui-icon-success weui-icon_msg" : "weui-icon-info weui-icon_msg";
    $("chosen").hidden = $("change").hidden = $("case").hidden = true;
    $("close").hidden = !final;
  }
  // A thanks screen: what the server has for this visit's rating, and the change while allowed.
  function thank(key) {
    say(key, true, true);
    if (rated) showLevel("chosen", "change");
    if (rated && rated.caseUrl) showCase();
  }
  // After a 差评 that opened a case: the rater's link to it (to keep), and the WeChat notice.
  function showCase() {
    $("case").hidden = false;
    $("case-link").href = rated.caseUrl;
    $("case-url").textContent = rated.caseUrl;
    $("notify").hidden = !rated.notifyUrl;
    if (rated.notifyUrl) $("notify").href = rated.notifyUrl;
  }
  function caseLinks(json) { rated.caseUrl = json.case_url || ""; rated.notifyUrl = json.notify_url || ""; }
  // The recorded level (face and words) in element id, and its change button while allowed.
  function showLevel(id, button) {
    $(id).innerHTML = W.face(rated.level);
    $(id).appendChild(document.createTextNode(t("your_level") + W.label(rated.level)));
    $(id).setAttribute("data-level", rated.level);
    $(id).hidden = false;
    var left = rated.until - (Date.now() + offset);
    $(button).hidden = !(left > 0);
    clearTimeout(changeTimer);
    if (left > 0) changeTimer = setTimeout(function () { $(button).hidden = true; }, left);
  }
  function serverTime(iso) { var ms = Date.parse(iso || ""); return isNaN(ms) ? 0 : ms; }

  function request(method, url, body, key, done, renew) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    xhr.timeout = 15000;
    if (body) xhr.setRequestHeader("Content-Type", "application/json");
    if (key) xhr.setRequestHeader("Idempotency-Key", key);
    if (renew) xhr.setRequestHeader("Renew-Ticket", renew);  // a header: never in a logged URL
    xhr.onload = function () {
      var json = {};
      try { json = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      done(xhr.status, json, parseInt(xhr.getResponseHeader("Retry-After"), 10) || 0);
    };
    xhr.onerror = xhr.ontimeout = function () { done(0, {}, 0); };
    xhr.send(body ? JSON.stringify(body) : null);
  }
  function backoff(attempt, wait) { return Math.max(wait * 1000, Math.min(30000, 1000 * Math.pow(2, attempt))); }
  function passing(status) { return status === 0 || status === 429 || status >= 500; }

  // The queues (taps, reasons) of what is not yet answered -----------------------------------
  function load(name) { try { return JSON.parse(localStorage.getItem(name)) || []; } catch (e) { return []; } }
  function save(name, q) { try { localStorage.setItem(name, JSON.stringify(q)); } catch (e) { /* full */ } }
  function keep(name, entry) { var q = load(name); q.push(entry); save(name, q); }
  function drop(name, entry) {
    var q = load(name), out = [];
    for (var i = 0; i < q.length; i++) if (q[i].key !== entry.key) out.push(q[i]);
    save(name, out);
  }
  function newKey() { return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12); }

  // Send one tap; `visible` when this page shows its outcome.
  function send(entry, visible, attempt) {
    var body = {ticket: entry.ticket, level: entry.level};
    if (entry.pow) body.pow = entry.pow;
    request("POST", "/api/v1/ratings", body, entry.key, function (status, json, wait) {
      var code = json.error ? json.error.code : "";
      if (status === 201 || status === 202 || status === 200) {
        drop(TAPS, entry);
        if (!visible) { $("note").textContent = t("earlier"); return; }
        rated = {id: json.rating_id, level: json.level || entry.level, until: serverTime(json.change_until)};
        caseLinks(json);
        if (status !== 200 && rated.level <= 2) return askWhy();
        return thank(status === 200 ? "duplicate" : "counted");
      }
      if (status === 403 && code === "ticket_expired" && !entry.renewed) {
        // Never recorded (a recorded tap would have been replayed): scan again, send again.
        // The old ticket goes along: the rater chose after the first scan, not this one.
        return request("GET", (entry.scan || "/api/v1/scan/") + entry.token, null, null, function (s, fresh) {
          if (passing(s)) return retry(entry, visible, attempt, s === 0 ? "offline" : s === 429 ? "limited" : "busy", 0);
          if (s !== 200) {  // the code revoked, or no longer valid: refused for good
            drop(TAPS, entry);
            if (visible) say(s === 410 ? "revoked" : "expired", false, true);
            return;
          }
          drop(TAPS, entry);  // (by its old key: the queue keeps the renewed one only)
          entry.ticket = fresh.ticket; entry.key = newKey(); entry.renewed = true;
          entry.pow = fresh.pow ? window.ratingsvcPow.solve(fresh.pow.challenge, fresh.pow.bits) : null;
          keep(TAPS, entry);
          send(entry, visible, attempt);
        }, entry.ticket);
      }
      if (passing(status)) return retry(entry, visible, attempt, status === 0 ? "offline" : status === 429 ? "limited" : "busy", wait);
      drop(TAPS, entry);  // refused for good: say why
      if (visible) say(status === 410 ? "revoked" : code === "ticket_expired" ? "expired" : "failed", false, true);
    });
  }

  function retry(entry, visible, attempt, why, wait) {
    if (visible) say(why, false, false);
    setTimeout(function () { send(entry, visible, attempt + 1); }, backoff(attempt, wait));
  }

  function tap(level) {
    if (changing) return changeTo(level);
    var entry = {token: token, scan: SCAN, ticket: scan.ticket, level: level, key: newKey(), t: Date.now()};
    if (scan.pow) entry.pow = window.ratingsvcPow.solve(scan.pow.challenge, scan.pow.bits);
    keep(TAPS, entry);
    say("sending", true, false);
    send(entry, true, 0);
  }

  // Changing the tap, for a short time after it --------------------------------------------
  function startChange() {
    changing = true;
    backTo = $("reasons").hidden ? "done" : "reasons";
    $("ask").textContent = t("ask_change");
    $("keep").hidden = false;
    show("faces");
  }
  function endChange() {
    changing = false;
    $("ask").textContent = t("ask");
    $("keep").hidden = true;
  }
  function changeTo(level) {
    endChange();
    say("sending", true, false);
    request("POST", "/api/v1/ratings/" + rated.id + "/level", {level: level}, null, function (status, json) {
      var code = json.error ? json.error.code : "";
      if (status === 200) {
        rated.level = json.level; rated.until = serverTime(json.change_until);
        caseLinks(json);
        if (rated.level <= 2 && !rated.reasons) return askWhy();
        return thank("changed");
      }
      if (code === "change_closed") rated.until = 0;
      thank(passing(status) ? "change_offline" : code === "change_closed" ? "change_closed" : "change_failed");
    });
  }

  // The optional reason after a 1 or a 2 --------------------------------------------------
  function askWhy() {
    show("reasons");
    showLevel("reason-chosen", "change-early");
    $("send-reasons").onclick = function () {
      var tags = [], boxes = $("tags").getElementsByTagName("input");
      for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) tags.push(boxes[i].value);
      var comment = $("comment").value;
      if (!tags.length && !comment.replace(/\s/g, "")) return thank("counted");
      var entry = {key: newKey(), rating: rated.id, tags: tags, comment: comment, t: Date.now()};
      keep(REASONS, entry);
      say("sending", true, false);
      sendReason(entry, true, 0);
    };
    $("skip").onclick = function () { thank("counted"); };
  }

  // Send one reason; the server answers a resent one (same rating, same words) as the first.
  function sendReason(entry, visible, attempt) {
    var body = {tags: entry.tags, comment: entry.comment};
    request("POST", "/api/v1/ratings/" + entry.rating + "/details", body, null, function (status, json, wait) {
      if (passing(status)) {
        if (visible) say("reason_offline", false, false);
        return setTimeout(function () { sendReason(entry, visible, attempt + 1); }, backoff(attempt, wait));
      }
      drop(REASONS, entry);
      if (status === 201 && rated && rated.id === entry.rating) rated.reasons = true;
      if (!visible) { if (status === 201) $("note").textContent = t("earlier_reason"); return; }
      thank(status === 201 ? "thanks_reason" : status === 409 ? "reason_exists" : "reason_failed");
    });
  }

  // The page ------------------------------------------------------------------------------
  function render() {
    var levels = $("levels"), tags = $("tags");
    for (var lvl = 5; lvl >= 1; lvl--) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "face";
      b.setAttribute("data-level", lvl);
      b.setAttribute("aria-label", W.label(lvl));
      b.innerHTML = W.face(lvl);
      b.appendChild(document.createTextNode(W.label(lvl)));
      b.onclick = (function (l) { return function () { tap(l); }; })(lvl);
      levels.appendChild(b);
    }
    for (var i = 0; i < W.TAGS.length; i++) {
      var label = document.createElement("label");
      label.className = "weui-cell weui-check__label";
      label.innerHTML = '<div class="weui-cell__bd"></div><div class="weui-cell__ft">' +
        '<input type="checkbox" class="weui-check" name="tag" value="' + W.TAGS[i][0] + '">' +
        '<i class="weui-icon-checked"></i></div>';
      label.firstChild.textContent = W.tag(i);
      tags.appendChild(label);
    }
    var words = document.querySelectorAll("[data-t]");
    for (var j = 0; j < words.length; j++) words[j].textContent = t(words[j].getAttribute("data-t"));
    $("comment").placeholder = t("hint");
    $("comment").oninput = function () { $("count").textContent = $("comment").value.length; };
    if (EN) document.documentElement.lang = "en";
  }

  function footer(json) {
    var parts = [];
    if (json.office) parts.push(t("office", {office: json.office}));
    if (json.period) parts.push(t("period", json.period));
    $("office").textContent = parts.join(" · ");
  }

  function start(attempt) {
    request("GET", SCAN + token, null, null, function (status, json) {
      if (status === 200) {
        scan = json;
        if (serverTime(json.now)) offset = serverTime(json.now) - Date.now();
        $("unit").textContent = json.unit.name;
        $("window").textContent = json.window.name;
        footer(json);
        return show("faces");
      }
      var code = json.error ? json.error.code : "";
      if (passing(status)) {  // nothing was tapped yet: say only that the page is still coming
        say(status === 0 ? "reconnecting" : "reloading", false, false);
        return setTimeout(function () { start(attempt + 1); }, backoff(attempt, 0));
      }
      $("unit").textContent = "";
      say(status === 410 ? "revoked" : code === "wechat_required" ? "wechat" : "invalid", false, true);
    });
  }

  // 完成: WeChat closes its web view; a browser closes the page if it may, else goes back.
  function closePage() {
    var bridge = window.WeixinJSBridge;
    if (bridge && bridge.invoke) return bridge.invoke("closeWindow", {}, function () {});
    window.close();
    setTimeout(function () {  // still open: a page the browser did not open by script
      if (history.length > 1) history.back();
      else $("close").hidden = true;
    }, 300);
  }

  function largeText(on) {
    document.documentElement.className = on ? "large" : "";
    $("big").setAttribute("aria-pressed", on ? "true" : "false");
    try { localStorage.setItem(LARGE, on ? "1" : ""); } catch (e) { /* private mode */ }
  }

  function resendAll(visibleOnes) {
    var taps = load(TAPS), reasons = load(REASONS), i;
    for (i = 0; i < taps.length; i++) send(taps[i], visibleOnes && taps[i].token === token, 0);
    for (i = 0; i < reasons.length; i++) {
      sendReason(reasons[i], visibleOnes && !!rated && reasons[i].rating === rated.id, 0);
    }
  }

  render();
  largeText(localStorage.getItem(LARGE) === "1");
  $("big").onclick = function () { largeText($("big").getAttribute("aria-pressed") !== "true"); };
  $("change").onclick = $("change-early").onclick = startChange;
  $("keep").onclick = function () { endChange(); if (backTo === "reasons") askWhy(); else thank("counted"); };
  $("close").onclick = closePage;
  resendAll(false);  // taps and reasons from an earlier visit that never got an answer
  window.addEventListener("online", function () { resendAll(true); });  // back online: now
  start(0);
})();
