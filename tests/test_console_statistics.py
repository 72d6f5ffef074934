"""The console's statistics page (the API's rows), its downloads, the import of volumes from a
file, the halls (their keys shown once), the category's poster policy and the kiosk link; and
in Chromium, the new pages as people see them: the console's, the kiosk's, a visit token's."""

from __future__ import annotations

import io
import re

from tests.console_helpers import PASSWORD, browser_login, shot
from tests.test_sheets import book
from tests.test_statistics import data
from tests.test_visits import offline, rate


def test_staff_read_the_statistics_and_import_volumes_from_a_file(console, hall):
    data(hall)
    staff = console.as_role("staff")
    page = staff.get("/console/statistics?by=unit")
    assert page.status_code == 200
    text = page.text
    assert "统计分析" in text and "参评率" in text and "全部渠道" in text and "办件评价码" in text
    assert text.count("—") >= 4  # no volumes yet: 参评率 and 未评率 are not known
    # a file as the office has it: GBK CSV with Chinese headings
    body = f"窗口编号,日期,办件量\n{hall.a.id},2026-06-01,10\n{hall.b.id},2026-06-01,5\n".encode("gb18030")
    token = console.token(staff, "/console/statistics")
    resp = staff.post("/console/statistics/volumes?by=unit", data={
        "csrf_token": token, "file": (io.BytesIO(body), "办件量.csv")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    after = staff.get(resp.headers["Location"]).text
    assert "已导入办件量" in after and "2 行" in after and "+15" in after
    assert "26.7%" in after and "73.3%" in after  # u1: 4 rated of 15 services
    assert "volumes.import" in console.audit_actions()
    # one bad row: nothing is written, and the page says which line
    bad = f"窗口编号,日期,办件量\n{hall.a.id},2026-06-02,7\n{hall.b.id},昨天,5\n".encode()
    resp = staff.post("/console/statistics/volumes", data={
        "csrf_token": token, "file": (io.BytesIO(bad), "bad.csv")},
        content_type="multipart/form-data")
    assert resp.status_code == 400 and "第 3 行" in resp.text and "未导入任何内容" in resp.text
    api = hall.client.get("/api/v1/statistics?period=p1&by=unit&unit=u1", headers=hall.admin).json
    assert api["rows"][0]["channels"]["all"]["volume"] == 15

    # by window needs a category; its workbook is the API's
    assert "请指定类别" in staff.get("/console/statistics?by=window").text
    sheet = book(staff.get("/console/statistics.xlsx?period=p1&by=window&category=c1"))
    api_sheet = book(hall.client.get("/api/v1/statistics?period=p1&by=window&category=c1&format=xlsx",
                                     headers=hall.admin))
    assert sheet == api_sheet and len(sheet) > 4
    # managers do not see the table
    manager = console.as_role("manager", ["u1"])
    assert manager.get("/console/statistics").status_code == 403


def test_admins_keep_halls_and_see_a_key_once(console, hall):
    admin = console.as_role("admin")
    resp = console.post(admin, "/console/halls", {"name": "东区大厅", "windows": f"{hall.c.id}",
                                                  "valid_minutes": "120"})
    assert resp.status_code == 201 and "只显示这一次" in resp.text
    key = re.search(r"rsh_\d+_[A-Z2-7]+", resp.text)[0]
    listing = admin.get("/console/halls").text
    assert "东区大厅" in listing and "rsh_" not in listing
    assert re.findall(r'aria-current="page">([^<]+)<', listing) == ["办事大厅"]  # not 统计分析 too
    hid = int(key.split("_")[1])
    token = offline(hall, hall.c, 1, key=key)
    assert rate(hall, token)[1].status_code == 201  # the new hall's key signs for its window
    # a window of another hall is refused, with the reason
    resp = console.post(admin, f"/console/halls/{hid}", {"name": "东区大厅", "windows": f"{hall.a.id}",
                                                         "valid_minutes": "120", "active": "1"})
    assert resp.status_code == 400 and "已属于另一个办事大厅" in resp.text
    resp = console.post(admin, f"/console/halls/{hid}/key")
    assert resp.status_code == 200 and re.search(r"rsh_\d+_[A-Z2-7]+", resp.text)[0] != key
    assert rate(hall, offline(hall, hall.c, 2, key=key))[1].status_code == 404  # the old key stopped
    assert {"hall.create", "hall.key"} <= set(console.audit_actions())
    staff = console.as_role("staff")
    page = staff.get("/console/halls").text
    assert "东区大厅" in page and "新建办事大厅" not in page and "更换密钥" not in page
    assert console.post(staff, "/console/halls", {"name": "x"}).status_code == 403


def test_the_dashboard_names_the_halls_without_a_network(console, hall):
    staff = console.as_role("staff")
    page = staff.get("/console/dashboard").text
    assert 'id="no-network"' in page and "1 个办事大厅没有登记本大厅的网络" in page and "市民之家" in page
    resp = hall.client.patch(f"/api/v1/halls/{hall.hall['id']}", headers=hall.admin,
                             json={"networks": ["203.0.113.0/24"]})
    assert resp.status_code == 200, resp.json
    assert 'id="no-network"' not in staff.get("/console/dashboard").text


def test_the_category_form_sets_the_poster_policy(console, hall):
    admin = console.as_role("admin")
    assert "转入审核" in admin.get("/console/registry/categories/c1").text
    resp = console.post(admin, "/console/registry/categories/c1", {"name": "类别c1", "active": "1",
                                                                    "poster_taps": "hold"})
    assert resp.status_code == 302
    assert hall.client.get("/api/v1/categories", headers=hall.admin).json[0]["poster_taps"] == "hold"


def test_the_new_pages_in_chromium(browser, live, console, hall):
    """Screenshots to look at: the statistics, the halls, the kiosk idle and open, and a visit
    token's rating page at a phone's width."""
    data(hall)
    hall.client.post("/api/v1/volumes", headers=hall.admin, json={"rows": [
        {"window": hall.a.id, "day": "2026-06-01", "services": 10},
        {"window": hall.b.id, "day": "2026-06-01", "services": 5}]})
    console.account("boss", "admin", password=PASSWORD)
    tablet = "Mozilla/5.0 (Linux; Android 13; Tablet) AppleWebKit/537.36 Chrome/120 Safari/537.36"
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900}, user_agent=tablet)
    try:
        browser_login(page, live, "boss")
        page.goto(f"{live}/console/statistics?by=window&category=c1")
        assert "全部渠道" in page.inner_text("table")
        shot(page, "statistics-by-window")
        page.goto(f"{live}/console/halls")
        assert "市民之家" in page.content()
        shot(page, "halls")
        page.goto(f"{live}/console/dashboard")
        assert "市民之家" in page.inner_text("#no-network")
        shot(page, "dashboard-no-network")
        hall.client.patch(f"/api/v1/windows/{hall.a.id}", headers=hall.admin,
                          json={"hours": {"days": [1, 2, 3, 4, 5], "open": ["08:30-17:30"]}})
        page.goto(f"{live}/console/units/u1")
        assert "同本单位其他窗口" in page.inner_text("table")
        shot(page, "unit-sibling-hours")
        kiosk = hall.client.get(f"/api/v1/windows/{hall.a.id}/kiosk", headers=hall.admin).json["url"]
        code = kiosk.rsplit("/", 1)[1]
        page.set_viewport_size({"width": 1024, "height": 700})
        page.goto(f"{live}/K/{code}")
        page.wait_for_selector("#unit:has-text('单位u1')")
        shot(page, "kiosk-idle")
        hall.client.post(f"/api/v1/halls/{hall.hall['id']}/kiosk", headers=hall.hall_auth,
                         json={"window": hall.a.id})
        page.wait_for_selector("#ask:not([hidden])", timeout=10_000)
        shot(page, "kiosk-open")
        page.click("button[data-level='5']")
        page.wait_for_selector("#message:has-text('感谢')", timeout=10_000)
        assert page.is_hidden("#ask")
    finally:
        page.close()
    phone = browser.new_page(locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True,
                             user_agent="Mozilla/5.0 (Linux; Android 13) Mobile")
    try:
        token = offline(hall, hall.b, 7)
        phone.goto(f"{live}/V/{token}")
        phone.wait_for_selector("#faces:not([hidden])")
        assert "单位u1" in phone.inner_text("#unit")
        shot(phone, "visit-token-page")
        phone.click("#levels button >> nth=0")
        phone.wait_for_selector("#done:not([hidden])", timeout=10_000)
        shot(phone, "visit-token-thanks")
    finally:
        phone.close()
    row = hall.client.get("/api/v1/units/u1/score?period=p1", headers=hall.admin).json
    assert row["channels"]["kiosk"]["rated"] == 1 and row["channels"]["visit"]["rated"] == 2


