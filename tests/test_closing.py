"""Closing a period: frozen, exported with a digest chain, and verifiable by anyone."""

from __future__ import annotations

import json

import pytest

from tests.conftest import START
from tests.helpers import Helper, tap_from


@pytest.fixture
def ph(config, r, clock, tmp_path):
    """Period p1 is the first of June; taps on it: counted, duplicate, held then rejected,
    held then released; the export goes to tmp_path."""
    from ratingsvc import create_app

    h = Helper(create_app({**config, "EXPORT_DIR": str(tmp_path), "RULE_MIN_TAP_MS": 800}), r, clock)
    h.tmp = tmp_path
    h.period("p1", "2026-05-01", "2026-06-01")
    a, b = h.window("u1", "A"), h.window("u2", "B")
    phone = h.rater()
    tap_from(h, a, level=5, rater=phone)
    tap_from(h, a, level=5, rater=phone)  # duplicate
    rejected = tap_from(h, a, level=1, wait=0.1).json["rating_id"]
    released = tap_from(h, b, level=2, wait=0.1).json["rating_id"]
    tap_from(h, b, level=4)
    for rid, action in [(rejected, "reject"), (released, "release")]:
        h.client.post(f"/api/v1/review/{rid}", headers=h.admin, json={"action": action, "why": "x"})
    h.a, h.b, h.phone = a, b, phone
    return h


def close(h):
    return h.client.post("/api/v1/periods/p1/close", headers=h.admin)


def test_a_running_period_cannot_be_closed(ph):
    resp = close(ph)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "period_running"
    assert ph.client.get("/api/v1/periods/p1/result", headers=ph.admin).status_code == 409


def test_closing_freezes_the_scores(ph, clock):
    clock.advance(86400)  # 2 June: p1 is over
    before = ph.client.get("/api/v1/scores?period=p1", headers=ph.admin).json["units"]
    resp = close(ph)
    assert resp.status_code == 201 and resp.json["taps"] == 5 and len(resp.json["digest"]) == 64
    assert close(ph).status_code == 409
    tap_from(ph, ph.a, level=1)  # after the end, and a late release: nothing moves
    scores = ph.client.get("/api/v1/scores?period=p1", headers=ph.admin).json
    assert scores["frozen"] is True and scores["digest"] == resp.json["digest"]
    frozen = {u["unit"]: (u["n"], u["pending"], u["rejected"], u["counts"]) for u in scores["units"]}
    assert frozen == {"u1": (1, 0, 1, {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}),
                      "u2": (2, 0, 0, {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0})}
    assert [u["n"] for u in before] == [1, 2]
    result = ph.client.get("/api/v1/periods/p1/result", headers=ph.key("scorer"))
    assert result.status_code == 200 and result.json["digest"] == resp.json["digest"]


def test_the_export_has_every_tap_with_its_final_status_and_no_raw_identifier(ph, clock):
    clock.advance(86400)
    close(ph)
    with ph.client.get("/api/v1/periods/p1/export", headers=ph.admin) as resp:
        assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson"
        text = resp.data.decode()
    lines = [json.loads(line) for line in text.splitlines()]
    (opened,) = [t for t in lines if t.get("kind") == "case"]  # the released 差评's case
    assert (opened["unit"], opened["action"], opened["to"], opened["level"]) == ("u2", "open", "new", 2)
    lines = [t for t in lines if "kind" not in t]
    assert [(t["unit"], t["level"], t["status"]) for t in lines] == [
        ("u1", 5, "counted"), ("u1", 5, "duplicate"), ("u1", 1, "rejected"),
        ("u2", 2, "counted"), ("u2", 4, "counted")]
    assert set(lines[0]) == {"time", "unit", "window", "level", "status", "rater", "id", "chain"}
    device = ph.signing.read_device_cookie(ph.phone.get_cookie("rs_dev").value)
    assert device and device not in text  # the phone's id is nowhere, only its keyed hash
    assert lines[0]["rater"] == ph.signing.person_hash("device", device)


def test_verify_passes_and_catches_a_changed_line(ph, clock, runner):
    clock.advance(86400)
    close(ph)
    export = ph.tmp / "p1.jsonl"
    ok = runner.invoke(["verify", str(export)])
    assert ok.exit_code == 0 and "OK: 5 taps, 2 units" in ok.output
    lines = export.read_text().splitlines()
    changed = json.loads(lines[3])
    changed["level"] = 5  # someone makes a 2 into a 5 for u2
    lines[3] = json.dumps(changed, ensure_ascii=False, sort_keys=True)
    export.write_text("\n".join(lines) + "\n")
    bad = runner.invoke(["verify", str(export)])
    assert bad.exit_code != 0
    assert "line 4 (unit u2): the chain breaks here" in bad.output
    assert "unit u2: counts" in bad.output and "line 5" not in bad.output


