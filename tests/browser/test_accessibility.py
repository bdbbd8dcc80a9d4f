"""axe-core on every page type, on a phone and a desktop: no critical, serious or moderate issue."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from agencies.models import Agency
from articles.models import Article, Category

FAILING_IMPACTS = {"critical", "serious", "moderate"}


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.fixture(scope="session")
def urls(site, django_db_blocker):
    with django_db_blocker.unblock():
        agency = (
            Agency.objects.filter(province_id="43", phone_links__isnull=False)
            .order_by("uscc")
            .first()
        )
        phone = agency.phone_links.first().phone
        article = Article.objects.published().order_by("slug").first()
        category = Category.objects.order_by("slug").first()
        return {
            "home": "/",
            "search, empty": "/search/",
            "search, names": "/search/?q=示例",
            "search, no match": "/search/?q=不存在的名字",
            "search, credit code": "/search/?q=91430100MA00000000",
            "agency": agency.get_absolute_url(),
            "number": phone.get_absolute_url(),
            "provinces": "/provinces/",
            "province": "/provinces/hunan/",
            "province, filtered": "/provinces/hunan/?status=存续&page=2",
            "articles": "/articles/",
            "article": article.get_absolute_url(),
            "category": category.get_absolute_url(),
            "template": "/articles/template-collection-log/",
            "about the data": "/about/data/",
            "privacy": "/about/privacy/",
            "not found": "/agencies/91430100MA0000000X/",
        }


PAGE_TYPES = [
    "home",
    "search, empty",
    "search, names",
    "search, no match",
    "search, credit code",
    "agency",
    "number",
    "provinces",
    "province",
    "province, filtered",
    "articles",
    "article",
    "category",
    "template",
    "about the data",
    "privacy",
    "not found",
]


# URL prefix of each language, and its <html lang>.
LANGUAGES = {"": "zh-Hans", "/zh-hant": "zh-Hant", "/en": "en"}


@pytest.mark.parametrize("prefix", list(LANGUAGES), ids=["zh-hans", "zh-hant", "en"])
@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_no_accessibility_violations(page, site, urls, axe, page_type, prefix):
    page.goto(site + prefix + urls[page_type])
    assert page.evaluate("document.documentElement.lang") == LANGUAGES[prefix]
    results = axe.run(page)
    failing = [v for v in results.response["violations"] if v["impact"] in FAILING_IMPACTS]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in failing
    )
    assert not failing, f"{prefix}{page_type} at {page.viewport_name}px:\n{report}"


@pytest.mark.parametrize("page_type", ["home", "agency", "province"])
def test_every_page_says_its_language_and_has_one_main(page, site, urls, page_type):
    page.goto(site + urls[page_type])
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert page.locator("main").count() == 1
    # Nothing that says something sits outside a landmark.
    stray = page.evaluate(
        """() => [...document.body.children]
            .filter(el => !el.matches('header, main, footer, nav, script, .skip-link'))
            .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert stray == []


@pytest.mark.parametrize("prefix", list(LANGUAGES), ids=["zh-hans", "zh-hant", "en"])
def test_the_message_check_and_its_result_have_no_violations(page, site, axe, sample, prefix):
    # The result only exists after a POST: fill the form as a visitor does.
    page.goto(site + prefix + "/check/")
    page.locator("textarea").fill(
        f"【{sample['agency'].name}】再不还钱就上报公安机关立案，通知你单位领导。"
        f"请联系 {sample['mobile']}。"
    )
    page.locator("input[type=time]").fill("23:30")
    page.locator(".check-form button").click()
    page.wait_for_selector(".check-result")
    results = axe.run(page)
    failing = [v for v in results.response["violations"] if v["impact"] in FAILING_IMPACTS]
    assert not failing, [(v["id"], v["nodes"][0]["target"]) for v in failing]
