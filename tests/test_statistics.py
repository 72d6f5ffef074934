"""Statistics by the national definitions on a known data set: per window, unit and category,
all channels and each, as JSON, CSV and .xlsx; the scores' CSV carries them too."""

from __future__ import annotations

import csv
import io

from tests.test_sheets import book
from tests.test_visits import HEADERS, offline, rate


def poster(h, window, level):
    phone = h.rater()
    ticket = phone.get(f"/api/v1/scan/{h.token(window)}", headers=HEADERS).json["ticket"]
    h.clock.advance(5)
    resp = phone.post("/api/v1/ratings", json={"ticket": ticket, "level": level}, headers=HEADERS)
    assert resp.status_code == 201


def stats(h, **query):
    resp = h.client.get("/api/v1/statistics", headers=h.admin, query_string={"period": "p1", **query})
    assert resp.status_code == 200, resp.json
    return resp


def data(hall):
    """u1: window A poster 5 and 1, a visit token's 4; window B poster 3; u2: window C poster 2."""
    poster(hall, hall.a, 5)
    poster(hall, hall.a, 1)
    assert rate(hall, offline(hall, hall.a, 1), 4)[1].status_code == 201
    poster(hall, hall.b, 3)
    poster(hall, hall.c, 2)


def test_statistics_per_window_unit_and_category(hall):
    data(hall)
    rows = [{"window": hall.a.id, "day": "2026-06-01", "services": 10},
            {"window": hall.b.id, "day": "2026-06-01", "services": 5},
            {"window": hall.c.id, "day": "2026-06-01", "services": 4}]
    assert hall.client.post("/api/v1/volumes", headers=hall.admin, json={"rows": rows}).status_code == 200

    windows = {row["window"]: row["channels"] for row in stats(hall, by="window", category="c1").json["rows"]}
    a = windows[hall.a.id]
    assert list(a) == ["all", "poster", "visit"]
    assert a["all"] == {"counts": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1}, "pending": 0, "volume": 10,
                        "rated": 3, "good_rate": 0.6667, "bad_rate": 0.3333, "participation": 0.3,
                        "unrated": 0.7}
    assert (a["poster"]["rated"], a["poster"]["good_rate"], a["poster"]["participation"]) == (2, 0.5, 0.2)
    assert (a["visit"]["rated"], a["visit"]["participation"]) == (1, 0.1)
    assert windows[hall.b.id]["all"]["unrated"] == 0.8 and windows[hall.c.id]["all"]["bad_rate"] == 1.0

    units = {row["unit"]: row["channels"]["all"] for row in stats(hall, by="unit").json["rows"]}
    assert (units["u1"]["rated"], units["u1"]["volume"], units["u1"]["good_rate"]) == (4, 15, 0.75)
    assert (units["u1"]["participation"], units["u1"]["unrated"]) == (0.2667, 0.7333)
    [c1] = stats(hall, by="category").json["rows"]
    assert c1["channels"]["all"]["rated"] == 5 and c1["channels"]["all"]["volume"] == 19
    assert (c1["channels"]["all"]["good_rate"], c1["channels"]["all"]["participation"]) == (0.6, 0.2632)
    assert c1["channels"]["visit"]["rated"] == 1 and c1["channels"]["poster"]["rated"] == 4

    # the same in a workbook: Chinese headings, a line per row and channel, numbers as numbers
    sheet = book(stats(hall, by="window", unit="u1", format="xlsx"))
    assert sheet[0][:8] == ["类别", "单位编号", "单位名称", "窗口编号", "窗口名称", "渠道", "办件量",
                            "评价数"]
    lines = {(r[3], r[5]): r for r in sheet[1:]}
    both = lines[(hall.a.id, "全部渠道")]
    assert both[6:8] == [10, 3] and both[-2:] == [0.3, 0.7]
    assert lines[(hall.a.id, "办件评价码")][7] == 1 and (hall.b.id, "办件评价码") not in lines
    text = stats(hall, by="category", format="csv").data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1][:2] == ["类别c1", ""]

    # the scores' CSV: volume, the rates and the taps per channel
    scores = hall.client.get("/api/v1/scores?period=p1&format=csv", headers=hall.admin)
    u1 = next(r for r in csv.DictReader(io.StringIO(scores.data.decode("utf-8-sig"))) if r["unit"] == "u1")
    assert (u1["volume"], u1["participation"], u1["channel_poster"], u1["channel_visit"]) == (
        "15", "0.2667", "3", "1")


def test_by_window_needs_a_scope_and_bad_input_is_a_clear_error(hall):
    resp = hall.client.get("/api/v1/statistics?period=p1&by=window", headers=hall.admin)
    assert resp.status_code == 400 and resp.json["error"]["code"] == "scope_required"
    assert hall.client.get("/api/v1/statistics?period=p1&by=day", headers=hall.admin).status_code == 400
    assert hall.client.get("/api/v1/statistics?period=nope", headers=hall.admin).status_code == 404
    assert hall.client.get("/api/v1/statistics?period=p1&unit=zz", headers=hall.admin).status_code == 404
    assert hall.client.get("/api/v1/statistics?period=p1").status_code == 401


def test_the_report_says_each_categorys_statistics(hall):
    poster(hall, hall.a, 5)
    poster(hall, hall.a, 1)
    assert rate(hall, offline(hall, hall.a, 1), 4)[1].status_code == 201
    hall.client.post("/api/v1/volumes", headers=hall.admin,
                     json={"rows": [{"window": hall.a.id, "day": "2026-06-01", "services": 12}]})
    page = hall.client.get("/api/v1/periods/p1/report?format=html", headers=hall.admin).get_data(as_text=True)
    assert "办件量 12，有效评价 3 条：好评率 66.7%，差评率 33.3%，参评率 25.0%，未评率 75.0%。" in page
    assert "按渠道：窗口二维码 2 条，办件评价码 1 条。" in page
    text = hall.client.get("/api/v1/periods/p1/report?format=csv", headers=hall.admin).data
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    u1 = next(r for r in rows if r["unit"] == "u1")
    assert (u1["volume"], u1["participation"], u1["unrated"]) == ("12", "0.25", "0.75")
    [c1] = hall.client.get("/api/v1/periods/p1/report", headers=hall.admin).json["categories"]
    assert list(c1["statistics"]) == ["all", "poster", "visit"] and c1["statistics"]["all"]["volume"] == 12
