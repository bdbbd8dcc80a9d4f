"""portal.sql: hand-written pieces that must mean the same on both databases."""

import pytest
from django.db import connection

from agencies.search.models import TradeNameKey
from portal.sql import one_of
from tests.factories import make_agency

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "values",
    [[], ["鼎盛"], ["鼎盛", "岳阳鼎盛", "没有的", "it's"], [f"键{i}" for i in range(500)]],
)
def test_one_of_keeps_exactly_the_rows_whose_value_is_listed(values):
    agency = make_agency(name="岳阳鼎盛资产管理有限公司")
    for key in ("鼎盛", "岳阳鼎盛", "it's", "键7"):
        TradeNameKey.objects.get_or_create(agency=agency, key=key, defaults={"place_length": 0})
    among, params = one_of(connection, "key", values, "text")
    table = connection.ops.quote_name(TradeNameKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key FROM {table} WHERE {among} ORDER BY key", params)
        found = [key for (key,) in cursor.fetchall()]
    expected = sorted(set(TradeNameKey.objects.values_list("key", flat=True)) & set(values))
    assert found == expected
    assert len(params) == 1  # one parameter whatever the list's length
