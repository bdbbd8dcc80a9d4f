"""What a visitor does, in a real browser, on a phone (375 px) and a desktop (1280 px)."""

import re
from urllib.parse import unquote

import opencc
import pytest
from playwright.sync_api import expect

from articles.loading import DEFAULT_DIR
from tests.browser.conftest import DESKTOP, PHONE, open_page

FIRST_SCREEN = 700  # px: what a phone shows before any scrolling


def no_horizontal_scrolling(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def spaced(mobile: str) -> str:
    """The number as people type it from a call log: 199 0000 2693."""
    return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"


def test_a_pasted_mobile_number_leads_to_its_agency(page, site, sample):
    agency = sample["agency"]
    page.goto(site + "/")
    page.get_by_label("来电号码、公司名称或统一社会信用代码").fill(spaced(sample["mobile"]))
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(rf"/phone/{sample['mobile']}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(spaced(sample["mobile"]))
    no_horizontal_scrolling(page)
    page.get_by_role("link", name=agency.name).first.click()
    expect(page).to_have_url(re.compile(rf"/agencies/{agency.uscc}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(agency.name)
    no_horizontal_scrolling(page)


def test_an_english_reader_finds_the_agency_and_reads_its_record(page, site, sample):
    agency = sample["agency"]
    page.goto(site + "/en/")
    page.get_by_label("Caller's number, company name or Unified Social Credit Code").fill(
        spaced(sample["mobile"])
    )
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"/en/phone/{sample['mobile']}/$"))
    expect(page.get_by_text("Where the number range is registered", exact=True)).to_be_visible()
    page.get_by_role("link", name=agency.name).first.click()
    expect(page).to_have_url(re.compile(rf"/en/agencies/{agency.uscc}/$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(agency.name)
    # The name is marked as Chinese for screen readers and translation tools.
    expect(heading.locator('span[lang="zh-Hans"]').first).to_have_text(agency.name)
    expect(page.get_by_role("heading", name="Registration details")).to_be_visible()
    no_horizontal_scrolling(page)
    page.get_by_role("navigation", name="Language").get_by_role("link", name="简体中文").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(site)}/agencies/{agency.uscc}/$"))


def test_a_pasted_message_is_read_and_leads_to_the_agency(page, site, sample):
    agency = sample["agency"]
    page.goto(site + "/")
    page.get_by_role("link", name="收到短信？粘贴全文检查").click()
    expect(page).to_have_url(re.compile(r"/check/$"))
    page.get_by_label("收到的短信、微信消息或通话记录全文").fill(
        f"【{agency.name}】您的欠款已严重逾期，今日18点前联系{spaced(sample['mobile'])}，"
        "否则将上报公安机关立案，并通知你的父母和单位领导。"
    )
    page.get_by_label("来电或收到消息的时间（可不填）").fill("23:30")
    page.get_by_role("button", name="检查").click()
    # The text went in the body: the address is the form's, scrolled to the result.
    expect(page).to_have_url(re.compile(r"/check/#result-heading$"))
    expect(page.get_by_role("heading", name="检查结果")).to_be_in_viewport()
    claims = page.get_by_role("region", name="对方的说法，规则怎么说")
    expect(claims.get_by_text("可能违规").first).to_be_visible()
    expect(
        claims.get_by_role("heading", name=re.compile("以抓人、坐牢、立案相威胁"))
    ).to_be_visible()
    expect(claims.get_by_role("heading", name=re.compile("晚上10点到早上8点"))).to_be_visible()
    no_horizontal_scrolling(page)
    page.get_by_role("region", name="对方是谁").get_by_role("link", name=agency.name).click()
    expect(page).to_have_url(re.compile(rf"/agencies/{agency.uscc}/$"))


def test_a_name_typed_in_traditional_characters_finds_the_agency(page, site, sample):
    agency = sample["named"]
    traditional = opencc.OpenCC("s2t").convert(agency.name.removesuffix("有限公司"))
    assert traditional != agency.name
    page.goto(site + "/search/")
    page.get_by_label("来电号码、公司名称或统一社会信用代码").fill(traditional)
    page.keyboard.press("Enter")
    results = page.locator(".results .agency-list")
    expect(results.get_by_role("link", name=agency.name)).to_be_visible()
    no_horizontal_scrolling(page)
    results.get_by_role("link", name=agency.name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(agency.name)


def test_browsing_hunan_by_status_to_the_second_page(page, site):
    page.goto(site + "/")
    page.locator(".province-grid").get_by_role("link", name=re.compile("^湖南")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("湖南省")
    no_horizontal_scrolling(page)
    filters = page.locator("aside.filters")
    if page.viewport_name == "375":
        # On a phone the filters come after the results; a link near the top
        # leads to them.
        page.get_by_role("link", name=re.compile("筛选")).first.click()
        expect(filters.get_by_role("heading", name="筛选")).to_be_in_viewport()
    filters.get_by_role("checkbox", name=re.compile("存续")).check()
    filters.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"status="))
    rows = page.locator(".results .agency-row")
    expect(rows.first).to_be_visible()
    for status in rows.locator(".status").all_inner_texts():
        assert status == "存续"
    page.get_by_role("link", name="下一页").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    for status in rows.locator(".status").all_inner_texts():
        assert status == "存续"


def test_an_article_from_an_agency_page_and_its_contents(page, site, sample):
    page.goto(site + sample["agency"].get_absolute_url())
    page.get_by_role("link", name="怎样核实一个催收机构的身份").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    toc = page.get_by_role("navigation", name="目录")
    if page.viewport_name == "375":
        # On a phone the contents are folded: one line saying how many sections.
        folded = toc.get_by_text(re.compile(r"^目录（\d+ 节）$"))
        expect(toc.get_by_role("link").first).to_be_hidden()
        folded.click()
    first = toc.get_by_role("link").first
    target = first.get_attribute("href")
    first.click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    heading = page.locator(f"[id='{unquote(target[1:])}']")
    expect(heading).to_be_in_viewport()


ARTICLES = sorted(path.stem for path in DEFAULT_DIR.glob("*.md") if not path.name.startswith("_"))
# Two lines of the text's first paragraph, at least, show without scrolling.
TWO_LINES = 56  # px


@pytest.mark.parametrize("prefix", ["", "/zh-hant", "/en"], ids=["zh-hans", "zh-hant", "en"])
def test_on_a_phone_every_article_opens_with_its_summary_and_first_answer(browser, site, prefix):
    """A frightened reader on a phone sees what the article says before any scrolling.

    The summary (on /en/ pages, the English one, shown instead of the Chinese)
    and the beginning of the body's first block, which answers the title's
    question (docs/articles.md), are within the first screen; the contents are
    folded.
    """
    context, page = open_page(browser, PHONE)
    late = []
    try:
        for slug in ARTICLES:
            page.goto(f"{site}{prefix}/articles/{slug}/")
            for lead in page.locator(".article-header .lead").all():
                box = lead.bounding_box()
                if box["y"] + box["height"] > FIRST_SCREEN:
                    late.append(f"{slug}: summary ends at {box['y'] + box['height']:.0f}px")
            first = page.locator(".article-body > *").first
            box = first.bounding_box()
            if box["y"] + min(box["height"], TWO_LINES) > FIRST_SCREEN:
                late.append(f"{slug}: first answer starts at {box['y']:.0f}px")
            expect(page.locator(".toc-compact details")).not_to_have_attribute("open", "")
            no_horizontal_scrolling(page)
    finally:
        context.close()
    assert not late, f"below the first {FIRST_SCREEN}px at 375px on {prefix or '/'}:\n" + "\n".join(
        late
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
def test_the_number_journey_with_the_keyboard_only(browser, site, sample, viewport):
    context, page = open_page(browser, viewport)
    try:
        page.goto(site + "/")
        # The first Tab reaches the skip link, which jumps to the content.
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="跳到正文")
        expect(skip).to_be_focused()
        expect(skip).to_be_visible()
        page.keyboard.press("Enter")
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "q":
                break
        else:
            pytest.fail("the search box cannot be reached with Tab")
        page.keyboard.type(sample["mobile"])
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(rf"/phone/{sample['mobile']}/$"))
        agency = sample["agency"]
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent") == agency.name:
                break
        else:
            pytest.fail("the agency link cannot be reached with Tab")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(rf"/agencies/{agency.uscc}/$"))
    finally:
        context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/search/?q=示例",
        "/provinces/hunan/",
        "/zh-hant/search/?q=示例",
        "/zh-hant/provinces/hunan/",
        "/en/search/?q=示例",
        "/en/provinces/hunan/",
    ],
)
def test_on_a_phone_results_come_first(browser, site, path):
    context, page = open_page(browser, PHONE)
    try:
        page.goto(site + path)
        first = page.locator(".results .agency-row").first
        expect(first).to_be_visible()
        assert first.bounding_box()["y"] < FIRST_SCREEN
        # And in the document too (screen readers, no CSS): results, then filters.
        order = page.evaluate(
            """() => {
                const results = document.querySelector('.results');
                const filters = document.querySelector('.filters');
                return results.compareDocumentPosition(filters)
                    & Node.DOCUMENT_POSITION_FOLLOWING;
            }"""
        )
        assert order, "filters come before the results in the document"
        no_horizontal_scrolling(page)
    finally:
        context.close()


