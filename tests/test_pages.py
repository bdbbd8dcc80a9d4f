"""The directory pages: what a visitor sees, and what each page costs in queries."""

from datetime import date

import pytest

from agencies.enums import ActionKind, NameKind, Status
from agencies.models import RegulatoryAction
from tests.factories import add_client, add_name, add_phone, make_agency

pytestmark = pytest.mark.django_db


@pytest.fixture
def hunan_agency():
    agency = make_agency(
        "长沙示例资产管理有限公司",
        city="长沙市",
        registered_capital="1000万人民币",
        legal_representative="示例人甲",
        source="国家企业信用信息公示系统",
        source_url="https://example.org/registry/1",
        retrieved_on=date(2026, 11, 1),
    )
    add_name(agency, "长沙示例投资咨询有限公司", NameKind.FORMER)
    add_name(agency, "示例法务部", NameKind.ALIAS)
    add_phone(agency, "0731-0000 1234", label="年报联系电话", reported_on=date(2025, 6, 30))
    add_client(
        agency, "示例银行信用卡中心", since=date(2023, 1, 1), source_url="https://example.org/p"
    )
    RegulatoryAction.objects.create(
        agency=agency,
        kind=ActionKind.ABNORMAL,
        authority="示例市场监督管理局",
        decided_on=date(2025, 3, 1),
        document_number="示例〔2025〕1号",
        summary="未按时公示年报",
    )
    return agency


def test_home_shows_search_box_provinces_and_recent(client, hunan_agency):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'action="/search/"' in html
    assert "湖南" in html and "/provinces/hunan/" in html
    assert hunan_agency.name in html
    assert html.count('class="province-name"') == 34


def test_home_directory_follows_the_data_in_every_language(client, hunan_agency, settings):
    """The tiles and the recently updated list are kept per data version and
    language (agencies.views._directory_sections), even with the page cache
    off: a change to the data shows at once."""
    settings.PORTAL_PAGE_CACHE = False
    assert "名录共收录 1 家机构" in client.get("/").content.decode()
    assert "Hunan" in client.get("/en/").content.decode()
    make_agency("株洲示例信息咨询有限公司", city="株洲市")
    html = client.get("/").content.decode()
    assert "名录共收录 2 家机构" in html
    assert "株洲示例信息咨询有限公司" in html.split("最近更新的机构")[1]
    assert "名錄共收錄 2 家機構" in client.get("/zh-hant/").content.decode()
    en = client.get("/en/").content.decode()
    assert "Hunan" in en and "湖南" not in en.split("province-grid")[1].split("</ul>")[0]


def test_province_list_counts_agencies(client, hunan_agency):
    make_agency("北京示例信息咨询有限公司", province_code="11")
    html = client.get("/provinces/").content.decode()
    assert "湖南省" in html and "陕西省" in html and "山西省" in html
    assert "/provinces/shaanxi/" in html and "/provinces/shanxi/" in html


def test_province_page_lists_filters_and_sorts(client, hunan_agency):
    make_agency("株洲示例商务咨询有限公司", city="株洲市", established_on=date(2010, 1, 1))
    make_agency("已注销示例咨询有限公司", city="长沙市", status=Status.CANCELLED)
    make_agency("北京示例信息咨询有限公司", province_code="11")

    html = client.get("/provinces/hunan/").content.decode()
    assert "长沙示例资产管理有限公司" in html and "株洲示例商务咨询有限公司" in html
    assert "北京示例" not in html
    assert "符合条件的机构 3 家" in html

    html = client.get("/provinces/hunan/?city=株洲市").content.decode()
    assert "株洲示例商务咨询有限公司" in html and "长沙示例资产管理" not in html

    html = client.get("/provinces/hunan/?status=注销").content.decode()
    assert "已注销示例咨询有限公司" in html and "株洲示例" not in html

    html = client.get("/provinces/hunan/?sort=established").content.decode()
    assert html.index("株洲示例商务咨询") < html.index("长沙示例资产管理")


