"""Fixtures shared by the whole suite.

`directory` is the one small, deterministic dataset the search, number-page
and API tests share. Its names are chosen so that each ranking rule and each
folding rule has a case: an exact name, prefixes, substrings, a former name,
an alias, a dead agency that must rank after a live one, a number shared by
two companies.
"""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.enums import NameKind, Status
from agencies.search import index as search_index
from tests.factories import add_name, add_phone, make_agency

# key: (name, province, status, former names, aliases, phones)
DIRECTORY = {
    "xinda": (
        "湖南长沙鑫达资产管理有限公司",
        "43",
        Status.EXISTING,
        ["长沙鑫达商务咨询有限公司"],
        ["鑫达资管"],
        ["0731-88888888", "139 0731 0000"],
    ),
    "changsha_zc": ("长沙资产管理有限公司", "43", Status.EXISTING, [], [], []),
    "hengtong": ("长沙市恒通信息咨询有限公司", "43", Status.CANCELLED, [], [], []),
    "hengtong_live": ("长沙市恒通信息服务有限公司", "43", Status.EXISTING, [], [], []),
    "huarong": (
        "北京华融催收服务有限公司",
        "11",
        Status.EXISTING,
        [],
        [],
        ["400-800-1234"],
    ),
    "xinda_sh": (
        "上海信达催收股份有限公司",
        "31",
        Status.REVOKED,
        [],
        [],
        ["400 800 1234", "95511"],
    ),
    "chongqing": ("重庆银行资产管理有限公司", "50", Status.EXISTING, [], [], []),
    "hunan_zc": ("湖南资产经营有限公司", "43", Status.EXISTING, [], [], []),
    "abc": ("ＡＢＣ资产管理（深圳）有限责任公司", "44", Status.OPERATING, [], [], []),
    "guangzhou": (
        "广州市天河资产管理有限公司",
        "44",
        Status.EXISTING,
        ["广州天河催收有限公司"],
        [],
        [],
    ),
    "sample": ("示例催收服务有限公司", "43", Status.EXISTING, [], [], []),
}


def _build_directory() -> dict:
    """Adds every DIRECTORY agency (with fresh credit codes) and indexes them."""
    agencies = {}
    for key, (name, province, status, former, aliases, numbers) in DIRECTORY.items():
        agency = make_agency(
            name,
            province,
            status=status,
            is_sample=key == "sample",
            city="长沙市" if province == "43" else "",
        )
        for other in former:
            add_name(agency, other, NameKind.FORMER)
        for other in aliases:
            add_name(agency, other, NameKind.ALIAS)
        for number in numbers:
            add_phone(agency, number, reported_on=date(2024, 3, 1), source="2023年度报告")
        agencies[key] = agency
    search_index.refresh(a.id for a in agencies.values())
    return agencies


@pytest.fixture
def build_directory(db):
    """The builder itself, for tests that add the directory again to grow the data."""
    return _build_directory


@pytest.fixture
def directory(build_directory) -> dict:
    """The DIRECTORY agencies by key, saved and indexed."""
    return build_directory()


@pytest.fixture
def count_queries(client):
    """count_queries(url, params=None) -> how many queries one GET of the page cost.

    The page must answer 200: a budget measured on an error page means nothing.
    """

    def count(url: str, params: dict | None = None) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, params or {})
        assert response.status_code == 200, (url, params, response.status_code)
        return len(ctx.captured_queries)

    return count


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test starts with an empty local-memory cache."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
