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
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

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


def closed(node):
    """The schema with every object closed (no keys but the documented ones).

    The published document leaves objects open, so that adding a key later
    does not break a strict client; the tests hold the API to exactly the
    documented keys, as the hand-written document used to.
    """
    if isinstance(node, dict):
        node = {key: closed(value) for key, value in node.items()}
        if "properties" in node:
            node.setdefault("additionalProperties", False)
        return node
    if isinstance(node, list):
        return [closed(value) for value in node]
    return node


@pytest.fixture
def api_spec(client, db) -> dict:
    """The generated /api/v1/openapi.json."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def api_check(api_spec):
    """api_check(response, path) -> body: the answer is JSON, has no cookies, allows
    any origin, and its body is valid against what /api/v1/openapi.json documents
    for that path (its `method` operation, GET unless said) and that status,
    formats included.

    path=None (a path no operation serves) checks against the error envelope.
    """
    registry = Registry().with_resource("urn:api", DRAFT202012.create_resource(closed(api_spec)))

    def check(response, path: str | None, method: str = "get") -> dict:
        assert response["Content-Type"] == "application/json", response["Content-Type"]
        assert response["Access-Control-Allow-Origin"] == "*"
        assert not response.cookies
        body = response.json()
        status = response.status_code
        if path is None:
            pointer = "/components/schemas/Error"
        else:
            escaped = path.replace("~", "~0").replace("/", "~1")
            pointer = (
                f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"
            )
            assert str(status) in api_spec["paths"][path][method]["responses"], (path, status)
        validator = Draft202012Validator(
            {"$ref": f"urn:api#{pointer}"},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, errors
        if status != 200:
            assert body["error"]["status"] == status
        return body

    return check


@pytest.fixture
def dead_cache():
    """`with dead_cache:` — the cache is a Redis on a port where nothing listens.

    (A context manager rather than the `settings` fixture, so the cache is
    restored before the autouse fixture below clears it.)
    """
    return override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:9/0",
                "OPTIONS": {"socket_connect_timeout": 0.2},
            }
        }
    )


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test starts with an empty local-memory cache, and without what the
    process keeps per data version (portal.caching.kept_here) or of the
    version itself (portal.models.current_version): tests roll their data
    back, so the same version number can mean other data."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    from portal.caching import forget_kept_here
    from portal.models import forget_version

    cache.clear()
    forget_kept_here()
    forget_version()
    yield
    cache.clear()
    forget_kept_here()
    forget_version()


@pytest.fixture(scope="module")
def migration_rows_back_afterwards(django_db_setup, django_db_blocker):
    """For a module of transactional tests (transaction=True, serialized_rollback=True)."""
    # A transactional test leaves the database flushed; serialized_rollback
    # gives the migrations' rows (the provinces) back to the test itself only.
    # The tests that run after these (the browser tests load the sample data,
    # which needs the provinces) get them back here.
    yield
    with django_db_blocker.unblock():
        connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
