"""The citizen's side of a case: the link after a 差评, the case page and API, the one follow-up,
and the WeChat notice of the reply against the local stand-in (tests/test_wechat.py)."""

from __future__ import annotations

import http.client
import urllib.parse

import pytest
from playwright.sync_api import expect
from prometheus_client import REGISTRY

from ratingsvc import actions, create_app
from ratingsvc.audit import Actor
from ratingsvc.cases import notify, store
from ratingsvc.rkeys import UnitKeys
from tests.conftest import PUBLIC_URL
from tests.console_helpers import shot
from tests.helpers import Helper, tap_from
from tests.test_page import PHONE as BROWSER_PHONE
from tests.test_wechat import APPID, SECRET, login, wechat  # noqa: F401 (a fixture)

MANAGER = Actor("account", "m1", "窗口负责人")
TEMPLATE = "tplCaseReply-0123456789abcdefghijklmnopqrs"


def token_of(answer: dict) -> str:
    url = answer["case_url"]
    assert url.startswith(f"{PUBLIC_URL}/r/case/")
    return url.rsplit("/", 1)[1]


def bad_tap(h, win, level=1, **kw) -> tuple[dict, str]:
    answer = tap_from(h, win, level=level, **kw).json
    return answer, token_of(answer)


def reply(h, rid: str, action="explain", on_reply=None):
    unit, sid = rid.rsplit(".", 1)
    text = {"reply": "经核实，该事项需本人到场办理，已电话向您说明。"}
    if action == "rectify":
        actions.case_step(h.r, MANAGER, h.clock(), h.app.extensions["ratingsvc.cases"], unit, sid, "verify")
        text |= {"cause": "窗口人员不足", "act": "高峰时段增开一个窗口"}
    return actions.case_step(h.r, MANAGER, h.clock(), h.app.extensions["ratingsvc.cases"], unit, sid, action,
                             text=text, on_reply=on_reply or h.app.extensions["ratingsvc.case_reply"])


@pytest.mark.parametrize(("level", "linked"), [(1, True), (2, True), (3, False), (4, False), (5, False)])
def test_the_answer_carries_the_case_link_only_after_a_bad_tap(h, level, linked):
    answer = tap_from(h, h.window(), level=level).json
    assert answer["status"] == "counted"
    assert ("case_url" in answer) is linked and "notify_url" not in answer  # WeChat is off here
    if linked:
        assert h.signing.read_case_link(token_of(answer)) == answer["rating_id"]


def test_no_link_for_a_held_or_duplicate_tap_or_with_cases_off_and_one_on_a_level_change(rules):
    h = rules(RULE_MIN_TAP_MS=800)
    win = h.window()
    assert "case_url" not in (held := tap_from(h, win, level=1, wait=0.1).json) and held["status"] == "held"
    phone = h.rater()
    first = tap_from(h, win, level=4, rater=phone).json
    assert "case_url" not in first
    again = tap_from(h, win, level=1, rater=phone).json
    assert again["status"] == "duplicate" and "case_url" not in again
    changed = phone.post(f"/api/v1/ratings/{first['rating_id']}/level", json={"level": 2}).json
    assert h.signing.read_case_link(token_of(changed)) == first["rating_id"]
    assert "case_url" not in phone.post(f"/api/v1/ratings/{first['rating_id']}/level", json={"level": 5}).json
    off = rules(CASE_MAX_LEVEL=0)
    assert "case_url" not in tap_from(off, off.window("u2"), level=1).json


def test_the_case_before_and_after_the_reply_and_one_follow_up(h):
    win = h.window()
    answer, token = bad_tap(h, win, level=2)
    before = h.client.get(f"/api/v1/cases/{token}")
    assert before.status_code == 200
    v = before.json
    assert (v["state"], v["state_name"], v["unit"], v["window"], v["level_name"]) == (
        "new", "已受理", "单位u1", "1号窗口", "不满意")
    assert v["reply"] is None and v["followup_open"] is False and v["verify_due"] and v["rectify_due"]
    assert "6月2日（周二）前核实" in v["note"]  # a Monday's 差评: verified by the end of Tuesday
    early = h.client.post(f"/api/v1/cases/{token}/followup", json={"followup": 1})
    assert early.status_code == 409 and early.json["error"] == {
        "code": "wrong_state", "message": "单位尚未答复，答复后才能评价处理结果。"}
    counts = h.counts()
    reply(h, answer["rating_id"], "rectify")
    after = h.client.get(f"/api/v1/cases/{token}").json
    assert (after["state"], after["state_name"], after["followup_open"]) == ("rectified", "已整改", True)
    assert after["cause"] == "窗口人员不足" and after["act"] == "高峰时段增开一个窗口" and after["reply"]
    for bad, status in [(4, 422), (0, 422), ("1", 400), (True, 400), (None, 400)]:
        resp = h.client.post(f"/api/v1/cases/{token}/followup", json={"followup": bad})
        assert resp.status_code == status, (bad, resp.json)
        assert resp.json["error"]["code"] == ("bad_followup" if status == 422 else "invalid_request")
    done = h.client.post(f"/api/v1/cases/{token}/followup", json={"followup": 2})
    assert done.status_code == 200, done.json
    d = done.json
    assert (d["state"], d["followup"], d["followup_name"]) == ("closed", 2, "基本满意")
    again = h.client.post(f"/api/v1/cases/{token}/followup", json={"followup": 1})
    assert again.status_code == 409
    assert again.json["error"]["message"] == "您已经评价过处理结果，感谢您的监督！"
    assert h.counts() == counts  # the follow-up does not touch the tap's count
    unit, sid = answer["rating_id"].rsplit(".", 1)
    assert store.get(h.r, unit, sid).history[-1]["by"] == "citizen"


