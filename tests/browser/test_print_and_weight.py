"""What a page weighs, and what a printed record carries."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, open_page

HOME_BUDGET = 60 * 1024  # bytes over the wire, everything included


def test_the_home_page_weighs_at_most_60_kb(browser, site):
    context, page = open_page(browser, PHONE)
    try:
        page.goto(site + "/", wait_until="load")
        sizes = page.evaluate(
            """() => [...performance.getEntriesByType('navigation'),
                      ...performance.getEntriesByType('resource')]
                .map(e => ({name: e.name, bytes: e.transferSize || e.encodedBodySize}))"""
        )
        # The live test server does not compress static files (WhiteNoise
        # does in production), so this is an upper bound.
        total = sum(entry["bytes"] for entry in sizes)
        assert total <= HOME_BUDGET, sizes
        assert all(entry["name"].startswith(site) for entry in sizes), "third-party asset"
    finally:
        context.close()


@pytest.mark.parametrize("kind", ["agency", "number"])
def test_a_printed_record_has_its_sources_and_no_navigation(browser, site, sample, kind):
    agency = sample["agency"]
    url = agency.get_absolute_url() if kind == "agency" else f"/phone/{sample['mobile']}/"
    context, page = open_page(browser, PHONE)
    try:
        page.goto(site + url)
        page.emulate_media(media="print")
        assert not page.locator(".site-header").is_visible()
        assert not page.locator(".search-form").first.is_visible()
        assert page.locator(".print-only").is_visible()
        assert site in page.locator(".print-only").inner_text()
        printed = page.evaluate(
            """() => [...document.querySelectorAll(
                    '.source a[href^="http"], .evidence a[href^="http"]')]
                .map(a => getComputedStyle(a, '::after').content)"""
        )
        assert printed and all("https://example.org/" in text for text in printed), printed
    finally:
        context.close()


@pytest.mark.parametrize("kind", ["agency", "number"])
def test_a_printed_record_keeps_its_numbers_whole(browser, site, sample, kind):
    agency = sample["agency"]
    url = agency.get_absolute_url() if kind == "agency" else f"/phone/{sample['mobile']}/"
    context, page = open_page(browser, PHONE)
    try:
        page.goto(site + url)
        for media in ("screen", "print"):
            page.emulate_media(media=media)
            # A number is on one line, never "0736-" / "00008966".
            lines = page.evaluate(
                """() => [...document.querySelectorAll('main .tel')]
                    .filter(el => el.getClientRects().length)
                    .map(el => [el.textContent.trim(), el.getClientRects().length])"""
            )
            assert lines, f"no phone number on the {media} page"
            broken = [number for number, count in lines if count > 1]
            assert not broken, f"broken across lines on {media}: {broken}"
        if kind == "agency":
            # The checklist goes on paper with the record; the articles it links do not.
            checklist = page.locator("section.verify")
            expect(checklist.get_by_role("heading", name="自己核实一下")).to_be_visible()
            expect(checklist.locator("ol li").first).to_be_visible()
            assert checklist.locator("ol li").count() == 3
    finally:
        context.close()
