"""A message pasted into the search box goes to the message check, by POST, in a
real browser; without JavaScript the results page offers the same as a form."""

import re

from playwright.sync_api import expect

from portal import requestline
from tests.browser.conftest import PHONE, open_page


def message_for(sample) -> str:
    """Longer than any name: a collector's text message with the sample's number."""
    mobile = sample["mobile"]
    return (
        f"【法务部】您的欠款已严重逾期，今日18点前联系{mobile}处理。\n"
        "否则将上报公安机关立案，并通知你的父母和单位领导，后果自负。" * 3
    )


def paste(page, selector: str, text: str):
    """A paste event carrying `text`, as a browser fires it for Ctrl+V."""
    page.locator(selector).evaluate(
        """(input, text) => {
            input.focus();
            const data = new DataTransfer();
            data.setData("text/plain", text);
            const event = new ClipboardEvent(
                "paste", {clipboardData: data, bubbles: true, cancelable: true}
            );
            if (input.dispatchEvent(event)) { input.value += text; }
        }""",
        text,
    )


def test_a_pasted_message_goes_to_the_message_check_by_post(page, site, sample):
    text = message_for(sample)
    page.goto(site + "/")
    paste(page, "#q", text)
    expect(page.locator(".paste-note")).to_be_visible()
    expect(page.locator(".paste-note")).to_contain_text("检查消息")
    page.get_by_role("button", name="查询").click()
    # The whole text went in a POST body: the address is the check's, with no query.
    expect(page).to_have_url(re.compile(r"/check/#result-heading$"))
    expect(page.get_by_role("heading", name="检查结果")).to_be_visible()
    expect(page.get_by_label("收到的短信、微信消息或通话记录全文")).to_have_value(text)


def test_typing_after_a_paste_searches_after_all(page, site, sample):
    page.goto(site + "/")
    paste(page, "#q", message_for(sample))
    expect(page.locator(".paste-note")).to_be_visible()
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("长沙")
    expect(page.locator(".paste-note")).to_be_hidden()
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"/search/\?q="))


def test_without_javascript_the_results_page_hands_the_text_to_the_check(browser, site, sample):
    context, page = open_page(browser, PHONE, javascript=False)
    try:
        text = message_for(sample)
        box = page.locator("#q")
        page.goto(site + "/")
        box.fill(text)
        # The box keeps what the server reads.
        assert len(box.input_value()) <= requestline.SEARCH_BOX_CHARS
        page.get_by_role("button", name="查询").click()
        expect(page).to_have_url(re.compile(r"/search/\?q="))
        page.get_by_role("button", name="检查这段消息").click()
        expect(page).to_have_url(re.compile(r"/check/#result-heading$"))
        expect(page.get_by_role("heading", name="检查结果")).to_be_visible()
    finally:
        context.close()