def test_verify_catches_a_removed_line(ph, clock, runner):
    clock.advance(86400)
    close(ph)
    export = ph.tmp / "p1.jsonl"
    lines = export.read_text().splitlines()
    export.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    bad = runner.invoke(["verify", str(export)])
    assert bad.exit_code != 0 and "line 3 (unit u2)" in bad.output and "taps: 4 in the export" in bad.output


def test_the_command_line_closes_too(ph, runner, tmp_path):
    # The command's app runs on the real clock, which is long past June 2026.
    out = tmp_path / "cli"
    result = runner.invoke(["periods", "close", "p1"], env={"RATINGSVC_EXPORT_DIR": str(out)})
    assert result.exit_code == 0 and "closed p1: 5 taps" in result.output
    assert (out / "p1.jsonl").exists() and (out / "p1.result.json").exists()
    assert runner.invoke(["verify", str(out / "p1.jsonl")]).exit_code == 0
    again = runner.invoke(["periods", "close", "p1"], env={"RATINGSVC_EXPORT_DIR": str(out)})
    assert again.exit_code != 0 and "closed already" in again.output


def test_the_score_table_is_what_its_schema_would_dump_live_and_frozen(ph, clock):
    """The table is written by orjson, not marshmallow (it is 40 times faster for 10,000
    units); the API description's schema still describes it, field for field."""
    from ratingsvc import periods
    from ratingsvc.schemas import ScoresSchema
    from ratingsvc.views.scores import compute

    def both():
        answer = ph.client.get("/api/v1/scores?period=p1", headers=ph.admin)
        with ph.app.app_context():
            dumped = ScoresSchema().dump(compute(periods.get_period(ph.r, "p1")))
        return answer.json, dumped

    live, dumped = both()
    assert "frozen" not in live and live["units"] and live == dumped
    clock.advance(86400)
    assert close(ph).status_code == 201
    frozen, dumped = both()
    assert frozen["frozen"] is True and frozen == dumped


def test_the_export_downloads_with_the_default_relative_export_dir(config, r, clock, tmp_path,
                                                                    monkeypatch):
    """RATINGSVC_EXPORT_DIR's default is relative ("var/exports"): it is resolved once, against
    the working directory at start, and both closing and the download use that folder."""
    from ratingsvc import create_app
    from ratingsvc.settings import defaults

    monkeypatch.chdir(tmp_path)
    relative = defaults()["EXPORT_DIR"]
    assert not relative.startswith("/")
    h = Helper(create_app({**config, "EXPORT_DIR": relative}), r, clock)
    h.period("p1", "2026-05-01", "2026-06-01")
    tap_from(h, h.window("u1", "A"), level=5)
    clock.advance(86400)
    assert close(h).status_code == 201
    assert (tmp_path / relative / "p1.jsonl").exists()
    with h.client.get("/api/v1/periods/p1/export", headers=h.admin) as resp:
        assert resp.status_code == 200, resp.data[:200]
        assert [json.loads(line)["unit"] for line in resp.data.decode().splitlines()] == ["u1"]
    monkeypatch.chdir("/")  # a later change of directory moves nothing
    with h.client.get("/api/v1/periods/p1/export", headers=h.admin) as resp:
        assert resp.status_code == 200


def test_a_result_closed_before_rejected_taps_were_counted_apart_still_serves(ph, clock):
    """A result stored with "held" (pending and rejected together) is shown with that as
    pending and rejected unknown (null); its report still renders."""
    from ratingsvc import rkeys

    clock.advance(86400)
    close(ph)
    stored = json.loads(ph.r.hget(rkeys.CLOSED, "p1"))
    for unit in stored["units"]:
        unit["held"] = unit.pop("pending") + unit.pop("rejected")
    ph.r.hset(rkeys.CLOSED, "p1", json.dumps(stored, ensure_ascii=False))
    units = ph.client.get("/api/v1/scores?period=p1", headers=ph.admin).json["units"]
    assert [(u["unit"], u["pending"], u["rejected"]) for u in units] == [("u1", 1, None), ("u2", 0, None)]
    page = ph.client.get("/api/v1/periods/p1/report?format=html", headers=ph.admin)
    assert page.status_code == 200 and "已剔除" in page.data.decode()
    assert ph.client.get("/api/v1/periods/p1/report?format=csv", headers=ph.admin).status_code == 200


