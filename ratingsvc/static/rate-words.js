// The citizen page's words (Chinese, English), its five levels and its problem tags; rate.js
// uses them. Plain ES5.
(function () {
  "use strict";
  var WORDS = {
    title: ["窗口服务评价", "Rate this service window"],
    ask: ["请您对本窗口的服务进行评价", "How was the service at this window?"],
    ask_change: ["请重新选择您的评价", "Choose your rating again"],
    recorded: ["您的评价已记录，如愿意可以告诉我们遇到了什么问题",
               "Your rating is recorded. If you like, tell us what went wrong."],
    comment: ["补充说明（可不填）", "Comment (optional)"],
    hint: ["请简要描述遇到的问题，最多500字", "Briefly, what happened? Up to 500 characters"],
    send: ["提交", "Send"], skip: ["跳过", "Skip"],
    big: ["大字", "A+"], sending: ["正在提交…", "Sending…"],
    change: ["修改评价", "Change my rating"], keep: ["不修改", "Keep it"], close: ["完成", "Done"],
    counted: ["感谢您的评价！", "Thank you for your rating!"],
    changed: ["已修改您的评价，感谢！", "Your rating has been changed. Thank you!"],
    your_level: ["您的评价：", "Your rating: "],
    duplicate: ["您今天已经评价过这个窗口，感谢！", "You have rated this window today. Thank you!"],
    thanks_reason: ["已收到您的意见，感谢！", "Thank you, we have your comment."],
    reason_offline: ["网络不畅，您的意见已保存在本机，联网后自动提交。",
                     "No network: your comment is kept on this phone and will be sent when online."],
    reason_exists: ["这条评价已经补充过意见。", "A comment was already given for this rating."],
    reason_failed: ["您的意见未能提交，您的评价已记录。", "Your comment could not be sent; your rating is recorded."],
    reconnecting: ["网络不畅，正在重新连接…", "No network: reconnecting…"],
    reloading: ["服务繁忙，正在重新加载…", "The service is busy; trying again…"],
    offline: ["网络不畅，评价已保存，将自动重新提交。", "No network: your rating is saved and will be sent."],
    busy: ["服务繁忙，稍后自动重新提交。", "The service is busy; we will try again shortly."],
    limited: ["操作太频繁，稍后自动重新提交。", "Too many requests; we will try again shortly."],
    expired: ["页面已过期，请重新扫描窗口的二维码。", "This page has expired. Please scan the code again."],
    revoked: ["此二维码已失效，请扫描窗口现在张贴的二维码。", "This code is no longer valid. Please scan the new one."],
    invalid: ["这个二维码无效，请扫描窗口张贴的评价二维码。", "This code is not valid. Please scan the code at the window."],
    wechat: ["请用微信扫描窗口的二维码进行评价。", "Please scan the code with WeChat."],
    failed: ["提交失败，请重新扫码。", "Something went wrong. Please scan the code again."],
    change_closed: ["修改时间已过，您的评价保持不变。", "Too late to change; your rating stays as it was."],
    change_failed: ["未能修改，您的评价保持不变。", "It could not be changed; your rating stays as it was."],
    change_offline: ["网络不畅，未能修改，请稍后再试。", "No network: not changed. Please try again."],
    earlier: ["您上次的评价已提交。", "Your earlier rating has been sent."],
    earlier_reason: ["您上次的意见已提交。", "Your earlier comment has been sent."],
    case_intro: ["您的差评已转交单位核实处理，单位将答复您。",
                 "Your rating is now a case: the unit will look into it and reply to you."],
    case_link: ["查看处理结果", "See how it is handled"],
    case_keep: ["请打开后收藏该页面（微信右上角“···”→“收藏”），或保存此链接：",
                "Open it and bookmark that page, or keep this link:"],
    notify: ["接收处理结果通知", "Notify me in WeChat of the reply"],
    office: ["本评价由{office}组织", "Run by {office}"],
    period: ["考评期 {name}（{start} 至 {end}）", "Period: {name} ({start} to {end})"]
  };
  // level: [Chinese, English, colour, mouth path]; faces are drawn, not emoji, so they look
  // the same on every phone.
  var LEVELS = {5: ["非常满意", "Very satisfied", "#07c160", "M11 23q9 9 18 0"],
                4: ["满意", "Satisfied", "#5ac26a", "M12 24q8 5 16 0"],
                3: ["基本满意", "Fair", "#f0a020", "M12 25h16"],
                2: ["不满意", "Dissatisfied", "#f07020", "M12 27q8-5 16 0"],
                1: ["非常不满意", "Very dissatisfied", "#e64340", "M11 29q9-9 18 0"]};
  var TAGS = [["key_work", "落实重点工作", "Delivering the work"],
              ["business", "服务企业", "Serving businesses"],
              ["lawful", "依法行政", "Acting lawfully"],
              ["public", "联系群众", "Treating people well"],
              ["duty", "履职尽责", "Doing their duty"]];
  var EN = /^en\b/i.test(navigator.language || "");

  function face(level) {
    var l = LEVELS[level];
    return '<svg viewBox="0 0 40 40" aria-hidden="true"><circle cx="20" cy="20" r="18" fill="' + l[2] +
      '"/><circle cx="14" cy="15" r="2.5" fill="#fff"/><circle cx="26" cy="15" r="2.5" fill="#fff"/>' +
      '<path d="' + l[3] + '" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/></svg>';
  }

  // t("office", {office: "…"}): the word in the page's language, {names} filled in.
  function t(key, values) {
    var text = WORDS[key][EN ? 1 : 0];
    for (var name in values || {}) text = text.split("{" + name + "}").join(values[name]);
    return text;
  }

  window.ratingsvcWords = {
    EN: EN, TAGS: TAGS, t: t, face: face,
    label: function (level) { return LEVELS[level][EN ? 1 : 0]; },
    tag: function (i) { return TAGS[i][EN ? 2 : 1]; }
  };
})();
