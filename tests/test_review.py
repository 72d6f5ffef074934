"""The review queue: held taps listed by window and reason; release or reject, audited."""

from __future__ import annotations

import pytest

from ratingsvc import registry
from ratingsvc.timeutil import iso_time
from tests.helpers import tap_from


@pytest.fixture
def held(rules):
    """u1 with windows A and B; A has 2 taps held for automation, B 1 outside its hours."""
    h = rules(RULE_MIN_TAP_MS=800, RULE_LATE_TICKET=900)
    h.period("p1")
    a, b = h.window(name="A"), h.window(name="B")
    registry.update_window(h.r, a.id, hours={"days": [1, 2, 3, 4, 5], "open": ["08:00-18:00"]})
    registry.update_window(h.r, b.id, hours={"days": [6, 7], "open": ["08:00-12:00"]})  # closed today
    h.counted = tap_from(h, a, level=4).json["rating_id"]
    h.ids = [tap_from(h, a, level=1, wait=0.1).json["rating_id"],
             tap_from(h, a, level=2, wait=0.1).json["rating_id"],
             tap_from(h, b, level=5, wait=1000).json["rating_id"]]
    h.a, h.b = a, b
    return h


def score(h):
    u = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    return u["n"], u["pending"], u["counts"]


def test_the_queue_lists_held_taps_by_window_and_reason(held):
    h = held
    q = h.client.get("/api/v1/review", headers=h.admin).json
    assert [t["rating_id"] for t in q["taps"]] == h.ids
    assert q["taps"][0]["reasons"] == ["automation"] and q["taps"][0]["window"] == h.a.id
    assert q["by_window_and_reason"] == [
        {"unit": "u1", "window": h.a.id, "reason": "automation", "count": 2},
        {"unit": "u1", "window": h.b.id, "reason": "hours", "count": 1}]
    only_b = h.client.get(f"/api/v1/review?window={h.b.id}", headers=h.admin).json["taps"]
    assert [t["rating_id"] for t in only_b] == h.ids[2:]
    late = h.client.get("/api/v1/review?unit=u1&reason=hours", headers=h.admin).json["taps"]
    assert [t["rating_id"] for t in late] == h.ids[2:]
    assert h.client.get("/api/v1/review?unit=ghost", headers=h.admin).status_code == 404


def test_release_counts_the_tap_from_then_on_and_is_audited(held, clock):
    h = held
    assert score(h) == (1, 3, {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0})
    clock.advance(86400)  # decided the next day
    resp = h.client.post(f"/api/v1/review/{h.ids[0]}", headers=h.admin,
                         json={"action": "release", "why": "家属代评，已核实"})
    assert resp.status_code == 200 and resp.json["status"] == "released"
    assert score(h) == (2, 2, {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0})
    again = h.client.post(f"/api/v1/review/{h.ids[0]}", headers=h.admin,
                          json={"action": "reject", "why": "changed my mind"})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_decided"
    assert [t["rating_id"] for t in h.client.get("/api/v1/review", headers=h.admin).json["taps"]] \
        == h.ids[1:]
    log = h.r.xrange(registry.UnitKeys("u1").log)
    tap_id, tap = next((sid, e) for sid, e in log if h.ids[0].endswith(sid))
    assert tap["s"] == "held"  # the tap itself is never changed or deleted
    decision, opened = log[-2][1], log[-1][1]
    assert (decision["k"], decision["a"], decision["why"]) == ("review", "release", "家属代评，已核实")
    assert (opened["k"], opened["a"], opened["of"]) == ("case", "open", tap_id)  # a released 差评
    made = h.client.get("/api/v1/review/decisions", headers=h.admin).json
    assert len(made) == 1 and made[0]["rating_id"] == h.ids[0] and made[0]["name"] == "test admin"
    assert made[0]["time"] == iso_time(clock() * 1000, "Asia/Shanghai")
    assert made[0]["decision"] == resp.json["decision"]
    assert made[0]["held"] == {"window": h.a.id, "level": 1, "reasons": ["automation"],
                               "time": "2026-06-01T10:00:05+08:00"}  # START + 5.1 s


def test_reject_keeps_the_tap_out(held):
    h = held
    resp = h.client.post(f"/api/v1/review/{h.ids[2]}", headers=h.admin,
                         json={"action": "reject", "why": "ticket used 17 minutes after the scan"})
    assert resp.status_code == 200 and resp.json["status"] == "rejected"
    assert score(h) == (1, 2, {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0})  # pending: 2 (rejected: 1)
    assert len(h.client.get("/api/v1/review", headers=h.admin).json["taps"]) == 2


