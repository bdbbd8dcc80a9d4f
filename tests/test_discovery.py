"""Atom feed, sitemaps and robots.txt: valid XML that lists what people can visit."""

import datetime
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from articles.loading import sync
from articles.models import Article
from portal.sitemaps import AgencySitemap
from tests.factories import make_agency

FIXTURES = Path(__file__).parent / "data" / "articles"
ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def synced():
    sync(FIXTURES)


def parse_xml(response) -> ET.Element:
    assert response.status_code == 200
    return ET.fromstring(response.content)


def locs(root: ET.Element, kind: str = "url") -> list[str]:
    return [el.findtext(f"{SM}loc") for el in root.findall(f"{SM}{kind}")]


def unprefixed(urls: list[str]) -> list[str]:
    """The default language's URLs (each page is listed once per language)."""
    return [u for u in urls if not u.split("/", 3)[3].startswith(("zh-hant/", "en/"))]


# --- Atom feed -------------------------------------------------------------------


def test_feed_is_atom_with_the_newest_articles(client):
    response = client.get("/articles/feed/")
    root = parse_xml(response)

    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "催收查询 · 权利与规则"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://testserver/articles/feed/"
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == "http://testserver/articles/"
    assert root.findtext(f"{ATOM}updated").startswith("2026-03-05T00:00:00+08:00")

    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "伽马：催收时间",
        "德尔塔：利率上限",
        "贝塔：遇到骚扰怎么办",
        "阿尔法：催收的规则",
    ]
    beta = entries[2]
    assert beta.find(f"{ATOM}link").get("href") == "http://testserver/articles/beta-rights/"
    assert beta.findtext(f"{ATOM}published") == "2026-02-01T00:00:00+08:00"
    assert beta.findtext(f"{ATOM}updated") == "2026-03-01T00:00:00+08:00"
    assert beta.findtext(f"{ATOM}summary").startswith("测试文章乙")
    assert beta.findtext(f"{ATOM}author/{ATOM}name") == "测试编辑部"
    assert {c.get("term") for c in beta.findall(f"{ATOM}category")} == {
        "维权与投诉",
        "维权投诉",
        "催收规则",
    }


def test_feed_leaves_out_unpublished_articles(client):
    Article.objects.filter(slug="gamma-rules").update(is_published=False)
    root = parse_xml(client.get("/articles/feed/"))
    assert len(root.findall(f"{ATOM}entry")) == 3


def test_feed_uses_portal_base_url(client, settings):
    settings.PORTAL_BASE_URL = "https://cuishou.example"
    root = parse_xml(client.get("/articles/feed/"))
    hrefs = [link.get("href") for link in root.iter(f"{ATOM}link")]
    assert hrefs and all(h.startswith("https://cuishou.example/") for h in hrefs)


def test_feed_with_no_articles(client):
    Article.objects.update(is_published=False)
    root = parse_xml(client.get("/articles/feed/"))
    assert root.findall(f"{ATOM}entry") == []


# --- sitemaps ----------------------------------------------------------------------


def test_sitemap_index_lists_every_section(client):
    root = parse_xml(client.get("/sitemap.xml"))
    assert root.tag == f"{SM}sitemapindex"
    assert locs(root, "sitemap") == [
        "http://testserver/sitemap-pages.xml",
        "http://testserver/sitemap-articles.xml",
        "http://testserver/sitemap-topics.xml",
        "http://testserver/sitemap-provinces.xml",
        "http://testserver/sitemap-agencies.xml",
    ]


def test_every_section_is_a_valid_urlset(client):
    index = parse_xml(client.get("/sitemap.xml"))
    for url in locs(index, "sitemap"):
        root = parse_xml(client.get(url.removeprefix("http://testserver")))
        assert root.tag == f"{SM}urlset"


def test_articles_section(client):
    Article.objects.filter(slug="gamma-rules").update(is_published=False)
    root = parse_xml(client.get("/sitemap-articles.xml"))

    assert unprefixed(locs(root)) == [
        "http://testserver/articles/alpha-rules/",
        "http://testserver/articles/beta-rights/",
        "http://testserver/articles/delta-credit/",
    ]
    lastmods = [el.findtext(f"{SM}lastmod") for el in root.findall(f"{SM}url")]
    assert lastmods == ["2026-01-10"] * 3 + ["2026-03-01"] * 3 + ["2026-03-05"] * 3