def test_the_kiosk_solves_the_proof_of_work_when_it_is_on(browser, rules, clock):
    """With POW_BITS on, the kiosk's tap carries its answer (as the citizen page's does)."""
    import threading

    from werkzeug.serving import make_server

    from tests.console_helpers import Quiet

    h = rules(POW_BITS=8)
    h.period("p1", "2026-06-01", "2026-06-30")
    a = h.window("u1", "A")
    resp = h.client.post("/api/v1/halls", headers=h.admin, json={"name": "厅", "windows": [a.id]})
    auth = {"Authorization": f"Bearer {resp.json['key']}"}
    server = make_server("127.0.0.1", 0, h.app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tablet = "Mozilla/5.0 (Linux; Android 13; Tablet) AppleWebKit/537.36 Chrome/120 Safari/537.36"
    page = browser.new_page(locale="zh-CN", user_agent=tablet)
    try:
        url = h.client.get(f"/api/v1/windows/{a.id}/kiosk", headers=h.admin).json["url"]
        page.goto(f"http://127.0.0.1:{server.server_port}/K/{url.rsplit('/', 1)[1]}")
        page.wait_for_selector("#unit:has-text('单位u1')")
        h.client.post(f"/api/v1/halls/{resp.json['hall']['id']}/kiosk", headers=auth, json={"window": a.id})
        page.wait_for_selector("#ask:not([hidden])", timeout=10_000)
        clock.advance(3)
        page.click("button[data-level='4']")
        page.wait_for_selector("#message:has-text('感谢')", timeout=10_000)
    finally:
        page.close()
        server.shutdown()
    row = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert row["channels"]["kiosk"]["counts"]["4"] == 1