def test_too_late_for_the_follow_up(h, clock):
    answer, token = bad_tap(h, h.window())
    case = reply(h, answer["rating_id"])
    clock.t = case.followup_due / 1000 + 1
    assert h.client.get(f"/api/v1/cases/{token}").json["state"] == "closed"
    late = h.client.post(f"/api/v1/cases/{token}/followup", json={"followup": 1})
    assert late.status_code == 409 and late.json["error"] == {
        "code": "followup_closed", "message": "评价期限已过，工单已办结。"}
    page = h.client.get(f"/r/case/{token}")
    assert "回访评价期限已过" in page.text and 'name="followup"' not in page.text


def test_forged_cut_or_caseless_links_are_a_friendly_404(h):
    answer, token = bad_tap(h, h.window())
    no_case = h.signing.case_link(tap_from(h, h.window("u2"), level=5).json["rating_id"])
    for bad in [token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), token.split(".")[0], "x", no_case,
                h.signing.case_link("not a rating id"), h.token(h.window("u3"))]:
        api = h.client.get(f"/api/v1/cases/{bad}")
        assert api.status_code == 404 and api.json["error"]["code"] == "unknown_case", bad
        assert h.client.post(f"/api/v1/cases/{bad}/followup", json={"followup": 1}).status_code == 404
        page = h.client.get(f"/r/case/{bad}")
        assert page.status_code == 404 and page.mimetype == "text/html" and "没有找到这个工单" in page.text
        assert h.client.post(f"/r/case/{bad}", data={"followup": "1"}).status_code == 404


