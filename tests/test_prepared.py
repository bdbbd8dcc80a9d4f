"""Prepared querysets (portal.prepared) give exactly what the plain queryset gives.

They run SQL compiled once with a new value, through Django's own iterable;
these tests hold the record page's and number page's reads to the plain
querysets' rows — instances, related objects, converted dates — on both
databases, so a Django upgrade that changes what a compiler keeps fails here.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.enums import ActionKind, NameKind
from agencies.models import (
    AgencyChange,
    AgencyPhone,
    RegulatoryAction,
    _record_list,
    agency_by_uscc,
    links_for_number,
)
from portal.prepared import Prepared
from tests.factories import add_client, add_name, add_phone, make_agency

pytestmark = pytest.mark.django_db

LISTS = ("names", "phone_links", "clients", "actions", "changes")


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def agency():
    agency = make_agency("岳阳鼎盛资产管理有限公司", city="岳阳市")
    add_name(agency, "岳阳鼎盛信息咨询有限公司", NameKind.FORMER)
    add_name(agency, "鼎盛法务", NameKind.ALIAS)
    add_phone(agency, "0730-00001234", reported_on=dt.date(2026, 3, 1), label="年报联系电话")
    add_phone(agency, "13900001234")
    add_client(agency, "某某消费金融", since=dt.date(2025, 1, 1))
    RegulatoryAction.objects.create(
        agency=agency,
        kind=ActionKind.PENALTY,
        decided_on=dt.date(2026, 2, 2),
        authority="岳阳市市场监督管理局",
        summary="示例",
    )
    return agency


def test_the_record_lists_equal_the_plain_querysets(agency):
    other = make_agency("长沙宏达商务服务有限公司")
    add_phone(other, "0731-00005678")
    got = agency.record_lists()
    for name in LISTS:
        plain = list(_record_list(name, agency.pk))
        assert [_fields(row) for row in got[name]] == [_fields(row) for row in plain], name
    assert len(got["names"]) == 2 and len(got["phone_links"]) == 2
    assert len(got["clients"]) == 1 and len(got["actions"]) == 1
    # select_related objects come with the rows, as real instances, without a query.
    with CaptureQueriesContext(connection) as queries:
        keys = [link.phone.key for link in got["phone_links"]]
    assert keys == sorted(keys) and not queries.captured_queries
    # Dates converted as the ORM converts them (SQLite stores text).
    dates = {link.reported_on for link in got["phone_links"]}
    assert dt.date(2026, 3, 1) in dates
    assert got["clients"][0].since == dt.date(2025, 1, 1)


def test_each_call_reads_the_database_again(agency):
    assert len(agency.record_lists()["names"]) == 2
    add_name(agency, "鼎盛催收", NameKind.ALIAS)
    assert len(agency.record_lists()["names"]) == 3
    other = make_agency("常德众和企业管理有限公司")
    assert agency.record_lists()["names"] != other.record_lists()["names"]
    assert other.record_lists()["names"] == []


def test_one_query_per_list_and_the_changes_capped(agency):
    for n in range(60):
        AgencyChange.objects.create(
            agency=agency,
            field="name",
            old_value=f"旧{n}",
            new_value=f"新{n}",
            via="import",
            changed_at=timezone.now() - dt.timedelta(minutes=n),
        )
    with CaptureQueriesContext(connection) as queries:
        lists = agency.record_lists()
    assert len(queries.captured_queries) == len(LISTS)
    assert len(lists["changes"]) == 51
    assert len(agency.record_lists(all_changes=True)["changes"]) == 60
    assert [c.pk for c in lists["changes"]] == [c.pk for c in _record_list("changes", agency.pk)]


def test_agency_by_code_and_links_for_a_number(agency):
    found = agency_by_uscc(agency.uscc)
    assert found.pk == agency.pk and found.province.code == agency.province.code
    assert agency_by_uscc("91430100MA0000000X") is None
    other = make_agency("岳阳恒远资产管理有限公司")
    add_phone(other, "0730-00001234")
    key = agency.phone_links.first().phone.key
    links = links_for_number(key)
    plain = list(AgencyPhone.objects.for_number(key))
    assert [_fields(link) for link in links] == [_fields(link) for link in plain]
    assert [link.agency.province.name for link in links] == [
        link.agency.province.name for link in plain
    ]
    assert links_for_number("073000009999") == []


def test_a_marker_that_is_not_one_parameter_is_refused(agency):
    prepared = Prepared(lambda code: AgencyPhone.objects.filter(phone__key="x"), marker="")
    with pytest.raises(ValueError, match="exactly one parameter"):
        prepared("13900001234")
