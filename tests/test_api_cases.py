"""The cases API: a unit's cases and steps, appeals and the office's decisions, and the rates."""

from __future__ import annotations

import csv
import io

import pytest

from tests.helpers import tap_from


@pytest.fixture
def two(h):
    """u1 (managed by h.m1) with 差评 taps, u2 (another unit) with one."""
    h.period("p1")
    h.w1, h.w2 = h.window("u1"), h.window("u2")
    h.bad = [tap_from(h, h.w1, level=lvl).json["rating_id"] for lvl in (1, 2, 2)]
    h.good = tap_from(h, h.w1, level=5).json["rating_id"]
    h.other = tap_from(h, h.w2, level=1).json["rating_id"]
    h.m1 = h.key("manager", ("u1",))
    return h


def path(rating_id: str, step: str = "") -> str:
    unit, sid = rating_id.rsplit(".", 1)
    return f"/api/v1/units/{unit}/cases/{sid}" + (f"/{step}" if step else "")


def test_a_manager_lists_and_works_their_cases(two, clock):
    h = two
    got = h.client.get("/api/v1/cases", headers=h.m1).json["cases"]
    assert sorted(c["rating_id"] for c in got) == sorted(h.bad)  # not u2's, not the good tap
    assert {c["state"] for c in got} == {"new"} and got[0]["state_name"] == "待核实"
    rid = h.bad[0]
    resp = h.client.post(path(rid, "rectify"), headers=h.m1, json={"cause": "a", "act": "b", "reply": "c"})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "wrong_state"
    assert h.client.post(path(rid, "verify"), headers=h.m1, json={"note": "已电话回访"}).status_code == 200
    resp = h.client.post(path(rid, "rectify"), headers=h.m1, json={"cause": "人手不足", "act": "增开窗口"})
    assert resp.status_code == 422 and resp.json["error"]["code"] == "missing_reply"
    assert "答复" in resp.json["error"]["message"]
    resp = h.client.post(path(rid, "rectify"), headers=h.m1,
                         json={"cause": "人手不足", "act": "增开窗口", "reply": "已增开窗口，感谢监督"})
    assert resp.status_code == 200
    c = resp.json
    assert c["state"] == "rectified" and c["reply"] == "已增开窗口，感谢监督" and c["followup_due"]
    assert [x["action"] for x in c["history"]] == ["open", "verify", "rectify"]
    assert c["history"][1]["by"].startswith("key:")
    audit = h.r.xrange("rs:audit")
    assert [f["action"] for _, f in audit][-2:] == ["case.verify", "case.rectify"]
    # overdue: the next day is past the 1 working day to verify of the others
    clock.advance(7 * 86400)
    over = h.client.get("/api/v1/cases?state=overdue", headers=h.m1).json["cases"]
    assert {c["rating_id"] for c in over} == set(h.bad[1:])
    assert [c["overdue"] for c in over] == ["verify", "verify"]  # 5 working days: not yet 15


@pytest.mark.parametrize("method, url, body, status, code", [
    ("get", "/api/v1/units/u2/cases/{sid2}", None, 403, "other_unit"),
    ("post", "/api/v1/units/u2/cases/{sid2}/verify", {}, 403, "other_unit"),
    ("get", "/api/v1/units/u1/cases/999-0", None, 404, "unknown_case"),
    ("get", "/api/v1/units/u1/cases/nonsense", None, 404, "unknown_case"),
    ("post", "/api/v1/units/u1/cases/{sid1}/close", {}, 404, None),
    ("post", "/api/v1/units/u1/cases/{sid1}/explain", {"reply": "x" * 1001}, 422, "too_long"),
    ("post", "/api/v1/units/ghost/cases/1-0/verify", {}, 404, "unknown_unit"),
])
def test_bad_case_requests_get_clear_errors(two, method, url, body, status, code):
    h = two
    url = url.format(sid1=h.bad[0].rsplit(".", 1)[1], sid2=h.other.rsplit(".", 1)[1])
    resp = getattr(h.client, method)(url, headers=h.m1, **({"json": body} if body is not None else {}))
    assert resp.status_code == status
    if code:
        assert resp.json["error"]["code"] == code


def test_roles(two):
    h = two
    scorer = h.key("scorer")
    assert h.client.get("/api/v1/cases", headers=h.admin).status_code == 200
    assert h.client.get("/api/v1/cases", headers=scorer).status_code == 403
    assert h.client.post(path(h.bad[0], "verify"), headers=h.admin, json={}).status_code == 403
    assert h.client.post(f"/api/v1/ratings/{h.bad[0]}/appeal", headers=h.admin,
                         json={"reason": "x"}).status_code == 403
    assert h.client.post(f"/api/v1/appeals/{h.bad[0]}", headers=h.m1,
                         json={"decision": "uphold", "note": "x"}).status_code == 403