def test_the_page_shows_nothing_of_the_rater_and_takes_the_follow_up_as_a_form(h):
    win = h.window()
    phone = h.rater()
    answer, token = bad_tap(h, win, rater=phone)
    given = phone.post(f"/api/v1/ratings/{answer['rating_id']}/details",
                       json={"tags": ["public"], "comment": "窗口人员态度差，我的电话13800138000"})
    assert given.status_code == 201
    page = h.client.get(f"/r/case/{token}")
    assert page.status_code == 200 and "已受理" in page.text and "非常不满意" in page.text
    rater = h.r.xrange(UnitKeys("u1").log, answer["rating_id"].split(".")[1])[0][1]["r"]
    for secret in ["13800138000", "态度差", "联系群众", rater, answer["rating_id"], "ip"]:
        assert secret not in page.text.replace("description", "") and secret not in str(
            h.client.get(f"/api/v1/cases/{token}").json)
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "script-src 'none'" in page.headers["Content-Security-Policy"]
    assert 'name="followup"' not in page.text  # no reply yet
    reply(h, answer["rating_id"])
    page = h.client.get(f"/r/case/{token}").text
    assert "已解释说明" in page and "已电话向您说明" in page and page.count('name="followup"') == 3
    sent = h.client.post(f"/r/case/{token}", data={"followup": "3"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/r/case/{token}?notice=done")
    page = h.client.get(f"/r/case/{token}?notice=done").text
    assert "已收到您对处理结果的评价" in page and "已办结" in page and "不满意" in page
    twice = h.client.post(f"/r/case/{token}", data={"followup": "1"})
    assert twice.status_code == 409 and "您已经评价过处理结果" in twice.text
    assert h.client.post(f"/r/case/{token}", data={"followup": "x"}).status_code == 422


# WeChat ------------------------------------------------------------------------------------
@pytest.fixture
def wx(config, r, clock, wechat):  # noqa: F811 (the stand-in fixture)
    app = create_app({**config, "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_OPEN_URL": wechat.url,
                      "WECHAT_API_URL": wechat.url, "WECHAT_MP_URL": wechat.url,
                      "WECHAT_SUBSCRIBE_TEMPLATE": TEMPLATE})
    h = Helper(app, r, clock)
    h.win = h.window()
    return h


def wx_bad_tap(h, phone):
    ticket = phone.get(f"/api/v1/scan/{h.token(h.win)}").json["ticket"]
    h.clock.advance(5)
    answer = phone.post("/api/v1/ratings", json={"ticket": ticket, "level": 1}).json
    return answer, token_of(answer)


def consent(phone, wechat, answer):  # noqa: F811
    """The thanks screen's 接收处理结果通知: to WeChat's confirm page and back."""
    assert answer["notify_url"] == answer["case_url"] + "/notify"
    go = phone.get(urllib.parse.urlsplit(answer["notify_url"]).path)
    assert go.status_code == 302
    to = urllib.parse.urlsplit(go.headers["Location"])
    q = dict(urllib.parse.parse_qsl(to.query))
    assert f"{to.scheme}://{to.netloc}{to.path}" == f"{wechat.url}/mp/subscribemsg"
    assert to.fragment == "wechat_redirect"
    assert (q["appid"], q["template_id"]) == (APPID, TEMPLATE)
    assert q["redirect_url"] == answer["case_url"] + "/subscribed"
    conn = http.client.HTTPConnection("127.0.0.1", wechat.server_address[1])
    conn.request("GET", f"{to.path}?{to.query}")
    back = urllib.parse.urlsplit(conn.getresponse().getheader("Location"))
    conn.close()
    return phone.get(f"{back.path}?{back.query}")


def everything_in_redis(r) -> str:
    out = []
    for key in r.scan_iter(count=1000):
        kind = r.type(key)
        value = {"string": r.get, "hash": r.hgetall, "set": r.smembers, "stream": r.xrange,
                 "zset": lambda k: r.zrange(k, 0, -1), "list": lambda k: r.lrange(k, 0, -1)}[kind](key)
        out.append(f"{key} {value}")
    return "\n".join(out)


def notices(outcome: str) -> float:
    return REGISTRY.get_sample_value("ratingsvc_case_notices_total", {"outcome": outcome}) or 0.0


def test_consent_keeps_only_a_sealed_openid_and_the_reply_is_sent_then_forgotten(wx, wechat):  # noqa: F811
    phone = wx.rater()
    login(wx, phone, wechat)
    answer, token = wx_bad_tap(wx, phone)
    back = consent(phone, wechat, answer)
    assert back.status_code == 303 and back.headers["Location"].endswith("?notice=on")
    assert "已开启微信通知" in phone.get(back.headers["Location"]).text
    sid = answer["rating_id"].split(".")[1]
    sealed = wx.r.hget(UnitKeys("u1").wechat_subscribers, sid)
    assert sealed and "oUser1" not in everything_in_redis(wx.r)
    assert wx.signing.unseal(notify.OPENID, sealed, answer["rating_id"]) == "oUser1"
    assert wx.signing.unseal(notify.OPENID, sealed, "u1.1-0") is None  # bound to its case
    sent = notices("sent")
    case = reply(wx, answer["rating_id"], "rectify")
    assert case.state == "rectified"
    (message,) = wechat.messages
    assert message["touser"] == "oUser1" and message["template_id"] == TEMPLATE and message["scene"] == "1"
    assert message["url"] == answer["case_url"] and message["title"] == "差评处理结果通知"
    content = message["data"]["content"]
    assert content["value"].startswith("单位u1已就您的评价作出答复（已整改）：经核实") and content["color"]
    assert not wx.r.exists(UnitKeys("u1").wechat_subscribers) and notices("sent") == sent + 1
    # a second case's notice reuses the access token (kept, sealed, in Redis)
    other = wx.rater()
    wechat.user = {"openid": "oUser2", "snapshot": False}
    login(wx, other, wechat)
    second, _ = wx_bad_tap(wx, other)
    consent(other, wechat, second)
    reply(wx, second["rating_id"])
    assert len(wechat.messages) == 2 and len(wechat.tokens) == 1
    assert wechat.tokens[0] not in everything_in_redis(wx.r)


@pytest.mark.parametrize("fail", ["send", "token", "down"])
def test_a_failing_wechat_never_fails_the_step_and_the_openid_is_gone(wx, wechat, fail):  # noqa: F811
    phone = wx.rater()
    login(wx, phone, wechat)
    answer, _ = wx_bad_tap(wx, phone)
    consent(phone, wechat, answer)
    wechat.fail = fail
    before = notices("refused") + notices("unreachable")
    case = reply(wx, answer["rating_id"])
    assert case.state == "explained" and not wechat.messages
    assert notices("refused") + notices("unreachable") == before + 1
    assert not wx.r.exists(UnitKeys("u1").wechat_subscribers)
    assert "case.explain" in [e["action"] for _, e in wx.r.xrange("rs:audit")]


def test_a_consent_is_kept_only_from_the_rater_with_this_cases_reserved(wx, wechat):  # noqa: F811
    phone = wx.rater()
    login(wx, phone, wechat)
    answer, token = wx_bad_tap(wx, phone)
    wechat.subscribe = "cancel"
    assert consent(phone, wechat, answer).headers["Location"].endswith("?notice=off")
    wechat.subscribe, wechat.user = "confirm", {"openid": "oSomeoneElse", "snapshot": False}
    refused = consent(phone, wechat, answer)  # another WeChat user confirmed on this link
    assert refused.status_code == 403 and "请使用评价时的微信" in refused.text
    rid = answer["rating_id"]
    forged = f"/r/case/{token}/subscribed?openid=oUser1&template_id={TEMPLATE}&action=confirm&scene=1"
    other_case = wx.signing.subscribe_reserved("u1.1-0")
    for reserved in ["", "123abc", other_case]:
        assert phone.get(f"{forged}&reserved={reserved}").status_code == 403
    wrong_template = forged.replace(TEMPLATE, "other") + f"&reserved={wx.signing.subscribe_reserved(rid)}"
    assert phone.get(wrong_template).status_code == 403
    assert not wx.r.exists(UnitKeys("u1").wechat_subscribers)
    # once replied, the page offers no notice and a late consent keeps nothing
    wechat.user = {"openid": "oUser1", "snapshot": False}
    assert 'id="notify"' in phone.get(f"/r/case/{token}").text
    reply(wx, rid)
    assert 'id="notify"' not in phone.get(f"/r/case/{token}").text
    late = phone.get(forged + f"&reserved={wx.signing.subscribe_reserved(rid)}")
    assert late.headers["Location"].endswith("?notice=late")
    assert not wx.r.exists(UnitKeys("u1").wechat_subscribers)


def test_a_sealed_openid_of_a_case_that_will_get_no_reply_is_dropped(wx, wechat):  # noqa: F811
    phone = wx.rater()
    login(wx, phone, wechat)
    first, _ = wx_bad_tap(wx, phone)
    consent(phone, wechat, first)
    rid = first["rating_id"]
    assert phone.post(f"/api/v1/ratings/{rid}/level", json={"level": 5}).status_code == 200  # case voided
    assert notify.forget_finished(wx.r, ["u1"]) == 1
    assert not wx.r.exists(UnitKeys("u1").wechat_subscribers)


# The browser ---------------------------------------------------------------------------------
def test_a_bad_tap_then_the_case_page_before_and_after_the_reply_in_chromium(h, live, browser):
    win = h.window("u1", "综合受理窗口")
    ctx = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                              user_agent=BROWSER_PHONE)
    # the case link is on PUBLIC_URL: here, that is the live server
    ctx.route(f"{PUBLIC_URL}/**", lambda route: route.fulfill(
        response=route.fetch(url=live + route.request.url[len(PUBLIC_URL):], max_redirects=0)))
    try:
        page = ctx.new_page()
        page.goto(f"{live}/r/{h.token(win)}")
        page.click("button[data-level='1']")
        page.click("#skip")
        link = page.locator("#case-link")
        expect(link).to_be_visible()
        expect(page.locator("#case")).to_contain_text("请打开后收藏该页面")
        assert page.locator("#notify").is_hidden()  # WeChat notices are off here
        shot(page, "case-1-thanks")
        box = link.bounding_box()
        assert box["height"] >= 60
        link.click()
        expect(page.locator("#state")).to_have_text("已受理")
        assert "/r/case/" in page.url
        shot(page, "case-2-before-reply")
        (case,) = store.of_units(h.r, ["u1"])
        reply(h, case.rating_id, "rectify")
        page.reload()
        expect(page.locator("#state")).to_have_text("已整改")
        expect(page.locator("#reply")).to_contain_text("高峰时段增开一个窗口")
        buttons = page.locator("button.fu")
        expect(buttons).to_have_count(3)
        for i in range(3):
            b = buttons.nth(i).bounding_box()
            assert b["height"] >= 60 and b["width"] >= 60
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
        shot(page, "case-3-replied")
        page.get_by_role("button", name="满意", exact=True).click()
        expect(page.locator(".notice")).to_contain_text("已收到您对处理结果的评价")
        expect(page.locator("#state")).to_have_text("已办结")
        expect(page.locator("#followup-given")).to_contain_text("满意")
        shot(page, "case-4-followed-up")
        assert store.get(h.r, case.unit, case.id).followup == 1
    finally:
        ctx.close()