def test_a_period_closes_only_once_its_last_taps_can_no_longer_change(ph, clock):
    """A tap at 23:59:30 on the last day may change its level until 00:01:30: closing before
    00:02:00 (RATING_CHANGE_SECONDS after midnight) would freeze a count that still moves."""
    midnight = START + 86400 - 10 * 3600  # 2 June 00:00, Asia/Shanghai
    clock.advance(midnight - 30 - clock())  # 1 June 23:59:30
    phone = ph.rater()
    rid = tap_from(ph, ph.a, level=1, rater=phone).json["rating_id"]
    clock.advance(40)  # 00:00:10
    resp = close(ph)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "period_running"
    assert "2026-06-02T00:02:00+08:00" in resp.json["error"]["message"]
    assert phone.post(f"/api/v1/ratings/{rid}/level", json={"level": 5}).json["status"] == "changed"
    clock.advance(120 - 10)  # 00:02:00
    assert close(ph).status_code == 201
    units = ph.client.get("/api/v1/scores?period=p1", headers=ph.admin).json["units"]
    assert units[0]["counts"]["5"] == 2 and units[0]["counts"]["1"] == 0  # the change is in


def test_a_missing_export_file_is_a_404_that_says_so(ph, clock):
    clock.advance(86400)
    close(ph)
    (ph.tmp / "p1.jsonl").unlink()
    resp = ph.client.get("/api/v1/periods/p1/export", headers=ph.admin)
    assert resp.status_code == 404 and resp.json["error"]["code"] == "export_missing"
    assert "导出文件" in resp.json["error"]["message"]


@pytest.mark.parametrize("field,value", [("level", 7), ("level", 0), ("level", "5"), ("to", 9)])
def test_verify_refuses_a_level_out_of_range_as_not_a_line_of_an_export(ph, clock, runner, field, value):
    clock.advance(86400)
    close(ph)
    export = ph.tmp / "p1.jsonl"
    lines = export.read_text().splitlines()
    bad = json.loads(lines[0])
    if field == "to":  # a change line: its target level
        bad.update(kind="change", of=bad["id"], **{"from": bad.pop("level"), "to": value})
    else:
        bad[field] = value
    lines[0] = json.dumps(bad, ensure_ascii=False)
    export.write_text("\n".join(lines) + "\n")
    result = runner.invoke(["verify", str(export)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "line 1: not a tap of an export" in result.output


def test_verify_checks_the_case_steps(ph, clock, runner):
    """A changed case line breaks the chain; one forged with the chain and digest made again
    still shows: the step does not fit its case, and the case rates differ from the result."""
    from ratingsvc import closing

    unit, sid = ph.client.get("/api/v1/cases", headers=ph.admin).json["cases"][0]["rating_id"].split(".")
    m = ph.key("manager", ("u2",))
    base = f"/api/v1/units/{unit}/cases/{sid}"
    assert ph.client.post(f"{base}/verify", headers=m, json={}).status_code == 200
    assert ph.client.post(f"{base}/explain", headers=m, json={"reply": "经核实无过错"}).status_code == 200
    clock.advance(86400)
    assert close(ph).status_code == 201
    result = ph.client.get("/api/v1/periods/p1/result", headers=ph.admin).json
    u2 = next(u for u in result["units"] if u["unit"] == "u2")
    assert u2["cases"]["replied"] == 1 and u2["excluded"] == 0
    assert result["case_categories"]["c1"]["bad"] == 1
    export = ph.tmp / "p1.jsonl"
    ok = runner.invoke(["verify", str(export)])
    assert ok.exit_code == 0, ok.output
    lines = export.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if '"action": "explain"' in line)
    step = json.loads(lines[n])
    step["reply"] = "（改过的答复）"
    lines[n] = json.dumps(step, ensure_ascii=False, sort_keys=True)
    export.write_text("\n".join(lines) + "\n")
    bad = runner.invoke(["verify", str(export)])
    assert bad.exit_code != 0 and f"line {n + 1} (unit u2): the chain breaks here" in bad.output
    # forged: the explanation turned into a verification again, chain and digest made anew
    step = json.loads(lines[n])
    step.update({"action": "verify", "to": "verified"})
    lines[n] = json.dumps(step, ensure_ascii=False, sort_keys=True)
    chain, again = closing.chain_start("p1"), []
    for line in lines:
        body = json.loads(line)
        body.pop("chain")
        chain = closing.chained(chain, closing.line_body(body))
        again.append(closing.line_body({**body, "chain": chain}))
    stored = json.loads((ph.tmp / "p1.result.json").read_text())
    problems = closing.verify(again, {**stored, "digest": chain})
    assert any(f"line {n + 1}: case {sid}" in p for p in problems), problems