def test_province_page_sorts_names_in_pinyin_order(client, hunan_agency):
    # In code-point order 株 (U+682A) and 岳 (U+5CB3) come before 长 (U+957F);
    # a reader looks for 长沙 under c, before 岳阳 (y) and 株洲 (zh).
    make_agency("株洲示例商务咨询有限公司")
    make_agency("岳阳示例信息咨询有限公司")
    make_agency("爱心示例咨询有限公司")

    html = client.get("/provinces/hunan/").content.decode()
    names = ["爱心示例", "长沙示例资产管理", "岳阳示例", "株洲示例"]
    assert [html.index(n) for n in names] == sorted(html.index(n) for n in names)


def test_renaming_an_agency_moves_it_in_the_list(client, hunan_agency):
    other = make_agency("株洲示例商务咨询有限公司")
    other.name = "安化示例商务咨询有限公司"
    other.save(update_fields=["name"])
    html = client.get("/provinces/hunan/").content.decode()
    assert html.index("安化示例") < html.index("长沙示例资产管理")


@pytest.mark.parametrize(
    "query",
    [
        "?status=bogus",
        "?sort=drop table",
        "?page=999",
        "?page=abc",
        "?page=-1",
        "?city=" + "x" * 500,
        "?status=存续&status=%00",
        "?city=%00",
    ],
)
def test_invalid_filters_give_a_corrected_page_not_an_error(client, hunan_agency, query):
    response = client.get("/provinces/hunan/" + query)
    html = response.content.decode()
    assert response.status_code == 200
    assert "湖南省" in html and "符合条件的机构" in html
    if "city" not in query:  # an impossible city rightly filters everything out
        assert hunan_agency.name in html


def test_bad_status_is_dropped_but_city_still_filters(client, hunan_agency):
    make_agency("株洲示例商务咨询有限公司", city="株洲市")
    html = client.get("/provinces/hunan/?status=bogus&city=株洲市").content.decode()
    assert "株洲示例商务咨询有限公司" in html and "长沙示例资产管理" not in html


def test_unknown_province_is_a_404_that_says_so(client):
    response = client.get("/provinces/atlantis/")
    assert response.status_code == 404
    assert "没有这个省份" in response.content.decode()


def test_province_page_paginates(client):
    for i in range(30):
        make_agency(f"示例咨询{i:02d}有限公司")
    page1 = client.get("/provinces/hunan/").content.decode()
    page2 = client.get("/provinces/hunan/?page=2").content.decode()
    assert "第 1 页，共 2 页" in page1 and "示例咨询00有限公司" in page1
    assert "示例咨询29有限公司" in page2 and "示例咨询00有限公司" not in page2


def test_hunan_page_links_to_the_regulator_article(client, hunan_agency):
    html = client.get("/provinces/hunan/").content.decode()
    assert "/articles/hunan-collection-regulation/" in html


def test_agency_page_shows_the_whole_record_with_sources(client, hunan_agency):
    response = client.get(f"/agencies/{hunan_agency.uscc}/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in [
        hunan_agency.name,
        hunan_agency.uscc,
        "存续",
        "企业依法存在",  # status in plain words
        "长沙示例投资咨询有限公司",
        "示例法务部",
        "0731-0000 1234",
        "/phone/073100001234/",
        "年报联系电话",
        # Every date one way: 2025年6月30日, machine-readable in <time>.
        '<time datetime="2025-06-30">2025年6月30日</time>',
        "示例银行信用卡中心",
        "经营异常名录",
        "示例〔2025〕1号",
        "国家企业信用信息公示系统",
        "www.gsxt.gov.cn",
        '获取于 <time datetime="2026-11-01">2026年11月1日</time>',
    ]:
        assert text in html, text


def test_agency_page_starts_with_what_identifies_it(client, hunan_agency):
    html = client.get(f"/agencies/{hunan_agency.uscc}/").content.decode()
    start = html.index('<header class="record-header">')
    end = html.index("</header>", start)
    # Name, status, credit code, province and numbers, before any table.
    for text in [hunan_agency.name, "存续", hunan_agency.uscc, "湖南省", "0731-0000 1234"]:
        assert text in html[start:end], text
    assert end < html.index("<table")


