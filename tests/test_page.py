"""The citizen page in a real headless Chromium (Debian's), driven by Playwright, at a phone
viewport against the app on a live local server. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import gzip
import http.client
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ratingsvc import registry
from tests.console_helpers import Quiet

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
PHONE = ("Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.49 NetType/WIFI Language/zh_CN")
FIRST_LOAD = ["rate.html", "rate.css", "rate.js", "rate-words.js", "pow.js",
              "vendor/weui-2.6.26/weui.min.css"]


def test_first_load_is_at_most_60_kb_gzipped():
    total = sum(len(gzip.compress((ROOT / "ratingsvc" / "static" / f).read_bytes(), 9)) for f in FIRST_LOAD)
    assert total <= 60 * 1024, total
    html = (ROOT / "ratingsvc" / "static" / "rate.html").read_text()
    assert all(f"/static/{f}" in html for f in FIRST_LOAD[1:])  # nothing from elsewhere
    assert "http" not in html.replace("http-equiv", "")
    assert (ROOT / "ratingsvc/static/vendor/weui-2.6.26/LICENSE.txt").read_text().count("MIT License")


@pytest.fixture
def phone(browser):
    """A phone: its own browser context (cookies, localStorage)."""
    contexts = []

    def make(locale="zh-CN", color_scheme="light"):
        ctx = browser.new_context(viewport={"width": 360, "height": 640}, locale=locale,
                                  user_agent=PHONE, device_scale_factor=1, color_scheme=color_scheme)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_page(h, live, ctx, window):
    page = ctx.new_page()
    page.goto(f"{live}/r/{h.token(window)}")
    page.wait_for_selector("button[data-level='5']")
    return page


def message(page, text, timeout=20000):
    page.wait_for_function(f"document.getElementById('message').textContent.includes({text!r})",
                           timeout=timeout)


def reason_step(h, live, ctx, win, level):
    """The page after a tap of 1 or 2: the optional reason."""
    page = open_page(h, live, ctx, win)
    page.click(f"button[data-level='{level}']")
    page.wait_for_selector("#reasons:not([hidden])")
    return page


def queued(page, name="queue"):
    return page.evaluate(f"JSON.parse(localStorage.getItem('ratingsvc.{name}') || '[]').length")


def reasons_given(h):
    return [e for _, e in h.r.xrange(registry.UnitKeys("u1").log) if e["k"] == "details"]


def score(h, window):
    return h.r.hgetall(registry.UnitKeys(window.unit).tot)


@pytest.fixture
def win(h):
    return h.window("u1", "综合受理窗口")


def test_scan_tap_counted_and_in_the_scores(h, live, phone, win):
    h.period("p1", "2026-05-01", "2026-09-30")
    page = open_page(h, live, phone(), win)
    assert page.inner_text("#unit") == "单位u1" and page.inner_text("#window") == "综合受理窗口"
    shot(page, "1-faces")
    faces = page.query_selector_all("button.face")
    labels = [f.get_attribute("aria-label") for f in faces]
    assert labels == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    for face in faces:  # all five in one 360x640 screen, big enough to hit
        box = face.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48 and box["y"] + box["height"] <= 640
    page.click("button[data-level='4']")
    message(page, "感谢您的评价")
    shot(page, "2-counted")
    scores = h.client.get("/api/v1/scores?period=p1", headers=h.admin).json["units"]
    assert [(u["unit"], u["n"], u["counts"]["4"]) for u in scores] == [("u1", 1, 1)]


def test_after_a_bad_tap_the_reason_is_asked_and_skippable(h, live, phone, win):
    ctx = phone()
    page = reason_step(h, live, ctx, win, 1)
    shot(page, "3-reasons")
    page.click("input[value='public'] >> xpath=..")
    page.fill("#comment", "等了两个小时")
    page.click("#send-reasons")
    message(page, "已收到您的意见")
    entry = h.r.xrange(registry.UnitKeys("u1").log)[-1][1]
    assert (entry["k"], entry["tags"], entry["c"]) == ("details", "public", "等了两个小时")
    other = open_page(h, live, phone(), win)
    other.click("button[data-level='2']")
    other.wait_for_selector("#reasons:not([hidden])")
    other.click("#skip")
    message(other, "感谢您的评价")
    assert score(h, win)["1"] == "1" and score(h, win)["2"] == "1"


def tap_offline(h, live, ctx, win, level):
    """Open the page, lose the network, tap: the page says it will keep trying."""
    page = open_page(h, live, ctx, win)
    ctx.set_offline(True)
    page.click(f"button[data-level='{level}']")
    message(page, "网络不畅")
    return page


def test_a_tap_while_offline_is_kept_and_counted_once(h, live, phone, win):
    ctx = phone()
    page = tap_offline(h, live, ctx, win, 5)
    shot(page, "4-offline")
    assert queued(page) == 1
    ctx.set_offline(False)
    message(page, "感谢您的评价")
    assert queued(page) == 0 and score(h, win)["5"] == "1"


def test_a_tap_kept_offline_is_sent_on_the_next_visit(h, live, phone, win):
    ctx = phone()
    tap_offline(h, live, ctx, win, 3).close()
    ctx.set_offline(False)
    again = open_page(h, live, ctx, win)
    again.wait_for_function("document.getElementById('note').textContent.includes('上次的评价已提交')")
    assert queued(again) == 0 and score(h, win)["3"] == "1"
    again.click("button[data-level='3']")  # the same phone, the same day
    message(again, "今天已经评价过")
    shot(again, "5-duplicate")
    assert score(h, win)["3"] == "1"


@pytest.mark.parametrize(("status", "words", "name"), [(503, "服务繁忙", "6-busy"),
                                                       (429, "操作太频繁", "7-limited")])
def test_busy_or_limited_answers_are_retried_until_counted(h, live, phone, win, status, words, name):
    ctx = phone()
    page = open_page(h, live, ctx, win)
    refusals = []

    def refuse_twice(route):
        if len(refusals) < 2:
            refusals.append(1)
            return route.fulfill(status=status, headers={"Retry-After": "1"},
                                 content_type="application/json",
                                 body='{"error": {"code": "x", "message": "x"}}')
        return route.continue_()

    page.route("**/api/v1/ratings", refuse_twice)
    page.click("button[data-level='5']")
    message(page, words)
    shot(page, name)
    message(page, "感谢您的评价")
    assert len(refusals) == 2 and score(h, win)["5"] == "1"


def test_an_expired_ticket_is_renewed_not_lost(h, live, phone, win, clock):
    page = open_page(h, live, phone(), win)
    clock.advance(1801)  # the citizen left the page open for half an hour
    page.click("button[data-level='4']")
    message(page, "感谢您的评价")
    assert score(h, win)["4"] == "1"
    assert queued(page) == 0  # nothing left to send again on the next visit


def test_a_renewed_ticket_is_sent_at_once_and_not_taken_for_a_robot(rules, phone):
    """With RULE_MIN_TAP_MS on, the page's renewal (a new scan carrying the old ticket, then the
    tap at once) counts: the citizen chose after the first scan."""
    h = rules(RULE_MIN_TAP_MS=800)
    server = make_server("127.0.0.1", 0, h.app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        win = h.window("u1", "综合受理窗口")
        page = open_page(h, f"http://127.0.0.1:{server.server_port}", phone(), win)
        h.clock.advance(1801)  # the page left open for half an hour
        page.click("button[data-level='4']")
        message(page, "感谢您的评价")
        assert score(h, win).get("4") == "1" and "h" not in score(h, win)
    finally:
        server.shutdown()


def test_a_held_tap_is_thanked_like_any_other(h, live, phone, win):
    registry.update_window(h.r, win.id, hours={"days": [6, 7], "open": ["08:00-12:00"]})  # closed today
    page = open_page(h, live, phone(), win)
    page.click("button[data-level='5']")
    message(page, "感谢您的评价")
    assert score(h, win).get("h") == "1" and "5" not in score(h, win)


def test_a_renewal_refused_for_good_says_so_and_keeps_nothing(h, live, phone, win, clock):
    """The ticket expired and the code was revoked meanwhile: the renewal's 410 is final (the
    page says so and does not try again), and nothing is kept to send later."""
    page = open_page(h, live, phone(), win)
    registry.revoke_window(h.r, win.id)
    clock.advance(1801)
    page.click("button[data-level='5']")
    message(page, "此二维码已失效")
    page.wait_for_timeout(1500)  # (a retry would come within a second or two)
    assert queued(page) == 0 and "此二维码已失效" in page.inner_text("#message")


def test_revoked_and_invalid_codes_have_their_own_words(h, live, phone, win):
    ctx = phone()
    page = open_page(h, live, ctx, win)
    old = h.token(win)
    registry.revoke_window(h.r, win.id)
    page.click("button[data-level='5']")
    message(page, "此二维码已失效")
    shot(page, "8-revoked-after-scan")
    gone = ctx.new_page()
    assert gone.goto(f"{live}/r/{old}").status == 410 and "已失效" in gone.inner_text("body")
    bad = ctx.new_page()
    assert bad.goto(f"{live}/r/AAAAAAAAAAAAAAAAAAAAA").status == 404 and "无效" in bad.inner_text("body")
    shot(bad, "9-invalid")


def test_english_when_the_browser_asks_and_large_text(h, live, phone, win):
    page = open_page(h, live, phone("en-US"), win)
    assert page.get_attribute("button[data-level='5']", "aria-label") == "Very satisfied"
    assert page.inner_text(".title") == "Rate this service window"
    page.click("#big")
    assert page.evaluate("document.documentElement.className") == "large"
    shot(page, "10-english-large")
    page.reload()
    page.wait_for_selector("button[data-level='5']")
    assert page.get_attribute("#big", "aria-pressed") == "true"


def test_offline_while_the_page_loads_it_says_it_reconnects_and_nothing_was_saved(h, live, phone, win):
    page = phone().new_page()
    failures = []

    def fail_twice(route):  # the network drops the first two scans
        if len(failures) < 2:
            failures.append(1)
            return route.abort("internetdisconnected")
        return route.continue_()

    page.route("**/api/v1/scan/**", fail_twice)
    page.goto(f"{live}/r/{h.token(win)}")
    message(page, "正在重新连接")
    assert "保存" not in page.inner_text("#message") and page.is_hidden("#close")
    shot(page, "11-offline-while-loading")
    page.wait_for_selector("button[data-level='5']")  # then the faces, once the scan gets through
    assert len(failures) == 2 and queued(page) == 0


def test_a_reason_sent_offline_is_kept_then_sent_once_and_only_then_thanked(h, live, phone, win):
    ctx = phone()
    page = reason_step(h, live, ctx, win, 1)
    ctx.set_offline(True)
    page.click("input[value='duty'] >> xpath=..")
    page.fill("#comment", "窗口无人")
    page.click("#send-reasons")
    message(page, "您的意见已保存在本机，联网后自动提交")
    shot(page, "12-reason-offline")
    assert queued(page, "reasons") == 1 and reasons_given(h) == []
    ctx.set_offline(False)
    message(page, "已收到您的意见")
    assert queued(page, "reasons") == 0
    assert [(e["tags"], e["c"]) for e in reasons_given(h)] == [("duty", "窗口无人")]


def test_a_reason_kept_offline_is_sent_on_the_next_visit(h, live, phone, win):
    ctx = phone()
    page = reason_step(h, live, ctx, win, 2)
    ctx.set_offline(True)
    page.fill("#comment", "态度差")
    page.click("#send-reasons")
    message(page, "已保存在本机")
    page.close()
    ctx.set_offline(False)
    again = open_page(h, live, ctx, win)
    again.wait_for_function("document.getElementById('note').textContent.includes('上次的意见已提交')")
    assert queued(again, "reasons") == 0 and [e["c"] for e in reasons_given(h)] == ["态度差"]


def test_the_reason_step_says_the_rating_is_recorded_and_labels_the_comment(h, live, phone, win):
    page = reason_step(h, live, phone(), win, 2)
    assert page.is_visible("text=您的评价已记录，如愿意可以告诉我们遇到了什么问题")
    label = page.query_selector("label[for='comment']")
    box = label.bounding_box()
    assert label.inner_text() == "补充说明（可不填）" and box["width"] > 40 and box["height"] > 10
    assert page.get_attribute("#comment", "placeholder")
    assert page.get_attribute("#comment", "maxlength") == "500"
    page.fill("#comment", "等了两个小时")
    assert page.inner_text("#count") == "6" and "/500" in page.inner_text(".weui-textarea-counter")
    page.click("#comment")
    shot(page, "13-reason-step-comment")


BRIDGE = """window.bridgeCalls = [];
window.WeixinJSBridge = {invoke: function (name, args, done) { window.bridgeCalls.push(name); done({}); }};"""


def test_thanks_shows_the_level_who_runs_it_and_done_closes_in_wechat(h, live, phone, win):
    h.period("2026q2", "2026-04-01", "2026-06-30")
    ctx = phone()
    ctx.add_init_script(BRIDGE)
    page = reason_step(h, live, ctx, win, 2)
    page.click("#skip")
    message(page, "感谢您的评价")
    assert page.get_attribute("#chosen", "data-level") == "2"
    assert page.inner_text("#chosen") == "您的评价：不满意" and page.is_visible("#chosen svg")
    assert page.inner_text("#office") == ("本评价由示例区纠风办（演示）组织 · "
                                          "考评期 2026q2（2026-04-01 至 2026-06-30）")
    shot(page, "14-thanks-level-office")
    page.click("#close")
    assert page.evaluate("window.bridgeCalls") == ["closeWindow"]


def contrast(page, selector):
    """WCAG contrast of an element's text against the first opaque background behind it."""
    return page.evaluate("""(sel) => {
      const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
      const lum = ([r, g, b]) => {
        const c = [r, g, b].map((v) => {
          v /= 255;
          return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
      };
      let el = document.querySelector(sel);
      const fg = rgb(getComputedStyle(el).color);
      let bg = [255, 255, 255];
      for (; el; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length < 4 || c[3] > 0.5) { bg = c.slice(0, 3); break; }
      }
      const [a, b] = [lum(fg.slice(0, 3)), lum(bg)].sort((x, y) => y - x);
      return (a + 0.05) / (b + 0.05);
    }""", selector)


