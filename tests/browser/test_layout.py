"""No text off the screen, cut off or over other text, on any page, in any language, at any width.

One general detector (layout_probe.js) runs in the page: it measures every
piece of visible text — the text CSS generates too, such as the stacked
tables' data-label labels — and reports text that leaves the viewport, is
cut off by its box, or overlaps other text, and a page that scrolls
sideways. This test only chooses the pages: every page type × the three
languages × six widths, from a 320 px phone to a 1280 px desktop.

It stays fast by reusing one browser page per language and resizing it
rather than opening a page per width. A failing case leaves full-page
screenshots, the faulty characters outlined, named page-language-width.png
in test-results/layout/ (or $PORTAL_TEST_ARTIFACTS/layout/).
"""

import os
from pathlib import Path

import pytest
from django.db.models import Count

from agencies import suppression
from agencies.models import Agency, AgencyPhone, SuppressedPhone
from articles.models import Article, Category, Tag

WIDTHS = [320, 360, 375, 414, 768, 1280]
HEIGHT = 800
LANGUAGES = {"zh-hans": "", "zh-hant": "/zh-hant", "en": "/en"}
PROBE = (Path(__file__).parent / "layout_probe.js").read_text(encoding="utf-8")
ARTIFACTS = (
    Path(
        os.environ.get("PORTAL_TEST_ARTIFACTS")
        or Path(__file__).resolve().parents[2] / "test-results"
    )
    / "layout"
)

# Numbers the sample directory does not have: one nobody uses, one whose
# owner asked not to be shown (the list is empty in the sample data).
UNKNOWN_NUMBER = "13800138000"
SUPPRESSED_NUMBER = "13800138001"

PAGE_TYPES = [
    "home",
    "province list",
    "province",
    "agency",
    "number with agencies",
    "number without agencies",
    "suppressed number",
    "search with results",
    "articles",
    "article",
    "article with a table",
    "category",
    "tag",
    "about the data",
    "check form",
    "not found",
]


@pytest.fixture(scope="session")
def layout_urls(site, sample, django_db_blocker):
    with django_db_blocker.unblock():
        # The record with the most of everything: every table of the agency
        # page, with the longest labels, is on it.
        agency = (
            Agency.objects.annotate(
                n_phones=Count("phone_links", distinct=True),
                n_clients=Count("clients", distinct=True),
                n_actions=Count("actions", distinct=True),
                n_changes=Count("changes", distinct=True),
            )
            .filter(n_phones__gt=0, n_clients__gt=0, n_changes__gt=0)
            .order_by("-n_actions", "-n_changes", "-n_clients", "uscc")
            .first()
        )
        assert agency is not None, "the sample data has no agency with numbers, clients and history"
        for number in (UNKNOWN_NUMBER, SUPPRESSED_NUMBER):
            assert not AgencyPhone.objects.filter(phone__key=number).exists()
        if not SuppressedPhone.objects.covers(SUPPRESSED_NUMBER):
            suppression.suppress(SUPPRESSED_NUMBER, reason="layout test", by="tests")
        article = Article.objects.published().order_by("slug").first()
        category = Category.objects.order_by("slug").first()
        tag = Tag.objects.annotate(n=Count("articles")).order_by("-n", "slug").first()
    return {
        "home": "/",
        "province list": "/provinces/",
        "province": "/provinces/hunan/",
        "agency": agency.get_absolute_url(),
        # The number shared by the most agencies: the longest answer.
        "number with agencies": f"/phone/{sample['shared']}/",
        "number without agencies": f"/phone/{UNKNOWN_NUMBER}/",
        "suppressed number": f"/phone/{SUPPRESSED_NUMBER}/",
        "search with results": "/search/?q=示例",
        "articles": "/articles/",
        "article": article.get_absolute_url(),
        "article with a table": "/articles/template-collection-log/",
        "category": category.get_absolute_url(),
        "tag": tag.get_absolute_url(),
        "about the data": "/about/data/",
        "check form": "/check/",
        "not found": "/agencies/91430100MA0000000X/",
    }