ANSWER_LINE = 600  # px: where the number page's answer must have begun on a phone


@pytest.mark.parametrize("prefix", ["", "/zh-hant", "/en"], ids=["zh-hans", "zh-hant", "en"])
@pytest.mark.parametrize("which", ["one agency", "shared"])
def test_on_a_phone_the_number_page_names_the_agency_first(browser, site, sample, prefix, which):
    number = sample["mobile"] if which == "one agency" else sample["shared"]
    context, page = open_page(browser, PHONE)
    try:
        page.goto(site + prefix + f"/phone/{number}/")
        name = page.locator("main .agency-list .agency-name").first
        expect(name).to_be_visible()
        box = name.bounding_box()
        bottom = box["y"] + box["height"]
        assert bottom <= ANSWER_LINE, f"the first agency's name ends at {bottom:.0f}px"
        # The answer comes before the kind of number, the region and the carrier.
        facts = page.locator("main .phone-facts").bounding_box()
        assert box["y"] < facts["y"]
        no_horizontal_scrolling(page)
    finally:
        context.close()


@pytest.mark.parametrize("prefix", ["", "/zh-hant", "/en"], ids=["zh-hans", "zh-hant", "en"])
def test_on_a_phone_an_unknown_number_says_so_first(browser, site, prefix):
    context, page = open_page(browser, PHONE)
    try:
        page.goto(site + prefix + "/phone/13800138000/")
        answer = page.locator("main .no-match")
        expect(answer).to_be_visible()
        assert answer.bounding_box()["y"] < ANSWER_LINE
        assert answer.bounding_box()["y"] < page.locator("main .phone-facts").bounding_box()["y"]
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/", "/search/?q=示例", "/provinces/hunan/"])
def test_main_controls_are_big_enough_to_touch(browser, site, path):
    context, page = open_page(browser, PHONE)
    try:
        page.goto(site + path)
        controls = page.locator(
            ".search-form input, .search-form button, .nav a, .pagination a, .jump a, "
            ".filters button"
        )
        assert controls.count() > 0
        for index in range(controls.count()):
            control = controls.nth(index)
            if not control.is_visible():
                continue
            box = control.bounding_box()
            label = control.inner_text() or control.get_attribute("name")
            assert box["height"] >= 44, f"{label!r} is {box['height']:.0f}px tall on {path}"
    finally:
        context.close()


