"""Counts the pages show come from figures kept when data changes, never from a
count over a whole table, and stay equal to a recount whatever the route."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies import figures, importing
from agencies.enums import Status
from agencies.models import Agency, AgencyTally, Province, RegistryTotal, SourceTally
from tests.factories import add_client, add_phone, make_agency

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return (
        sorted(AgencyTally.objects.values_list("province_id", "city", "status", "is_sample", "n")),
        sorted(RegistryTotal.objects.filter(n__gt=0).values_list("name", "n")),
        sorted(SourceTally.objects.values_list("source", "n")),
    )


def test_single_changes_keep_the_figures_equal_to_a_recount():
    a = make_agency("长沙示例一有限公司", city="长沙市")
    b = make_agency("株洲示例二有限公司", city="株洲市", status=Status.CANCELLED)
    make_agency("北京示例三有限公司", province_code="11", source="另一来源")
    add_phone(a, "0731-0000 1234")
    add_phone(b, "0731-0000 1234")  # one number, two links
    add_client(a, "示例银行")
    b.city, b.status, b.source = "长沙市", Status.EXISTING, "另一来源"
    b.save()
    a.is_sample = True
    a.save()
    a.save()  # saving unchanged moves nothing
    Agency.objects.get(pk=b.pk).delete()  # cascades to its phone link
    kept = snapshot()
    figures.refresh()
    assert snapshot() == kept
    assert dict(kept[1]) == {"phones": 1, "phone_links": 1, "clients": 1}


def test_an_import_recounts_in_its_transaction(tmp_path):
    make_agency("长沙示例一有限公司")
    records = [
        {
            "uscc": f"91430100TE{9000000 + i:07d}"[:17],
            "name": f"湘潭示例{i}有限公司",
            "province": "43",
            "city": "湘潭市",
            "status": "存续",
            "source": "导入来源",
            "retrieved_on": "2026-11-01",
        }
        for i in range(3)
    ]
    from agencies import uscc

    for record in records:
        record["uscc"] = uscc.with_check_digit(record["uscc"])
    summary = importing.import_records(records)
    assert not summary.failed, summary.problems
    kept = snapshot()
    figures.refresh()
    assert snapshot() == kept
    hunan = figures.ProvinceFigures.of(Province.objects.get(code="43"))
    assert hunan.total == 4 and hunan.count(city="湘潭市") == 3
    assert hunan.by_city(30) == [{"city": "长沙市", "n": 1}, {"city": "湘潭市", "n": 3}]


def test_city_filters_are_the_largest_cities_in_pinyin_order():
    for city, n in (("株洲市", 3), ("长沙市", 1), ("郴州市", 2), ("岳阳市", 1)):
        for i in range(n):
            make_agency(f"{city}示例{i}有限公司", city=city)
    hunan = figures.ProvinceFigures.of(Province.objects.get(code="43"))
    # The three largest (a tie goes to the first in pinyin), shown chang, chen, zhu.
    assert [row["city"] for row in hunan.by_city(3)] == ["长沙市", "郴州市", "株洲市"]


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/provinces/",
        "/provinces/hunan/",
        "/provinces/hunan/?status=存续&city=长沙市",
        "/about/data/",
    ],
)
def test_directory_pages_count_nothing_over_the_agency_table(client, url):
    for i in range(3):
        make_agency(f"长沙示例{i}有限公司")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    agency_table = connection.ops.quote_name(Agency._meta.db_table)
    counting = [
        q["sql"]
        for q in ctx.captured_queries
        if "COUNT(" in q["sql"].upper() and f"FROM {agency_table}" in q["sql"]
    ]
    assert counting == []


def test_province_page_totals_and_facets_come_from_the_figures(client):
    make_agency("长沙示例一有限公司", city="长沙市")
    make_agency("长沙示例二有限公司", city="长沙市", status=Status.CANCELLED)
    make_agency("株洲示例三有限公司", city="株洲市")
    html = client.get("/provinces/hunan/", {"status": "存续", "city": "长沙市"}).content.decode()
    assert "符合条件的机构 1 家" in html
    assert "本站名录收录登记在湖南省的机构 3 家" in html
    assert "长沙示例一有限公司" in html and "长沙示例二有限公司" not in html


def test_the_sample_banner_asks_the_figures_once_per_data_version():
    """Every page shows the banner or not; it must not cost a query on the
    agency table (a sequential scan on PostgreSQL right after an import), nor a
    query on every page (issue 22)."""
    make_agency(is_sample=True)
    with CaptureQueriesContext(connection) as first:
        assert figures.has_sample_data(7) is True
    assert len(first.captured_queries) == 1
    assert 'agencies_agency"' not in first.captured_queries[0]["sql"]
    with CaptureQueriesContext(connection) as again:
        assert figures.has_sample_data(7) is True
    assert again.captured_queries == []
    Agency.objects.filter(is_sample=True).delete()
    assert figures.has_sample_data(8) is False
