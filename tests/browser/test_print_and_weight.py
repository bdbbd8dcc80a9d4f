"""What a page weighs, and what a printed record carries."""

import pytest

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
