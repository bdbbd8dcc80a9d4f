"""简体中文 unprefixed, 繁體中文 under /zh-hant/: picked by the URL alone, on every page type."""

import polib
import pytest
from django.conf import settings

from agencies.search import index as search_index
from tests.factories import add_phone, make_agency

pytestmark = pytest.mark.django_db

LOCALE = settings.BASE_DIR / "locale" / "zh_Hant" / "LC_MESSAGES"


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


def test_every_page_type_is_served_in_traditional_characters(client, agency):
    for name, path in page_types(agency).items():
        response = client.get("/zh-hant" + path)
        html = response.content.decode()
        assert response.status_code == 200, name
        assert '<html lang="zh-Hant">' in html, name
        assert response["Content-Language"] == "zh-hant", name
        assert "催收查詢" in html and "催收查询" not in html, name  # the UI
        assert "本頁由簡體中文自動轉換為繁體" in html, name  # and it says what it did
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
    assert client.get("/en/").status_code == 404  # not offered (yet)


def test_the_page_cache_keeps_the_converted_page(client, settings, agency):
    settings.PORTAL_PAGE_CACHE = True
    url = "/zh-hant" + agency.get_absolute_url()
    first = client.get(url).content.decode()
    again = client.get(url).content.decode()
    assert again == first and "長沙鑫達資產管理有限公司" in again
    assert "长沙鑫达资产管理有限公司" in client.get(agency.get_absolute_url()).content.decode()


def test_the_traditional_catalogue_is_complete_and_compiled():
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))
    assert po.percent_translated() == 100 and not po.fuzzy_entries()
    assert {e.msgid for e in po.translated_entries()} == {e.msgid for e in mo}