@pytest.mark.parametrize(("target", "body", "status"), [
    ("ghost.1-0", {"action": "release", "why": "x"}, 404), ("junk", {"action": "release", "why": "x"}, 404),
    ("COUNTED", {"action": "release", "why": "x"}, 404), ("HELD", {"action": "delete", "why": "x"}, 400),
    ("HELD", {"action": "release"}, 400), ("HELD", {"action": "release", "why": ""}, 400)])
def test_bad_decisions(held, target, body, status):
    rid = {"COUNTED": held.counted, "HELD": held.ids[0]}.get(target, target)
    assert held.client.post(f"/api/v1/review/{rid}", headers=held.admin, json=body).status_code == status


@pytest.mark.parametrize("role", ["scorer", "manager"])
def test_only_admins_review(held, role):
    key = held.key(role, ("u1",) if role == "manager" else ())
    assert held.client.get("/api/v1/review", headers=key).status_code == 403
    resp = held.client.post(f"/api/v1/review/{held.ids[0]}", headers=key,
                            json={"action": "release", "why": "x"})
    assert resp.status_code == 403


def test_cached_period_counts_are_the_computed_ones_through_days_releases_and_renames(held, clock):
    """scoring.CountsCache reuses a unit's counts while its totals read the same."""
    from datetime import date

    from ratingsvc import scoring

    h, cache = held, scoring.CountsCache()
    spans = [(date(2026, 5, 1), date(2026, 12, 31)), (date(2026, 6, 1), date(2026, 6, 1)),
             (date(2026, 6, 2), date(2026, 6, 30)), (date(2026, 6, 3), date(2026, 6, 3))]

    def same() -> list:
        out = []
        for start, end in spans:
            cached = scoring.period_counts(h.r, ["u1"], start, end, cache)
            assert cached == scoring.period_counts(h.r, ["u1"], start, end)
            out.append(cached[0].counts + [cached[0].pending, cached[0].rejected])
        return out

    first = same()
    assert same() == first  # from the cache now
    clock.advance(86400)  # 2 June: a release counts on its own day, not on the tap's
    release = {"action": "release", "why": "核实"}
    assert h.client.post(f"/api/v1/review/{h.ids[0]}", headers=h.admin, json=release).status_code == 200
    second = same()
    assert second[0] != first[0] and second[1] == first[1] and second[2] != first[2]
    assert tap_from(h, h.a, level=3).status_code == 201
    clock.advance(86400)  # 3 June
    reject = {"action": "reject", "why": "x"}
    assert h.client.post(f"/api/v1/review/{h.ids[1]}", headers=h.admin, json=reject).status_code == 200
    same()
    registry.save_unit(h.r, registry.Unit("u1", "改名后的单位", "c1", active=False), create=False)
    [renamed] = scoring.period_counts(h.r, ["u1"], *spans[0], cache)
    assert (renamed.name, renamed.active) == ("改名后的单位", False)
    same()


def test_a_rejected_tap_is_rejected_not_pending_everywhere(rules):
    """Held, then rejected: pending 0 and rejected 1 in the scores (JSON and CSV), the report
    (JSON, CSV and the page) and the feed, which says the tap was rejected."""
    import csv
    import io

    h = rules(RULE_MIN_TAP_MS=800)
    h.period("p1")
    rid = tap_from(h, h.window(), level=1, wait=0.1).json["rating_id"]  # automation: held
    pending = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (pending["pending"], pending["rejected"]) == (1, 0)
    resp = h.client.post(f"/api/v1/review/{rid}", headers=h.admin, json={"action": "reject", "why": "x"})
    assert resp.status_code == 200
    assert h.client.get("/api/v1/review", headers=h.admin).json["taps"] == []

    def rows(path: str) -> list[dict]:
        text = h.client.get(path, headers=h.admin).data.decode().lstrip("\ufeff")
        return list(csv.DictReader(io.StringIO(text)))

    [unit] = h.client.get("/api/v1/scores?period=p1", headers=h.admin).json["units"]
    assert (unit["n"], unit["pending"], unit["rejected"]) == (0, 0, 1) and "held" not in unit
    [row] = rows("/api/v1/scores?period=p1&format=csv")
    assert (row["pending"], row["rejected"]) == ("0", "1")
    report = h.client.get("/api/v1/periods/p1/report", headers=h.admin).json
    [listed] = report["categories"][0]["insufficient"]
    assert (listed["pending"], listed["rejected"]) == (0, 1)
    [row] = rows("/api/v1/periods/p1/report?format=csv")
    assert (row["pending"], row["rejected"]) == ("0", "1")
    page = h.client.get("/api/v1/periods/p1/report?format=html", headers=h.admin).data.decode()
    assert "<th>待核</th><th>已剔除</th>" in page
    changes = h.client.get("/api/v1/scores/changes?period=p1", headers=h.admin).json["changes"]
    assert [c["kind"] for c in changes] == ["held", "reject"]
    assert (changes[-1]["score"]["pending"], changes[-1]["score"]["rejected"]) == (0, 1)