def test_agency_url_accepts_lower_case_code(client, hunan_agency):
    response = client.get(f"/agencies/{hunan_agency.uscc.lower()}/")
    assert response.status_code == 200
    assert hunan_agency.name in response.content.decode()


def test_unknown_agency_is_a_404_that_says_so(client):
    from tests.factories import make_uscc

    code = make_uscc(serial=999999)
    response = client.get(f"/agencies/{code}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "名录中没有统一社会信用代码为" in html and code in html


def test_malformed_code_is_a_404_that_explains(client):
    response = client.get("/agencies/91512081MA62K0260A/")
    assert response.status_code == 404
    assert "校验位不对" in response.content.decode()
    response = client.get("/agencies/not-a-code/")
    assert response.status_code == 404
    assert "不是有效的统一社会信用代码" in response.content.decode()


def test_about_data_page(client, hunan_agency, settings):
    settings.PORTAL_CONTACT_EMAIL = "fix@example.net"
    html = client.get("/about/data/").content.decode()
    assert "fix@example.net" in html
    assert "不代表来电者合法可信" in html
    assert "不代表它有违法行为" in html
    assert "国家企业信用信息公示系统" in html


def test_sample_records_carry_badge_and_banner(client):
    sample = make_agency("示例演示资产管理有限公司", is_sample=True)
    html = client.get(f"/agencies/{sample.uscc}/").content.decode()
    assert 'class="badge badge-sample"' in html
    assert 'class="sample-banner"' in html
    assert 'class="sample-banner"' in client.get("/provinces/").content.decode()


def test_no_banner_without_sample_data(client, hunan_agency):
    assert 'class="sample-banner"' not in client.get("/").content.decode()


@pytest.mark.parametrize("url", ["/", "/provinces/", "/provinces/hunan/", "/about/data/"])
def test_public_pages_set_no_cookies_and_a_strict_csp(client, hunan_agency, url):
    response = client.get(url)
    assert response.cookies == {}
    assert "Vary" not in response or "Cookie" not in response["Vary"]
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_agency_page_sets_no_cookies(client, hunan_agency):
    assert client.get(f"/agencies/{hunan_agency.uscc}/").cookies == {}


def _grow(n, start):
    for i in range(n):
        agency = make_agency(f"增长示例{start + i}有限公司", city=["长沙市", "株洲市"][i % 2])
        add_phone(agency, f"1390000{start + i:04d}")
        add_name(agency, f"增长示例别名{start + i}", NameKind.ALIAS)


@pytest.mark.parametrize("url", ["/", "/provinces/", "/provinces/hunan/", "/about/data/"])
def test_list_page_query_counts_do_not_grow_with_data(count_queries, url):
    _grow(3, 0)
    small = count_queries(url)
    _grow(40, 100)
    assert count_queries(url) == small


def test_agency_page_query_count_does_not_grow_with_its_facts(count_queries, hunan_agency):
    small = count_queries(f"/agencies/{hunan_agency.uscc}/")
    for i in range(10):
        add_phone(hunan_agency, f"1350000{i:04d}")
        add_name(hunan_agency, f"示例别名{i}", NameKind.ALIAS)
        add_client(hunan_agency, f"示例委托方{i}")
    assert count_queries(f"/agencies/{hunan_agency.uscc}/") == small
    assert small <= 8


def test_pages_have_no_inline_script_or_style(client, hunan_agency):
    """The strict CSP blocks inline code, so none may appear (JSON-LD data blocks aside)."""
    import re

    from django.core.management import call_command

    call_command("sync_articles", verbosity=0)
    urls = [
        "/",
        "/provinces/",
        "/provinces/hunan/",
        f"/agencies/{hunan_agency.uscc}/",
        "/about/data/",
        "/search/?q=长沙",
        "/phone/073100001234/",
        "/articles/",
        "/articles/collector-conduct-rules/",
    ]
    for url in urls:
        html = client.get(url, follow=True).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/ld+json"' in tag, (url, tag)
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), url