def test_dark_mode_keeps_the_reason_step_and_skip_readable(h, live, phone, win):
    page = open_page(h, live, phone(color_scheme="dark"), win)
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    page.click("button[data-level='1']")
    page.wait_for_selector("#reasons:not([hidden])")
    shot(page, "15-dark-mode-reasons")
    for selector in ("#skip", "#recorded", "#tags .weui-cell__bd", "label[for='comment']",
                     "#comment", "h1"):
        assert contrast(page, selector) >= 4.5, selector
    bodies = page.evaluate("[getComputedStyle(document.body).backgroundColor, "
                           "getComputedStyle(document.querySelector('#tags')).backgroundColor]")
    assert bodies == ["rgb(247, 247, 247)", "rgb(255, 255, 255)"]  # the page stays light


def test_the_rater_changes_a_mistaken_tap_from_the_thanks_screen(h, live, phone, win):
    page = reason_step(h, live, phone(), win, 1)  # meant 非常满意
    page.click("#skip")
    message(page, "感谢您的评价")
    assert page.get_attribute("#chosen", "data-level") == "1" and page.is_visible("#change")
    shot(page, "16-thanks-change")
    page.click("#change")
    page.wait_for_selector("#faces:not([hidden])")
    assert page.inner_text("#ask") == "请重新选择您的评价" and page.is_visible("#keep")
    shot(page, "17-change-faces")
    page.click("button[data-level='5']")
    message(page, "已修改您的评价")
    assert page.get_attribute("#chosen", "data-level") == "5"
    assert page.inner_text("#chosen").endswith("非常满意")
    shot(page, "18-changed")
    assert score(h, win).get("5") == "1" and score(h, win).get("1", "0") == "0"


