"""The province and number pages' cheap paths (issue 22) show what the plain ones showed.

A province's list is read as rows (agencies.rows.ListedAgency), a number's agencies as
rows (agencies.rows.number_links), a status's label through `status_label`, and a
province with its figures is kept per data version: each is held here to what
the model instances, get_status_display and a fresh read give, on both
databases and in the three languages.
"""

import datetime as dt

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from agencies.enums import Status
from agencies.models import Agency, AgencyPhone
from agencies.rows import ListedAgency, number_links
from agencies.templatetags.agency_tags import agency_rows, status_label
from tests.factories import add_phone, make_agency

pytestmark = pytest.mark.django_db

LANGUAGES = ("zh-hans", "zh-hant", "en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_status_label_is_what_get_status_display_shows(language):
    agency = Agency(status=Status.EXISTING)
    with translation.override(language):
        for status in Status:
            agency.status = status.value
            assert status_label(status.value) == agency.get_status_display()
        assert status_label("未知") == "未知"  # a value the vocabulary no longer has


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_listed_row_renders_as_the_agency_does(language):
    agency = make_agency("长沙示例资产管理有限公司", status=Status.CANCELLED, is_sample=True)
    undated = make_agency("株洲示例商务咨询有限公司", city="", established_on=None)
    for shown in (agency, undated):
        row = Agency.objects.filter(pk=shown.pk).values_list(*ListedAgency.FIELDS).get()
        listed = ListedAgency(shown.province, *row)
        with translation.override(language):
            plain = render_to_string("agencies/_agency_row.html", {"agency": shown})
            cheap = render_to_string(
                "agencies/_agency_row.html",
                {"agency": listed, "hit": None, "found": None, "evidence": None},
            )
        assert cheap == plain


@pytest.mark.parametrize("language", LANGUAGES)
def test_rows_without_notes_are_the_row_templates_markup(language):
    # agency_rows writes _agency_row.html's markup for each row without notes;
    # the template leaves a blank line for each note it does not show.
    agencies = [
        make_agency("长沙示例资产管理有限公司", status=Status.CANCELLED, is_sample=True),
        make_agency("株洲示例商务咨询有限公司", city="", established_on=None),
        make_agency("北京示例信息咨询有限公司", province_code="11"),
    ]
    listed = [
        ListedAgency(agency.province, *row)
        for agency in agencies
        for row in Agency.objects.filter(pk=agency.pk).values_list(*ListedAgency.FIELDS)
    ]
    with translation.override(language):
        template = "".join(
            render_to_string(
                "agencies/_agency_row.html", {"agency": row, "hit": None, "found": None}
            )
            for row in listed
        )
        tag = agency_rows(listed)

    def lines(markup):
        return [
            line for line in markup.replace("</li><li", "</li>\n<li").splitlines() if line.strip()
        ]

    assert lines(tag) == lines(template)
    assert all(agency.name in tag for agency in agencies)


def test_rows_by_primary_key_are_what_values_list_reads():
    # The search page's hits are read by a statement written out
    # (AgencyQuerySet.rows_by_pk): the same values, dates and booleans
    # included, as the ORM's values_list() on either database.
    agencies = [
        make_agency("长沙示例资产管理有限公司", status=Status.CANCELLED, is_sample=True),
        make_agency("株洲示例商务咨询有限公司", city="", established_on=None),
        make_agency("北京示例信息咨询有限公司", province_code="11"),
    ]
    ids = [agency.pk for agency in agencies]
    columns = ("pk", *ListedAgency.FIELDS, "province__code", "province__name")
    expected = set(Agency.objects.filter(pk__in=ids).values_list(*columns))
    rows = Agency.objects.rows_by_pk(ids, ListedAgency.FIELDS)
    assert set(rows) == expected
    assert {type(row[5]) for row in rows} == {bool}  # 1 == True: the set alone can't tell
    assert {type(row[6]) for row in expected} == {dt.date, type(None)}  # both kinds compared
    assert Agency.objects.rows_by_pk([ids[0], 10**9], ListedAgency.FIELDS)[0][0] == ids[0]
    assert Agency.objects.rows_by_pk([], ListedAgency.FIELDS) == []


# What a reader sees in one row, by language: agency_summary writes it in
# Python (issue 22), so the catalogue entries and the language marks are held
# here, not by the template.
ROW_TEXT = {
    "zh-hans": [
        "示例数据",
        "虚构的演示记录",
        '"status status-dead">注销<',
        "湖南 · 长沙市",
        "成立于 <time",
    ],
    "zh-hant": [
        "示例數據",
        "虛構的演示記錄",
        '"status status-dead">註銷<',
        "湖南 · 長沙市",
        "成立於 <time",
    ],
    "en": [
        "Sample data",
        "Fictitious demonstration record",
        'Deregistered <span lang="zh-Hans">注销</span>',
        'Hunan · <span lang="zh-Hans">长沙市</span>',
        'Established <time datetime="2018-05-01">',
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_row_shows_its_facts_in_the_pages_language(client, language):
    agency = make_agency("长沙示例资产管理有限公司", status=Status.CANCELLED, is_sample=True)
    prefix = {"zh-hans": "", "zh-hant": "/zh-hant", "en": "/en"}[language]
    html = client.get(f"{prefix}/provinces/hunan/").content.decode()
    row = html[html.index('<li class="agency-row">') :]
    row = row[: row.index("</li>")]
    for text in ROW_TEXT[language]:
        assert text in row, text
    assert f'href="{prefix}/agencies/{agency.uscc}/"' in row
    name = "長沙示例資產管理有限公司" if language == "zh-hant" else agency.name
    assert (f'<span lang="zh-Hans">{name}</span>' in row) == (language == "en")
    assert name in row and agency.uscc in row


def test_the_number_links_are_what_for_number_reads():
    first = make_agency("长沙示例资产管理有限公司")
    second = make_agency("岳阳示例信息咨询有限公司", city="岳阳市", established_on=None)
    beijing = make_agency("北京示例信息咨询有限公司", province_code="11")
    for agency in (second, beijing, first):
        add_phone(
            agency,
            "400-800-1234",
            label=f"{agency.city}客服",
            source_url="https://example.org/a",
            reported_on=dt.date(2025, 6, 30),
        )
    add_phone(first, "0731-0000 1234", source="")
    for key in ("4008001234", "073100001234", "13900000000"):
        plain = list(AgencyPhone.objects.for_number(key))
        rows = number_links(key)
        assert [link.agency.uscc for link in rows] == [link.agency.uscc for link in plain]
        for row, link in zip(rows, plain, strict=True):
            for field in ListedAgency.FIELDS:
                assert getattr(row.agency, field) == getattr(link.agency, field), field
            assert row.agency.province.display_name == link.agency.province.display_name
            assert row.agency.get_absolute_url() == link.agency.get_absolute_url()
            for field in ("number_as_reported", "label", "source", "source_url", "reported_on"):
                assert getattr(row, field) == getattr(link, field), field


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in ctx.captured_queries]


@pytest.mark.parametrize("query", ["", "?status=存续", "?city=长沙市&sort=-established&page=2"])
def test_a_province_is_read_once_per_data_version(client, query):
    make_agency("长沙示例资产管理有限公司")
    url = "/provinces/hunan/" + query
    first = _queries(client, "/provinces/hunan/")
    assert any('FROM "agencies_agencytally"' in sql for sql in first)
    # Any query string of the province shares the province and its figures:
    # what is left is the data version and the page's rows.
    again = _queries(client, url)
    assert len(again) == 2
    assert not any('FROM "agencies_province"' in sql for sql in again)
    assert not any('FROM "agencies_agencytally"' in sql for sql in again)
    # A change is a new data version: the figures are read again, and right.
    make_agency("株洲示例商务咨询有限公司", city="株洲市")
    html = client.get("/provinces/hunan/").content.decode()
    assert "株洲示例商务咨询有限公司" in html and "符合条件的机构 2 家" in html


def test_an_unknown_province_is_not_kept(client):
    for _ in range(2):
        assert client.get("/provinces/atlantis/").status_code == 404


def test_a_changed_province_name_is_shown_at_once(client):
    make_agency("长沙示例资产管理有限公司")
    client.get("/provinces/hunan/")
    from agencies.models import Province

    province = Province.objects.get(code="43")
    province.name = "湖南示例省"
    province.save()  # a new data version
    assert "湖南示例省" in client.get("/provinces/hunan/").content.decode()
