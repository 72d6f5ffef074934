"""The window manager's pages: units, windows, posters, revoking, results, what citizens said;
and nothing of another unit by any URL or form field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ratingsvc import actions, comments, registry, unitstats
from ratingsvc.audit import Actor
from ratingsvc.rkeys import UnitKeys
from tests.console_helpers import browser_login, shot
from tests.test_posters import pdf_qr_codes, pdf_text

OFFICE_HOURS = {"days": [1, 2, 3, 4, 5], "open": ["09:00-17:00"]}


@pytest.fixture
def city(h):
    """Two units of two windows each, a period under way; the first window has opening hours."""
    h.unit("u1", name="蔡甸区政务服务中心")
    h.unit("u2", "c2", name="别的单位")
    h.w1 = registry.create_window(h.r, "u1", "综合受理窗口", OFFICE_HOURS)
    h.w2 = h.window("u1", "社保窗口")
    h.o1 = h.window("u2", "别人的窗口")
    h.period("p1", "2026-05-01", "2026-09-30")
    return h


def say(h, window, level: int, comment: str = "", tags=(), change_to: int | None = None):
    """A citizen taps, maybe changes the level, and gives a reason."""
    rater = h.rater()
    resp = h.tap(window, level, rater)
    rid = resp.json["rating_id"]
    if change_to is not None:
        assert rater.post(f"/api/v1/ratings/{rid}/level", json={"level": change_to}).status_code == 200
    h.clock.advance(10)
    resp = rater.post(f"/api/v1/ratings/{rid}/details", json={"tags": list(tags), "comment": comment})
    assert resp.status_code == 201, resp.json
    return rid


# The list --------------------------------------------------------------------------------
def test_a_manager_of_one_unit_goes_straight_to_it(city, console):
    client = console.as_role("manager", ["u1"])
    resp = client.get("/console/units")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/console/units/u1")


def test_a_manager_of_two_units_sees_only_those(city, console):
    city.unit("u3", name="第三个单位")
    client = console.as_role("manager", ["u1", "u3"])
    page = client.get("/console/units").text
    assert "蔡甸区政务服务中心" in page and "第三个单位" in page and "别的单位" not in page


def test_the_office_searches_filters_and_pages_a_city(h, console):
    for i in range(120):
        h.unit(f"x{i:03d}", "c1" if i % 2 else "c2", name=f"{'街道' if i < 60 else '局'}{i:03d}")
    client = console.as_role("staff")
    first = client.get("/console/units").text
    assert "共 120 个单位" in first and first.count("<tr>") == 51 and "第 1 / 3 页" in first
    last = client.get("/console/units?page=3").text
    assert last.count("<tr>") == 21 and "x119" in last and "x000" not in last
    assert client.get("/console/units?page=99").status_code == 200  # the last page
    found = client.get("/console/units?q=X007").text
    assert "共 1 个单位" in found and "街道007" in found
    by_name = client.get("/console/units?q=局").text
    assert "共 60 个单位" in by_name
    both = client.get("/console/units?q=局&category=c1").text
    assert "共 30 个单位" in both and "局061" in both and "局060" not in both


# A unit's windows ------------------------------------------------------------------------
def test_a_unit_page_shows_its_windows_codes_hours_and_taps_today(city, console):
    for level in (5, 4, 1):
        city.tap(city.w2, level, city.rater())
    actions.revoke_window(city.r, Actor("account", "x", "x", "-"), city.clock(), city.w1.id)
    registry.update_window(city.r, city.w2.id, active=False)
    page = console.as_role("manager", ["u1"]).get("/console/units/u1").text
    rows = re.findall(r"<tr>\s*(.*?)</tr>", page, re.S)
    w1 = next(r for r in rows if "综合受理窗口" in r)
    w2 = next(r for r in rows if "社保窗口" in r)
    assert "第 2 版" in w1 and "周一至周五 09:00-17:00" in w1 and "启用" in w1
    assert "停用" in w2 and "同本单位其他窗口" in w2 and re.search(r'class="num">3</td>', w2)
    assert "/console/registry/" not in page  # a manager does not edit the registry
    admin = console.as_role("admin").get("/console/units/u1").text
    for path in ["/console/registry/units/u1", "/console/registry/units/u1/windows/new",
                 f"/console/registry/windows/{city.w1.id}"]:
        assert f'href="{path}"' in admin


@pytest.mark.parametrize(("hours", "text"), [
    (None, "不限（全天）"), ({"days": [1, 2, 3, 4, 5], "open": ["09:00-17:00"]}, "周一至周五 09:00-17:00"),
    ({"days": [6, 7], "open": ["09:00-12:00"]}, "周六、周日 09:00-12:00"),
    ({"days": [1, 2, 3, 5, 7], "open": ["08:30-12:00", "14:00-17:30"]},
     "周一至周三、周五、周日 08:30-12:00、14:00-17:30")])
def test_opening_hours_read_in_chinese(hours, text):
    assert unitstats.hours_text(hours) == text


# Another unit: nothing, by URL or form field ---------------------------------------------
OTHER_PAGES = ["/console/units/u2", "/console/units/u2/results", "/console/units/u2/comments",
               "/console/units/u2/posters", "/console/units/u2/posters.pdf",
               "/console/units/u2/posters?window={o1}", "/console/units/u2/posters.pdf?window={o1}",
               "/console/units/u2/revoke?window={o1}",
               "/console/units/u1/posters?window={o1}", "/console/units/u1/posters.pdf?window={o1}",
               "/console/units/u1/revoke?window={o1}", "/console/units/u2/qr.png?window={o1}",
               "/console/units/u1/qr.svg?window={o1}"]


@pytest.mark.parametrize("path", OTHER_PAGES)
def test_a_manager_sees_nothing_of_another_unit(city, console, path):
    client = console.as_role("manager", ["u1"])
    resp = client.get(path.format(o1=city.o1.id))
    assert resp.status_code == 403 and "无权" in resp.text
    assert "别的单位" not in resp.text and "别人的窗口" not in resp.text


@pytest.mark.parametrize("path", ["/console/units/u1/revoke", "/console/units/u2/revoke"])
def test_a_manager_cannot_revoke_another_units_window_by_form_field(city, console, path):
    client = console.as_role("manager", ["u1"])
    resp = console.post(client, path, {"window": city.o1.id})
    assert resp.status_code == 403
    assert registry.get_window(city.r, city.o1.id).epoch == 1
    assert "window.revoke" not in console.audit_actions()


def test_the_office_staff_read_but_do_not_print_or_revoke(city, console):
    client = console.as_role("staff")
    for path in ["/console/units/u2", "/console/units/u2/results", "/console/units/u2/comments"]:
        assert client.get(path).status_code == 200, path
    assert "打印二维码海报" not in client.get("/console/units/u2").text
    for path in [f"/console/units/u2/posters?window={city.o1.id}", "/console/units/u2/posters.pdf",
                 f"/console/units/u2/revoke?window={city.o1.id}"]:
        assert client.get(path).status_code == 403, path
    assert console.post(client, "/console/units/u2/revoke", {"window": city.o1.id}).status_code == 403
    assert registry.get_window(city.r, city.o1.id).epoch == 1


def test_bad_values_are_400_or_404_never_500(city, console):
    client = console.as_role("admin")
    assert client.get("/console/units/ghost").status_code == 404
    assert client.get("/console/units/u1/posters?window=99999").status_code == 404
    assert client.get("/console/units/u1/posters?format=a3").status_code == 400
    assert client.get("/console/units/u1/posters?window=abc").status_code == 400
    assert client.get(f"/console/units/u1/posters?window={city.o1.id}").status_code == 400  # not u1's
    assert client.get("/console/units/u1/results?period=ghost").status_code == 404
    assert client.get("/console/units/u1/comments?from=yesterday").status_code == 400
    assert client.get("/console/units/u1/comments?tag=<b>").status_code == 400
    assert console.post(client, "/console/units/u1/revoke", {}).status_code == 400


# Printing and revoking -------------------------------------------------------------------
def test_the_preview_shows_what_will_print(city, console):
    client = console.as_role("manager", ["u1"])
    page = client.get(f"/console/units/u1/posters?window={city.w1.id}&format=a5").text
    assert page.count("data:image/svg+xml;base64,") == 1
    for words in ["蔡甸区政务服务中心", "综合受理窗口", f"编号 W{city.w1.id:06d}-1",
                  "评议期 2026年5月1日至2026年9月30日", "微信扫一扫，评价本窗口服务", 'value="a5" checked']:
        assert words in page, words
    assert f"posters.pdf?format=a5&amp;window={city.w1.id}" in page
    tent = client.get(f"/console/units/u1/posters?window={city.w1.id}&format=tent").text
    assert tent.count("data:image/svg+xml;base64,") == 2  # a face each side
    whole = client.get("/console/units/u1/posters").text
    assert whole.count("data:image/svg+xml;base64,") == 2 and "社保窗口" in whole


@pytest.mark.parametrize(("fmt", "codes"), [("a4", 1), ("a5", 1), ("tent", 2)])
def test_the_pdf_is_the_apis_and_decodes_to_the_current_code(city, console, tmp_path, fmt, codes):
    client = console.as_role("manager", ["u1"])
    resp = client.get(f"/console/units/u1/posters.pdf?window={city.w1.id}&format={fmt}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("inline")
    api = city.client.get(f"/api/v1/windows/{city.w1.id}/poster.pdf?format={fmt}", headers=city.admin)
    pdf, theirs = tmp_path / "p.pdf", tmp_path / "api.pdf"
    pdf.write_bytes(resp.data)
    theirs.write_bytes(api.data)
    assert pdf_text(pdf) == pdf_text(theirs) and pdf_qr_codes(pdf) == pdf_qr_codes(theirs)  # the API's
    assert pdf_qr_codes(pdf) == [f"HTTPS://PJ.CAIDIAN.GOV.CN/R/{city.token(city.w1)}"] * codes


@pytest.mark.parametrize("ext", ["png", "svg"])
def test_the_qr_code_alone_downloads_and_decodes_to_the_current_code(city, console, ext):
    import io

    import zxingcpp
    from PIL import Image

    client = console.as_role("manager", ["u1"])
    resp = client.get(f"/console/units/u1/qr.{ext}?window={city.w2.id}")
    assert resp.status_code == 200 and f"qr-W{city.w2.id}.{ext}" in resp.headers["Content-Disposition"]
    api = city.client.get(f"/api/v1/windows/{city.w2.id}/qr.{ext}?size=1024", headers=city.admin)
    assert resp.data == api.data  # the API's own image
    if ext == "png":
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(resp.data)))[0].text
        assert decoded.endswith("/R/" + city.token(city.w2))
    assert client.get("/console/units/u1/qr.png").status_code == 400  # which window?


def test_a_revoke_asks_first_then_is_audited_and_offers_the_reprint(city, console):
    client = console.as_role("manager", ["u1"])
    ask = client.get(f"/console/units/u1/revoke?window={city.w1.id}").text
    assert "旧二维码立即失效，已张贴的海报需要重新打印" in ask and 'data-confirm="' in ask
    assert registry.get_window(city.r, city.w1.id).epoch == 1  # asking changed nothing
    resp = console.post(client, "/console/units/u1/revoke", {"window": city.w1.id})
    assert resp.status_code == 302 and "done=revoked" in resp.headers["Location"]
    assert registry.get_window(city.r, city.w1.id).epoch == 2
    assert console.audit_actions()[0] == "window.revoke"
    page = client.get(resp.headers["Location"]).text
    assert "旧海报已立即失效" in page and f"W{city.w1.id:06d}-2" in page


# Results ---------------------------------------------------------------------------------
def test_results_show_the_score_as_the_api_computes_it(city, console, app):
    for level in (5, 5, 4, 2):
        city.tap(city.w2, level, city.rater())
    city.tap(city.w1, 1, city.rater())  # a Monday at 10:00: open
    city.clock.advance(86400 * 5 + 3600 * 10)  # Saturday 20:00: closed, so held
    held = [city.tap(city.w1, 3, city.rater()).json["rating_id"] for _ in range(2)]
    assert city.r.hlen(UnitKeys("u1").held) == 2
    actions.decide(city.r, Actor("account", "x", "x", "-"), city.clock(), "u1", held[0].split(".", 1)[1],
                   action="reject", why="test", tz="Asia/Shanghai")
    api = city.client.get("/api/v1/units/u1/score?period=p1", headers=city.admin).json
    page = console.as_role("manager", ["u1"]).get("/console/units/u1/results").text
    assert f"{api['score']:.2f}" in page and api["n"] == 5
    assert f"{api['ci95'][0]:.2f}–{api['ci95'][1]:.2f}" in page and "样本不足" in page
    levels = re.search(r'class="grid u-levels">.*?<tbody>(.*?)</tbody>', page, re.S)[1]
    assert re.findall(r">(\d+)</td>", levels) == ["2", "1", "0", "1", "1", "1", "1"]  # 5..1, held, rejected
    social = re.search(r"<td>社保窗口</td>(.*?)</tr>", page, re.S)[1]
    assert re.findall(r">([\d.]+)</td>", social)[:6] == ["2", "1", "0", "1", "0", "4"]
    assert 'id="u-trend"' in page and 'data-chart="u-trend"' in page and "echarts.simple.min.js" in page
    assert "2026-06-01" in page and "2026-06-06" in page  # the day table
    weekly = console.login("manager1").get("/console/units/u1/results?by=week").text
    assert "周（自周一起）" in weekly and "2026-06-01" in weekly and "2026-06-02" not in weekly


# What citizens said ----------------------------------------------------------------------
@pytest.mark.parametrize(("text", "masked"), [
    ("请回电13812345678", "请回电138****5678"),
    ("手机 +86 139-1234-5678。", "手机 +86 139****5678。"),
    ("电话：１３７１２３４５６７８", "电话：137****5678"),
    ("座机027-84561234找王科长", "座机027-****1234找王科长"),
    ("拨 84561234", "拨 ****1234"),
    ("身份证42010619900101123X办不了", "身份证4201**********123X办不了"),
    ("证件号420106199001011234", "证件号4201**********1234"),
    ("老证号420106900101123", "老证号************123"),
    ("排队2小时，5个窗口只开1个", "排队2小时，5个窗口只开1个"),
    ("2026年6月1日上午10:30", "2026年6月1日上午10:30"),
])
def test_phone_and_id_numbers_are_masked(text, masked):
    assert comments.mask(text) == masked


def test_comments_newest_first_masked_filtered_and_nothing_of_the_rater(city, console):
    say(city, city.w1, 2, "态度差，回电13812345678", ["public"])
    say(city, city.w2, 5, "很好", ["duty", "business"])
    say(city, city.w2, 5, "点错了，其实不满意", [], change_to=1)  # the level as it is now
    city.clock.advance(86400)
    say(city, city.w1, 3, "一般", ["public"])
    page = console.as_role("manager", ["u1"]).get("/console/units/u1/comments").text
    texts = re.findall(r'class="u-text">(.*?)</td>', page)
    assert texts == ["一般", "点错了，其实不满意", "很好", "态度差，回电138****5678"]
    assert "13812345678" not in page
    for _sid, f in city.r.xrange(UnitKeys("u1").log):
        assert "r" not in f or f["r"] not in page  # (a case's entries carry no rater)
        assert len(f.get("ip", "")) < 8 or f["ip"] not in page
    client = console.login("manager1")

    def shown(query: str) -> list[str]:
        page = client.get(f"/console/units/u1/comments?{query}").text
        return re.findall(r'class="u-text">(.*?)</td>', page)

    assert shown(f"window={city.w1.id}") == ["一般", "态度差，回电138****5678"]
    assert shown("level=1") == ["点错了，其实不满意"]
    assert shown("tag=public") == ["一般", "态度差，回电138****5678"]
    assert shown("from=2026-06-02") == ["一般"]
    assert shown("to=2026-06-01") == ["点错了，其实不满意", "很好", "态度差，回电138****5678"]


def test_comments_download_as_csv_and_xlsx_with_the_pages_filters(city, console):
    import csv
    import io

    from openpyxl import load_workbook

    say(city, city.w1, 2, "=HYPERLINK(\"http://x\") 回电13812345678", ["public"])
    say(city, city.w2, 5, "很好", ["duty", "business"])
    client = console.as_role("manager", ["u1"])
    assert "comments.xlsx" in client.get("/console/units/u1/comments").text
    text = client.get("/console/units/u1/comments.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["时间", "窗口", "评价", "问题标签", "意见内容", "状态"]
    assert [r[1:5] for r in rows[1:]] == [["社保窗口", "非常满意", "履职尽责、服务企业", "很好"],
                                          ["综合受理窗口", "不满意", "联系群众",
                                           "'=HYPERLINK(\"http://x\") 回电138****5678"]]
    book = client.get(f"/console/units/u1/comments.xlsx?window={city.w1.id}")
    sheet = load_workbook(io.BytesIO(book.data)).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == rows[0] and [c[4] for c in cells[1:]] == [rows[2][4]]  # filtered, as the page
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    other = console.as_role("manager", ["u2"])
    assert other.get("/console/units/u1/comments.xlsx").status_code == 403
    assert b"13812345678" not in book.data


def test_comments_are_read_in_bounded_chunks_and_paged(city, monkeypatch):
    monkeypatch.setattr(comments, "CHUNK", 7)  # many chunks for a few entries
    for i in range(23):
        say(city, city.w1 if i % 2 else city.w2, 5, f"意见{i}")
        city.tap(city.w2, 4, city.rater())  # taps without a reason between them
    seen, before, pages = [], None, 0
    while True:
        page = comments.read(city.r, "u1", comments.Filter(), limit=10, before=before)
        seen += [c.text for c in page.comments]
        pages += 1
        if page.next is None:
            break
        before = page.next
    assert seen == [f"意见{i}" for i in reversed(range(23))] and pages == 3
    odd = comments.read(city.r, "u1", comments.Filter(window=city.w1.id), limit=100)
    assert [c.text for c in odd.comments] == [f"意见{i}" for i in reversed(range(1, 23, 2))]


# In a browser ----------------------------------------------------------------------------
def test_a_manager_prints_revokes_reprints_and_reads_comments_in_a_browser(city, console, live, browser,
                                                                            tmp_path: Path):
    console.account("wang", "manager", ["u1"])
    say(city, city.w1, 1, "工作人员玩手机，投诉电话13812345678", ["duty"])
    say(city, city.w2, 4, "办得挺快")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, live, "wang")
    page.goto(f"{live}/console/units")
    assert page.url.endswith("/console/units/u1")
    assert page.locator("h1").inner_text().startswith("蔡甸区政务服务中心")
    shot(page, "units-unit")

    page.click(f"a[href='/console/units/u1/posters?window={city.w1.id}']")
    page.check("input[value=a5]")
    page.click("text=预览")
    assert page.locator(".u-sheet.u-a5 img.u-qr").count() == 1
    shot(page, "units-poster-preview")
    old_token = city.token(city.w1)

    def decoded() -> list[str]:
        href = page.get_attribute("#download-pdf", "href")
        resp = page.request.get(f"{live}{href}")
        assert resp.ok and resp.headers["content-type"] == "application/pdf"
        pdf = tmp_path / "poster.pdf"
        pdf.write_bytes(resp.body())
        assert "综合受理窗口" in pdf_text(pdf)
        return pdf_qr_codes(pdf)

    assert decoded() == [f"HTTPS://PJ.CAIDIAN.GOV.CN/R/{old_token}"]

    page.click("text=作废此二维码…")
    assert "旧二维码立即失效，已张贴的海报需要重新打印" in page.content()
    shot(page, "units-revoke-confirm")
    page.once("dialog", lambda d: d.accept())
    page.click("button.btn-danger")
    page.wait_for_load_state("networkidle")
    assert "旧海报已立即失效" in page.content()
    shot(page, "units-reprint")
    new_token = city.token(city.w1)
    assert new_token != old_token and registry.get_window(city.r, city.w1.id).epoch == 2
    assert decoded() == [f"HTTPS://PJ.CAIDIAN.GOV.CN/R/{new_token}"]
    assert city.client.get(f"/api/v1/scan/{old_token}").status_code == 410
    assert "window.revoke" in console.audit_actions()

    page.goto(f"{live}/console/units/u1/comments")
    assert "138****5678" in page.content() and "13812345678" not in page.content()
    shot(page, "units-comments")
    page.goto(f"{live}/console/units/u1/results?by=week")
    page.wait_for_selector("[data-chart] canvas")
    shot(page, "units-results")

    resp = page.goto(f"{live}/console/units/u2")
    assert resp.status == 403 and "别的单位" not in page.content()
    shot(page, "units-other-unit-403")
    page.close()


def test_the_office_lists_units_and_an_admin_previews_a_table_tent(city, console, live, browser):
    for i in range(60):
        city.unit(f"x{i:03d}", "c1", name=f"示例街道办事处{i:03d}")
    console.account("clerk", "staff")
    console.account("boss", "admin")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, live, "clerk")
    page.goto(f"{live}/console/units")
    page.fill("input[name=q]", "街道")
    page.click("button[type=submit].btn-primary")  # the list is replaced in place (htmx)
    expect(page.locator("#unit-list")).to_contain_text("共 60 个单位")
    assert page.locator("table.grid tbody tr").count() == 50
    shot(page, "units-index")
    page.close()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, live, "boss")
    page.goto(f"{live}/console/units/u1/posters?format=tent")
    assert page.locator(".u-sheet.u-tent img.u-qr").count() == 4  # two windows, two faces each
    shot(page, "units-poster-tent")
    page.close()
