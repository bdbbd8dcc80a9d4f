"""简体中文 unprefixed, 繁體中文 under /zh-hant/, English under /en/: picked by the URL alone,
on every page type."""

import polib
import pytest
from django.conf import settings

from agencies.search import index as search_index
from tests.factories import add_phone, make_agency

pytestmark = pytest.mark.django_db

LOCALE = settings.BASE_DIR / "locale"


@pytest.fixture
def agency():
    agency = make_agency("长沙鑫达资产管理有限公司", address="长沙市开福区湘江中路")
    add_phone(agency, "0731-8888 8888")
    search_index.refresh([agency.id])
    return agency


def page_types(agency):
    return {
        "home": "/",
        "search": "/search/?q=鑫达",
        "agency": agency.get_absolute_url(),
        "number": "/phone/073188888888/",
        "provinces": "/provinces/",
        "province": "/provinces/hunan/",
        "about the data": "/about/data/",
        "privacy": "/about/privacy/",
    }


@pytest.mark.parametrize(
    ("code", "html_lang", "site_name", "conversion_note"),
    [
        ("zh-hant", "zh-Hant", "催收查詢", "本頁由簡體中文自動轉換為繁體"),
        ("en", "en", "Collector lookup", None),
    ],
)
def test_every_page_type_is_served_in_each_language(
    client, agency, code, html_lang, site_name, conversion_note
):
    for name, path in [*page_types(agency).items(), ("message check", "/check/")]:
        response = client.get(f"/{code}{path}")
        html = response.content.decode()
        assert response.status_code == 200, name
        assert f'<html lang="{html_lang}">' in html, name
        assert response["Content-Language"] == code, name
        assert site_name in html and "催收查询" not in html, name  # the UI
        assert f'hreflang="{html_lang}" href="http://testserver/{code}' in html, name
        # Only a converted page says it was converted.
        assert (conversion_note in html) if conversion_note else ("自动转换" not in html), name


def test_traditional_pages_convert_the_data(client, agency):
    record = client.get("/zh-hant" + agency.get_absolute_url()).content.decode()
    assert "長沙鑫達資產管理有限公司" in record  # the data
    assert "長沙市開福區湘江中路" in record
    assert "长沙鑫达" not in record


def test_the_default_language_has_no_prefix_and_says_nothing_about_conversion(client, agency):
    html = client.get(agency.get_absolute_url()).content.decode()
    assert '<html lang="zh-Hans">' in html and "长沙鑫达资产管理有限公司" in html
    assert "自动转换" not in html


def test_the_url_alone_decides(client):
    # A Traditional-Chinese browser asking for an unprefixed page gets the
    # same page as everyone else: no redirect, no cookie, nothing varying.
    response = client.get("/", headers={"accept-language": "zh-Hant-TW,zh-TW;q=0.9"})
    assert response.status_code == 200 and '<html lang="zh-Hans">' in response.content.decode()
    assert not response.cookies
    assert "Accept-Language" not in response.get("Vary", "")
    assert "Cookie" not in response.get("Vary", "")


def test_alternates_name_each_language_with_the_whole_url(client, agency):
    html = client.get("/zh-hant" + agency.get_absolute_url()).content.decode()
    path = agency.get_absolute_url()
    assert f'hreflang="zh-Hans" href="http://testserver{path}"' in html
    assert f'hreflang="zh-Hant" href="http://testserver/zh-hant{path}"' in html
    assert f'hreflang="x-default" href="http://testserver{path}"' in html
    # The switcher keeps the page, and each language's name keeps its own script.
    assert f'<a href="{path}" hreflang="zh-Hans" lang="zh-Hans" translate="no">简体中文</a>' in html
    assert 'translate="no" aria-current="true">繁體中文</a>' in html


def test_links_on_a_traditional_page_stay_in_traditional(client, agency):
    html = client.get("/zh-hant/provinces/hunan/").content.decode()
    assert f'href="/zh-hant{agency.get_absolute_url()}"' in html
    assert 'href="/zh-hant/articles/"' in html and 'href="/zh-hant/search/"' in html


def test_a_traditional_query_finds_the_agency_and_shows_it_in_traditional(client, agency):
    html = client.get("/zh-hant/search/", {"q": "長沙鑫達"}).content.decode()
    assert "長沙鑫達資產管理有限公司" in html


def test_errors_and_the_api(client):
    missing = client.get("/zh-hant/provinces/atlantis/")
    assert missing.status_code == 404 and "找不到這個頁面" in missing.content.decode()
    # The API has no language prefix and answers the same to everyone.
    assert client.get("/zh-hant/api/v1/agencies").status_code == 404
    assert client.get("/api/v1/agencies").status_code == 200
    assert client.get("/fr/").status_code == 404  # not offered
    missing = client.get("/en/provinces/atlantis/")
    assert missing.status_code == 404 and "Page not found" in missing.content.decode()