def test_pages_work_without_javascript(browser, site, sample):
    context, page = open_page(browser, PHONE, javascript=False)
    try:
        page.goto(site + "/")
        page.get_by_label("来电号码、公司名称或统一社会信用代码").fill(sample["mobile"])
        page.get_by_role("button", name="查询").click()
        expect(page).to_have_url(re.compile(rf"/phone/{sample['mobile']}/$"))
    finally:
        context.close()


def test_the_province_tiles_are_a_map_on_a_desktop_and_a_list_for_everyone(page, site):
    page.goto(site + "/")
    tiles = page.locator(".tile-map li")
    assert tiles.count() == 34
    hunan = page.locator(".tile-map .p43").bounding_box()
    hubei = page.locator(".tile-map .p42").bounding_box()
    guangdong = page.locator(".tile-map .p44").bounding_box()
    if page.viewport_name == "1280":
        # 湖北 above 湖南 above 广东, in one column: the map's shape.
        assert hubei["x"] == hunan["x"] == guangdong["x"]
        assert hubei["y"] < hunan["y"] < guangdong["y"]
    no_horizontal_scrolling(page)
    # Each tile says its province and its count in words, as a link; the list
    # starts where the map does, at its top row (黑龙江).
    first = tiles.nth(0).get_by_role("link")
    expect(first).to_have_accessible_name(re.compile(r"^黑龙江\s+\d+ 家$"))
    beijing = page.locator(".tile-map .p11 a")
    expect(beijing).to_have_accessible_name(re.compile(r"^北京\s+\d+ 家$"))


def test_tab_moves_across_the_province_map_row_by_row(browser, site):
    context, page = open_page(browser, DESKTOP)
    try:
        page.goto(site + "/")
        page.locator(".tile-map li a").first.focus()
        seen = []
        for _ in range(34):
            box = page.evaluate(
                """() => { const r = document.activeElement.getBoundingClientRect();
                           return document.activeElement.closest('.tile-map')
                               ? [Math.round(r.top + scrollY), Math.round(r.left)] : null; }"""
            )
            assert box is not None, f"Tab left the map after {len(seen)} tiles"
            seen.append(box)
            page.keyboard.press("Tab")
        # Top to bottom, and left to right within a row: the map as it looks.
        assert seen == sorted(seen), seen
    finally:
        context.close()


def test_the_language_switcher_keeps_the_page(page, site, sample):
    agency = sample["agency"]
    traditional = opencc.OpenCC("s2tw").convert(agency.name)
    page.goto(site + "/zh-hant" + agency.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_contain_text(traditional)
    languages = page.get_by_role("navigation", name="語言")
    languages.get_by_role("link", name="简体中文").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(site)}/agencies/{agency.uscc}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(agency.name)
    page.get_by_role("navigation", name="语言").get_by_role("link", name="繁體中文").click()
    expect(page).to_have_url(re.compile(rf"/zh-hant/agencies/{agency.uscc}/$"))