@pytest.fixture(scope="module")
def language_pages(browser, site):
    """One page per language, kept for the whole module and resized per width."""
    pages = {}
    contexts = []
    for language in LANGUAGES:
        context = browser.new_context(viewport={"width": WIDTHS[-1], "height": HEIGHT})
        page = context.new_page()
        page.set_default_timeout(10_000)
        contexts.append(context)
        pages[language] = page
    yield pages
    for context in contexts:
        context.close()


def _line(problem: dict) -> str:
    at = f" at {problem['box']}" if "box" in problem else ""
    return f"  {problem['kind']}: {problem['text']!r} ({problem['where']}){at}: {problem['detail']}"


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_text_stays_on_screen_and_apart(language_pages, site, layout_urls, page_type, language):
    page = language_pages[language]
    response = page.goto(site + LANGUAGES[language] + layout_urls[page_type])
    expected = 404 if page_type == "not found" else 200
    assert response.status == expected, f"{page.url}: {response.status}"
    failures = []
    # Widest first: the page arrives at the width it was opened with.
    for width in reversed(WIDTHS):
        page.set_viewport_size({"width": width, "height": HEIGHT})
        report = page.evaluate(PROBE, {"highlight": False})
        assert report["fragments"] > 0, "the detector found no text at all"
        if not report["problems"]:
            continue
        # Again with the faulty characters outlined, for the screenshot.
        page.evaluate(PROBE, {"highlight": True})
        name = f"{page_type.replace(' ', '-')}-{language}-{width}.png"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / name, full_page=True)
        page.evaluate("window.__layoutProbeClear && window.__layoutProbeClear()")
        lines = [_line(problem) for problem in report["problems"][:12]]
        more = len(report["problems"]) - len(lines)
        if more > 0:
            lines.append(f"  … and {more} more")
        failures.append(f"{width}px ({ARTIFACTS / name}):\n" + "\n".join(lines))
    assert not failures, f"{page_type}, {language} ({page.url}):\n" + "\n".join(failures)


# What the detector must see, and what it must leave alone, on a page made for it.
FAULTS = """<!doctype html><html><head><meta name="viewport" content="width=device-width">
<style>
  body { margin: 0; font: 16px/1.5 sans-serif; }
  .label { position: relative; padding-left: 3rem; }
  .label::before { content: attr(data-label); position: absolute; left: 0; }
  .tile { width: 4rem; height: 1.5rem; border: 1px solid; }
  .cut { width: 4rem; overflow: hidden; white-space: nowrap; }
  .wide { white-space: nowrap; }
  .skip { position: absolute; left: -999px; }
  .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  .scroll { overflow-x: auto; white-space: nowrap; }
</style></head><body>
<p class="label" data-label="A long generated label">the value</p>
<div class="tile">spills out of its box below</div>
<div class="cut">cut off by its box</div>
<p class="wide">past the right edge of a 320 pixel wide screen, far past it</p>
<a class="skip" href="#x">skip link off the left edge</a>
<span class="sr">visually hidden text</span>
<p hidden>hidden text</p>
<div class="scroll">a wide table that scrolls in its own box, far far far past the edge</div>
</body></html>"""


def test_the_detector_finds_each_kind_of_fault(browser):
    context = browser.new_context(viewport={"width": 320, "height": HEIGHT})
    try:
        page = context.new_page()
        page.set_content(FAULTS)
        report = page.evaluate(PROBE, {"highlight": False})
        found = {
            (problem["kind"], problem["text"].split(" ⟷ ")[0]) for problem in report["problems"]
        }
        assert ("overlap", "A long generated label") in found, found
        assert ("spills", "spills out of its box below") in found, found
        assert ("clipped", "cut off by its box") in found, found
        assert (
            "off-screen",
            "past the right edge of a 320 pixel wide screen, far past it",
        ) in found
        assert any(kind == "page-scroll" for kind, _ in found), found
        texts = " ".join(text for _, text in found)
        for hidden in ["skip link", "visually hidden", "hidden text", "scrolls in its own box"]:
            assert hidden not in texts, found
        # The page is as it was: the stand-ins for generated text are gone.
        assert page.locator("probe-text").count() == 0
        assert page.locator("[data-probe-before]").count() == 0
    finally:
        context.close()