def test_the_reason_step_shows_the_tapped_level_and_changes_it_at_once(h, live, phone, win):
    """An older person who hit 非常不满意 by mistake sees it before any question, and fixes it."""
    page = reason_step(h, live, phone(), win, 1)
    assert page.get_attribute("#reason-chosen", "data-level") == "1"
    assert page.inner_text("#reason-chosen").endswith("非常不满意") and page.is_visible("#change-early")
    shot(page, "13b-reason-step-level")
    page.click("#change-early")
    page.wait_for_selector("#faces:not([hidden])")
    page.click("#keep")  # 不修改: back to the question it came from
    page.wait_for_selector("#reasons:not([hidden])")
    page.click("#change-early")
    page.click("button[data-level='5']")
    message(page, "已修改您的评价")
    assert page.get_attribute("#chosen", "data-level") == "5"
    assert score(h, win).get("5") == "1" and score(h, win).get("1", "0") == "0"


FIRST_LOAD_BUDGET = 40 * 1024  # bytes over the wire: ~2 s at 150 kbit/s


def test_the_app_serves_the_first_load_compressed_versioned_and_small(h, live, phone, win):
    page = open_page(h, live, phone(), win)
    loads = page.evaluate("""performance.getEntriesByType('navigation').concat(
        performance.getEntriesByType('resource')).map(e => [e.name, e.transferSize, e.decodedBodySize])""")
    files = [name.split("/static/")[1] for name, _, _ in loads if "/static/" in name]
    assert sorted(f.split("?v=")[0] for f in files) == sorted(FIRST_LOAD[1:])
    assert all(re.search(r"\?v=[0-9a-f]{12}$", f) for f in files), files  # versioned URLs
    sent = sum(size for _, size, _ in loads)  # the page, its files and the scan's answer
    assert sum(full for _, _, full in loads) > 200_000 and sent <= FIRST_LOAD_BUDGET, loads