def test_the_page_cache_keeps_the_converted_page(client, settings, agency):
    settings.PORTAL_PAGE_CACHE = True
    url = "/zh-hant" + agency.get_absolute_url()
    first = client.get(url).content.decode()
    again = client.get(url).content.decode()
    assert again == first and "長沙鑫達資產管理有限公司" in again
    assert "长沙鑫达资产管理有限公司" in client.get(agency.get_absolute_url()).content.decode()


@pytest.mark.parametrize("language", ["zh_Hant", "en"])
def test_each_catalogue_is_complete_and_compiled(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    assert po.percent_translated() == 100 and not po.fuzzy_entries()
    assert {e.msgid for e in po.translated_entries()} == {e.msgid for e in mo}


# --- English ---------------------------------------------------------------------


def test_english_records_keep_their_chinese_data_under_english_labels(client, agency):
    html = client.get("/en" + agency.get_absolute_url()).content.decode()
    assert '<h1><span lang="zh-Hans">长沙鑫达资产管理有限公司</span>' in html
    assert 'Registered address</dt><dd><span lang="zh-Hans">长沙市开福区湘江中路</span>' in html
    assert "Unified Social Credit Code" in html
    assert 'Existing <span lang="zh-Hans">存续</span>' in html  # the registry's word, marked
    assert ">Hunan</a>" in html  # provinces have English names
    assert '<time datetime="2018-05-01">May 1, 2018</time>' in html  # English dates
    # Simplified Chinese pages carry no extra marks: the page itself is zh-Hans.
    assert 'lang="zh-Hans">长沙鑫达' not in client.get(agency.get_absolute_url()).content.decode()


def test_english_province_tiles_and_number_page(client, agency):
    home = client.get("/en/").content.decode()
    assert '<span class="province-name">Hunan</span>' in home
    assert "Inner Mongolia" in home and "Macao" in home
    number = client.get("/en/phone/073188888888/").content.decode()
    assert "Where the number range is registered" in number
    assert '<span lang="zh-Hans">长沙鑫达资产管理有限公司</span>' in number


def test_english_search_accepts_chinese(client, agency):
    html = client.get("/en/search/", {"q": "長沙鑫達"}).content.decode()
    assert "1 agency found" in html
    assert '<span lang="zh-Hans">长沙鑫达资产管理有限公司</span>' in html


@pytest.fixture
def articles():
    from articles.loading import sync

    sync(settings.BASE_DIR / "tests" / "data" / "articles")


def test_english_article_pages_show_the_english_summary_or_say_the_text_is_chinese(
    client, articles
):
    from articles.models import Article

    Article.objects.filter(slug="alpha-rules").update(
        title_en="Alpha: the rules of collection", summary_en="A test summary in English."
    )
    with_summary = client.get("/en/articles/alpha-rules/").content.decode()
    assert '<h1 id="article-title">Alpha: the rules of collection</h1>' in with_summary
    assert '<p class="original-title" lang="zh-Hans">阿尔法：催收的规则</p>' in with_summary
    assert "A test summary in English." in with_summary
    assert "Summary in English; the article is in Chinese." in with_summary
    assert '<div class="article-body" lang="zh-Hans">' in with_summary

    without = client.get("/en/articles/beta-rights/").content.decode()
    assert '<h1 id="article-title"><span lang="zh-Hans">贝塔：遇到骚扰怎么办</span></h1>' in without
    assert "This article is available in Chinese only." in without

    listing = client.get("/en/articles/").content.decode()
    assert ">Alpha: the rules of collection</a>" in listing
    chinese = client.get("/articles/alpha-rules/").content.decode()
    assert "Alpha: the rules" not in chinese and "English summary" not in chinese


def test_every_real_article_has_an_english_title_and_summary():
    from articles.loading import DEFAULT_DIR, read_directory

    _categories, found = read_directory(DEFAULT_DIR)
    assert found and all(a.title_en and a.summary_en for a in found)


def test_alternates_are_what_translate_url_answers(agency):
    """portal.i18n.in_language() swaps the prefix instead of resolving each
    path; for every page type and language pair it must agree with Django."""
    from django.urls import translate_url
    from django.utils import translation

    from portal.i18n import in_language

    pages = [
        "/",
        "/provinces/",
        "/provinces/hunan/?status=%E5%AD%98%E7%BB%AD&page=2",
        agency.get_absolute_url(),
        "/phone/13900001234/",
        "/search/?q=%E9%95%BF%E6%B2%99",
        "/check/",
        "/articles/",
        "/about/data/",
        "/about/privacy/",
    ]
    codes = [code for code, _name in settings.LANGUAGES]
    for page in pages:
        for current in codes:
            # The page as it is addressed in `current` (the pages above are in
            # the default language), then, as a request in that language sees
            # it, in every language.
            with translation.override(settings.LANGUAGE_CODE):
                path = translate_url(page, current)
            with translation.override(current):
                for code in codes:
                    assert in_language(path, current, code) == translate_url(path, code), (
                        path,
                        code,
                    )