def test_an_appeal_upheld_by_the_office_takes_the_tap_out(two):
    h = two
    score = lambda: h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json  # noqa: E731
    assert score()["counts"]["1"] == 1 and score()["n"] == 4
    resp = h.client.post(f"/api/v1/ratings/{h.bad[0]}/appeal", headers=h.m1, json={"reason": "工作人员误点"})
    assert resp.status_code == 201 and resp.json["state"] == "pending"
    again = h.client.post(f"/api/v1/ratings/{h.bad[0]}/appeal", headers=h.m1, json={"reason": "again"})
    assert again.status_code == 409 and again.json["error"]["code"] == "appeal_exists"
    assert h.client.post(f"/api/v1/ratings/{h.other}/appeal", headers=h.m1,
                         json={"reason": "x"}).status_code == 403
    empty = h.client.post(f"/api/v1/ratings/{h.bad[1]}/appeal", headers=h.m1, json={"reason": " "})
    assert empty.status_code == 422 and empty.json["error"]["code"] == "missing_reason"
    queue = h.client.get("/api/v1/appeals?state=pending", headers=h.admin).json["appeals"]
    assert [a["rating_id"] for a in queue] == [h.bad[0]] and queue[0]["reason"] == "工作人员误点"
    no_note = h.client.post(f"/api/v1/appeals/{h.bad[0]}", headers=h.admin, json={"decision": "uphold"})
    assert no_note.status_code == 422
    resp = h.client.post(f"/api/v1/appeals/{h.bad[0]}", headers=h.admin,
                         json={"decision": "uphold", "note": "调取录像核实为误触"})
    assert resp.status_code == 200 and resp.json["state"] == "upheld" and resp.json["taken_out"]
    assert score()["counts"]["1"] == 0 and score()["n"] == 3
    case = h.client.get(path(h.bad[0]), headers=h.m1).json
    assert case["state"] == "void" and case["void_reason"] == "appeal" and case["appeal"] == "upheld"
    assert h.client.get("/api/v1/appeals?state=pending", headers=h.admin).json["appeals"] == []
    assert [f["action"] for _, f in h.r.xrange("rs:audit")][-2:] == ["appeal.file", "appeal.uphold"]


def test_rates_by_the_national_definitions(two, clock):
    h = two
    b0, b1, b2 = h.bad
    appealed = h.client.post(f"/api/v1/ratings/{b2}/appeal", headers=h.m1, json={"reason": "恶意"})
    assert appealed.status_code == 201
    for rid in (b0, b1):
        assert h.client.post(path(rid, "verify"), headers=h.m1, json={}).status_code == 200
    h.client.post(path(b0, "rectify"), headers=h.m1, json={"cause": "c", "act": "a", "reply": "r"})
    clock.advance(2 * 86400)
    from ratingsvc.cases import store
    policy = h.app.extensions["ratingsvc.cases"]
    store.step(h.r, policy, "u1", b0.rsplit(".", 1)[1], "followup", by="citizen",
               now_ms=int(clock() * 1000), followup=3)
    clock.advance(28 * 86400)  # b1 explained late: past its 15 working days
    h.client.post(path(b1, "explain"), headers=h.m1, json={"reply": "经核实无过错"})
    table = h.client.get("/api/v1/case-rates?period=p1", headers=h.admin).json
    u1 = next(u for u in table["units"] if u["unit"] == "u1")
    assert (u1["bad"], u1["replied"], u1["reply_rate"]) == (3, 2, round(2 / 3, 4))
    assert (u1["timely"], u1["rectify_rate"]) == (1, round(1 / 3, 4))
    assert (u1["followups"], u1["satisfied"], u1["satisfaction_rate"]) == (1, 0, 0.0)
    assert u1["overdue"] == 1 and u1["appeals"] == 1 and u1["upheld"] == 0
    assert u1["median_verify_days"] == 0.0 and u1["median_close_days"] == 2.0
    u2 = next(u for u in table["units"] if u["unit"] == "u2")
    assert u2["bad"] == 1 and u2["reply_rate"] == 0.0 and u2["satisfaction_rate"] is None
    assert table["categories"]["c1"]["bad"] == 4
    rows = list(csv.reader(io.StringIO(h.client.get("/api/v1/case-rates?period=p1&format=csv",
                                                    headers=h.admin).text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["unit", "name", "category", "bad"] and rows[1][0] == "u1" and rows[1][3] == "3"
    mine = h.client.get("/api/v1/case-rates?period=p1", headers=h.m1).json["units"]
    assert [u["unit"] for u in mine] == ["u1"]


def test_the_cached_table_follows_every_change_of_cases_and_appeals(two):
    """The score table keeps each unit's cases between reads (rates.CasesCache) until the unit's
    case version moves: a new 差评, a step, an appeal and its decision each show at once."""
    h = two

    def u1():
        units = h.client.get("/api/v1/scores?period=p1", headers=h.admin).json["units"]
        return next(u for u in units if u["unit"] == "u1")["cases"]

    assert u1()["bad"] == 3 and u1()["replied"] == 0
    h.client.post(path(h.bad[0], "explain"), headers=h.m1, json={"reply": "已说明"})
    assert u1()["replied"] == 1
    tap_from(h, h.w1, level=1)
    assert u1()["bad"] == 4
    h.client.post(f"/api/v1/ratings/{h.bad[1]}/appeal", headers=h.m1, json={"reason": "误触"})
    assert u1()["appeals"] == 1
    h.client.post(f"/api/v1/appeals/{h.bad[1]}", headers=h.admin, json={"decision": "uphold", "note": "属实"})
    assert (u1()["upheld"], u1()["bad"]) == (1, 3)
    cache = h.app.extensions["ratingsvc.cases_cache"]
    assert any(key[0] == "u1" for key in cache.entries)


def test_cached_rates_follow_the_clock_across_a_deadline(two, clock):
    """Nothing changes in Redis, but a deadline passes: the kept rates (valid until the next
    deadline of their cases) are worked out again, overdue now."""
    h = two

    def rates():
        body = h.client.get("/api/v1/scores?period=p1", headers=h.admin).json
        u1 = next(u for u in body["units"] if u["unit"] == "u1")
        return u1["cases"]["overdue"], body["categories"]["c1"]["cases"]["overdue"]

    assert rates() == (0, 0) and rates() == (0, 0)  # the second from the cache
    clock.advance(3 * 86400)  # past the verify deadline of every case
    assert rates() == (3, 4)