def fetch(live, path, headers):
    conn = http.client.HTTPConnection(live.split("//")[1])
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    return resp.status, dict(resp.getheaders()), resp.read()


def test_static_files_from_the_app_are_gzipped_once_and_cacheable(h, live, win):
    status, headers, body = fetch(live, f"/r/{h.token(win)}", {"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
    html = gzip.decompress(body).decode()
    weui = re.search(r'href="(/static/vendor/weui-2.6.26/weui.min.css\?v=[0-9a-f]{12})"', html)[1]
    status, headers, body = fetch(live, weui, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and len(body) < 30_000
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Vary"] == "Accept-Encoding" and headers["Content-Type"].startswith("text/css")
    assert gzip.decompress(body) == (ROOT / "ratingsvc/static/vendor/weui-2.6.26/weui.min.css").read_bytes()
    again = fetch(live, weui, {"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})
    assert again[0] == 304 and again[2] == b""
    status, plain, body = fetch(live, "/static/rate.js", {})  # no gzip asked, no version: revalidate
    assert status == 200 and "Content-Encoding" not in plain and plain["Cache-Control"] == "no-cache"
    assert body == (ROOT / "ratingsvc/static/rate.js").read_bytes() and plain["ETag"] != headers["ETag"]
    assert fetch(live, "/static/../settings.py", {})[0] == 404


@pytest.mark.parametrize(("locale", "words"), [
    ("zh-CN", {404: ("二维码无效", "这个二维码无效"), 410: ("二维码已失效", "此二维码已失效")}),
    ("en-US", {404: ("Invalid code", "This code is not valid"),
               410: ("Code no longer valid", "no longer valid")})])
def test_the_404_and_410_pages_are_weui_message_pages_in_the_phones_language(h, live, phone, win, locale,
                                                                              words):
    ctx = phone(locale)
    old = h.token(win)
    registry.revoke_window(h.r, win.id)
    for status, path in ((404, "/r/AAAAAAAAAAAAAAAAAAAAA"), (410, f"/r/{old}")):
        page = ctx.new_page()
        assert page.goto(f"{live}{path}").status == status
        title, text = words[status]
        assert page.inner_text(".weui-msg__title") == title and text in page.inner_text(".weui-msg__desc")
        icon = page.query_selector(".weui-msg__icon-area i").bounding_box()  # WeUI's styles did load
        assert icon["width"] >= 48 and icon["height"] >= 48
        lang = page.evaluate("document.documentElement.lang")
        assert lang == ("en" if locale == "en-US" else "zh-CN")
        assert "示例区纠风办" in page.inner_text(".weui-footer")
        shot(page, f"19-{status}-{locale}")


@pytest.mark.parametrize("name", ["busy", "too-many"])
def test_nginx_error_pages_look_the_same_in_both_languages(live, phone, name):
    page = phone().new_page()
    page.goto(f"{live}/static/errors/{name}.html")
    descs = page.query_selector_all(".weui-msg__desc")
    assert [d.get_attribute("lang") for d in descs] == [None, "en"]
    assert "请稍后再试" in descs[0].inner_text() and "try again" in descs[1].inner_text()
    assert page.query_selector(".weui-icon_msg").bounding_box()["width"] >= 48
    shot(page, f"20-nginx-{name}")