def test_every_page_is_listed_in_every_language_with_its_alternates(client):
    root = parse_xml(client.get("/sitemap-articles.xml"))
    path = "/articles/alpha-rules/"
    assert locs(root)[:3] == [
        f"http://testserver{path}",
        f"http://testserver/zh-hant{path}",
        f"http://testserver/en{path}",
    ]
    links = root.find(f"{SM}url").findall("{http://www.w3.org/1999/xhtml}link")
    assert {(link.get("hreflang"), link.get("href")) for link in links} == {
        ("zh-hans", f"http://testserver{path}"),
        ("zh-hant", f"http://testserver/zh-hant{path}"),
        ("en", f"http://testserver/en{path}"),
        ("x-default", f"http://testserver{path}"),
    }


def test_pages_and_topics_sections(client):
    pages = unprefixed(locs(parse_xml(client.get("/sitemap-pages.xml"))))
    assert "http://testserver/articles/" in pages
    assert "http://testserver/provinces/" in pages

    topics = unprefixed(locs(parse_xml(client.get("/sitemap-topics.xml"))))
    assert "http://testserver/articles/category/rules/" in topics
    assert "http://testserver/articles/tag/cui-shou-gui-ze/" in topics
    # A category without articles is not worth a crawler's visit.
    assert "http://testserver/articles/category/reference/" not in topics


def test_provinces_section(client):
    urls = unprefixed(locs(parse_xml(client.get("/sitemap-provinces.xml"))))
    assert len(urls) == 34
    assert "http://testserver/provinces/hunan/" in urls


def test_agencies_section_is_split_into_pages(client, monkeypatch):
    # 5 agencies in 3 languages, 4 entries a page: pages end part-way through
    # an agency's languages, and nothing is lost or repeated at the seams.
    monkeypatch.setattr(AgencySitemap, "limit", 4)
    agencies = sorted((make_agency(f"机构{i}") for i in range(5)), key=lambda a: a.uscc)

    index = locs(parse_xml(client.get("/sitemap.xml")), "sitemap")
    assert index[-4:] == [
        "http://testserver/sitemap-agencies.xml",
        "http://testserver/sitemap-agencies.xml?p=2",
        "http://testserver/sitemap-agencies.xml?p=3",
        "http://testserver/sitemap-agencies.xml?p=4",
    ]
    pages = [locs(parse_xml(client.get("/sitemap-agencies.xml", {"p": p}))) for p in "1234"]
    assert [len(p) for p in pages] == [4, 4, 4, 3]
    assert [url for page in pages for url in page] == [
        f"http://testserver{prefix}{a.get_absolute_url()}"
        for a in agencies
        for prefix in ("", "/zh-hant", "/en")
    ]
    lastmod = parse_xml(client.get("/sitemap-agencies.xml")).find(f"{SM}url/{SM}lastmod").text
    assert datetime.date.fromisoformat(lastmod[:10])


def test_agency_sitemap_limit_is_below_the_protocol_maximum():
    assert AgencySitemap.limit == 5000


@pytest.mark.parametrize("url", ["/sitemap-nope.xml", "/sitemap-agencies.xml?p=abc"])
def test_sitemap_errors_are_404(client, url):
    assert client.get(url).status_code == 404


def test_sitemap_empty_page_is_404(client):
    assert client.get("/sitemap-agencies.xml", {"p": "9"}).status_code == 404


def test_sitemaps_use_portal_base_url(client, settings):
    settings.PORTAL_BASE_URL = "https://cuishou.example"
    index = locs(parse_xml(client.get("/sitemap.xml")), "sitemap")
    assert index[0] == "https://cuishou.example/sitemap-pages.xml"
    articles = locs(parse_xml(client.get("/sitemap-articles.xml")))
    assert articles[0] == "https://cuishou.example/articles/alpha-rules/"


# --- robots.txt ----------------------------------------------------------------------


def test_robots_txt(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /search/" in lines and "Disallow: /zh-hant/search/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_robots_txt_uses_portal_base_url(client, settings):
    settings.PORTAL_BASE_URL = "https://cuishou.example"
    assert (
        "Sitemap: https://cuishou.example/sitemap.xml" in client.get("/robots.txt").content.decode()
    )


def test_discovery_sets_no_cookies(client):
    for url in ("/articles/feed/", "/sitemap.xml", "/sitemap-articles.xml", "/robots.txt"):
        assert not client.get(url).cookies
