"""The JSON API (/api/v1/, portal/api.py): real answers validated against the generated
OpenAPI document, the one error envelope, the methods rule, paging, query budgets, and a
bounded Schemathesis run over every operation."""

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.http import Http404
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from agencies import api as agencies_api
from agencies import uscc
from agencies.enums import ActionKind
from agencies.models import Agency, RegulatoryAction
from portal.api import openapi_document
from portal.api_errors import ERROR_STATUSES, ApiError
from portal.paging import MAX_PAGE
from tests.factories import add_client

OPERATIONS = [
    "/api/v1/search",
    "/api/v1/agencies",
    "/api/v1/agencies/{uscc}",
    "/api/v1/phones/{key}",
    "/api/v1/articles",
    "/api/v1/articles/{slug}",
    "/api/v1/openapi.json",
]
ALLOW = "GET, HEAD, OPTIONS"


# --- The document -------------------------------------------------------------------------------


def test_openapi_document(api_spec, api_check, client):
    assert api_spec["openapi"].startswith("3.1")
    # Every operation reads; the message check takes its text as a POST body
    # (tests/test_check.py) and may also answer 413 and 415 (tests/test_check_input.py).
    assert set(api_spec["paths"]) == {*OPERATIONS, "/api/v1/check"}
    check = api_spec["paths"]["/api/v1/check"]
    assert set(check) == {"post"}
    assert set(check["post"]["responses"]) == {"200", "413", "415", *map(str, ERROR_STATUSES)}
    # Its answer: the agencies it led to and how, and the trade names several
    # agencies share (tests/test_check_names.py).
    schemas = api_spec["components"]["schemas"]
    assert {"agencies", "candidates"} <= set(schemas["CheckResult"]["required"])
    assert schemas["CheckAgency"]["properties"]["found_by"]["items"]["enum"] == [
        "phone", "credit_code", "name", "place_and_trade_name", "trade_name"
    ]  # fmt: skip
    for path in OPERATIONS:
        assert set(api_spec["paths"][path]) == {"get"}, path  # read-only
        documented = api_spec["paths"][path]["get"]["responses"]
        assert set(documented) == {"200", *map(str, ERROR_STATUSES)}, path
        for status in ERROR_STATUSES:
            schema = documented[str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (path, status)
    api_check(client.get("/api/v1/openapi.json"), "/api/v1/openapi.json")


def test_openapi_lists_the_parameters(api_spec):
    def names(path):
        return {p["name"] for p in api_spec["paths"][path]["get"].get("parameters", [])}

    paging = {"page", "page_size"}
    assert names("/api/v1/search") == {"q", "province", "status", *paging}
    assert names("/api/v1/agencies") == {"q", "province", "status", *paging}
    assert names("/api/v1/articles") == {"category", "tag", *paging}
    assert names("/api/v1/agencies/{uscc}") == {"uscc"}
    assert names("/api/v1/phones/{key}") == {"key"}
    assert names("/api/v1/articles/{slug}") == {"slug"}
    # Every list declares the same two paging parameters, with the same bounds.
    for path in ("/api/v1/search", "/api/v1/agencies", "/api/v1/articles"):
        params = {p["name"]: p for p in api_spec["paths"][path]["get"]["parameters"]}
        assert params["page"]["schema"]["maximum"] == MAX_PAGE
        assert params["page_size"]["schema"]["maximum"] == 100
        assert params["page_size"]["schema"]["default"] == 20


def test_no_interactive_docs(client, db):
    # They would load third-party JavaScript; the document itself is enough.
    response = client.get("/api/v1/docs")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_document_is_chinese_json(client, db):
    raw = client.get("/api/v1/openapi.json").content.decode("utf-8")
    assert "催收机构名录" in raw


# --- Answers match the document -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "kind", "count"),
    [
        ("长沙", "name", 4),
        ("changsha", "name", 4),
        ("0731-88888888", "phone", 1),
        ("400 800 1234", "phone", 2),
        ("", "empty", 0),
        ("有限公司", "name", 0),
    ],
)
def test_search(client, directory, api_check, query, kind, count):
    response = client.get("/api/v1/search", {"q": query})
    assert response.status_code == 200
    body = api_check(response, "/api/v1/search")
    assert body["kind"] == kind and body["count"] == count == len(body["results"])
    assert body["partial"] is False
    if kind == "phone":
        assert set(body["phone"]) >= {"number", "key", "kind", "region", "carrier"}
    else:
        assert "phone" not in body
    if kind != "uscc":
        assert "uscc" not in body


def test_search_uscc(client, directory, api_check):
    agency = directory["xinda"]
    response = client.get("/api/v1/search", {"q": agency.uscc.lower()})
    body = api_check(response, "/api/v1/search")
    assert body["kind"] == "uscc" and body["results"][0]["uscc"] == agency.uscc
    assert body["uscc"] == {
        "code": agency.uscc,
        "valid": True,
        "message": "",
        "expected": None,
        "found": True,
    }
    wrong = agency.uscc[:17] + ("0" if agency.uscc[17] != "0" else "1")
    response = client.get("/api/v1/search", {"q": wrong})
    body = api_check(response, "/api/v1/search")
    assert body["uscc"]["valid"] is False and body["uscc"]["expected"] == agency.uscc
    assert body["count"] == 0 and "phone" not in body


def test_search_summary_fields(client, directory):
    body = client.get("/api/v1/search", {"q": "示例催收"}).json()
    summary = body["results"][0]
    assert summary["is_sample"] is True
    assert summary["province"] == {"code": "43", "name": "湖南省"}
    assert summary["url"].endswith(f"/agencies/{summary['uscc']}/")
    assert summary["url"] == f"http://testserver/agencies/{summary['uscc']}/"
    assert summary["api_url"] == f"http://testserver/api/v1/agencies/{summary['uscc']}"
    assert set(summary) == {
        "uscc",
        "name",
        "province",
        "city",
        "status",
        "is_live",
        "url",
        "api_url",
        "is_sample",
    }


def test_summary_links_use_portal_base_url(client, directory, settings):
    settings.PORTAL_BASE_URL = "https://cuishou.example"
    body = client.get("/api/v1/agencies", {"page_size": 1}).json()
    summary = body["results"][0]
    assert summary["url"] == f"https://cuishou.example/agencies/{summary['uscc']}/"
    assert summary["api_url"] == f"https://cuishou.example/api/v1/agencies/{summary['uscc']}"
    assert body["next"] == "https://cuishou.example/api/v1/agencies?page_size=1&page=2"


def test_pagination_links(client, directory, api_check):
    response = client.get("/api/v1/search", {"q": "长沙", "page_size": 3})
    body = api_check(response, "/api/v1/search")
    assert body["count"] == 4 and len(body["results"]) == 3 and body["previous"] is None
    assert body["next"] == "http://testserver/api/v1/search?q=%E9%95%BF%E6%B2%99&page_size=3&page=2"
    second = client.get(body["next"])
    second_body = api_check(second, "/api/v1/search")
    assert len(second_body["results"]) == 1 and second_body["next"] is None
    assert second_body["previous"].endswith("page_size=3&page=1")
    seen = [r["uscc"] for r in body["results"] + second_body["results"]]
    assert len(set(seen)) == 4


@pytest.mark.parametrize("url", ["/api/v1/search?q=长沙", "/api/v1/agencies", "/api/v1/articles"])
def test_one_pagination_for_every_list(client, directory, url):
    """page and page_size mean the same everywhere; so do the errors."""
    sep = "&" if "?" in url else "?"
    body = client.get(f"{url}{sep}page_size=1").json()
    assert set(body) >= {"count", "partial", "next", "previous", "results"}
    assert body["partial"] is False and len(body["results"]) <= 1
    for params, status in [
        ("page=0", 400),
        ("page=abc", 400),
        ("page=", 400),  # the document says a whole number: blank is not one
        ("page=1&page=2", 400),  # one value (not the last of several)
        ("page_size=5&page_size=5", 400),
        (f"page={MAX_PAGE + 1}", 400),
        ("page=400", 404),
        ("page_size=0", 400),
        ("page_size=101", 400),
    ]:
        response = client.get(f"{url}{sep}{params}")
        assert response.status_code == status, (url, params)
        assert response.json()["error"]["parameter"] == params.split("=")[0]


def test_agency_list(client, directory, api_check):
    response = client.get("/api/v1/agencies", {"province": "湖南", "status": "存续"})
    body = api_check(response, "/api/v1/agencies")
    usccs = [r["uscc"] for r in body["results"]]
    assert usccs == sorted(usccs)  # stable order
    assert body["count"] == 5  # xinda, changsha_zc, hengtong_live, hunan_zc, sample
    with_q = client.get("/api/v1/agencies", {"q": "长沙", "province": "43"})
    assert api_check(with_q, "/api/v1/agencies")["count"] == 4
    repeated = client.get("/api/v1/agencies?province=43&status=存续&status=注销").json()
    comma = client.get("/api/v1/agencies", {"province": "43", "status": "存续,注销"}).json()
    assert repeated["count"] == comma["count"] == 6  # … and hengtong, cancelled


def test_agency_detail(client, directory, api_check):
    agency = directory["xinda"]
    response = client.get(f"/api/v1/agencies/{agency.uscc.lower()}")
    body = api_check(response, "/api/v1/agencies/{uscc}")
    assert body["former_names"] == ["长沙鑫达商务咨询有限公司"]
    assert body["aliases"] == ["鑫达资管"]
    assert {p["number"] for p in body["phones"]} == {"13907310000", "073188888888"}
    assert body["phones"][0]["reported_on"] == "2024-03-01"
    assert body["is_sample"] is False and body["source"] == "测试来源"
    assert body["established_on"] == "2018-05-01"
    assert body["registered_capital_wan"] is None
    assert body["updated_at"].startswith(str(agency.updated_at.year))
    assert body["phones"][0]["url"].startswith("http://testserver/phone/")


def test_agency_detail_with_every_part(client, directory, api_check):
    agency = directory["huarong"]
    Agency.objects.filter(pk=agency.pk).update(registered_capital_wan=Decimal("1000.5"))
    add_client(agency, "某某银行", since=date(2020, 1, 1), source_url="https://example.org/c")
    RegulatoryAction.objects.create(
        agency=agency,
        kind=ActionKind.PENALTY,
        authority="北京市市场监督管理局",
        decided_on=date(2023, 5, 6),
        document_number="京市监罚〔2023〕1号",
        summary="违规催收",
    )
    body = api_check(client.get(f"/api/v1/agencies/{agency.uscc}"), "/api/v1/agencies/{uscc}")
    assert body["registered_capital_wan"] == "1000.5000"
    assert body["clients"] == [
        {
            "name": "某某银行",
            "since": "2020-01-01",
            "until": None,
            "source_url": "https://example.org/c",
        }
    ]
    assert body["actions"][0]["kind"] == "penalty"
    assert body["actions"][0]["kind_label"] == "行政处罚"
    assert body["actions"][0]["decided_on"] == "2023-05-06"


def test_phone_detail(client, directory, api_check):
    response = client.get("/api/v1/phones/400-800-1234")
    body = api_check(response, "/api/v1/phones/{key}")
    assert body["key"] == "4008001234" and body["shared"] is True and body["count"] == 2
    assert body["agencies"][0]["link"]["source"] == "2023年度报告"
    assert body["agencies"][0]["link"]["number"] == "4008001234"
    assert body["number"] and body["kind"] == "toll_free" and body["kind_label"]


def test_unknown_phone_number_answers(client, db, api_check):
    response = client.get("/api/v1/phones/13800000000")
    body = api_check(response, "/api/v1/phones/{key}")
    assert body["count"] == 0 and body["agencies"] == [] and body["shared"] is False


def test_json_is_utf8(client, directory):
    raw = client.get("/api/v1/search", {"q": "长沙"}).content.decode("utf-8")
    assert "长沙" in raw
    json.loads(raw)


def test_head_is_get_without_a_body(client, directory):
    response = client.head("/api/v1/search", {"q": "长沙"})
    assert response.status_code == 200 and response.content == b""
    assert response["Content-Type"] == "application/json"


# --- Errors: one envelope for everything ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "status", "parameter"),
    [
        ("/api/v1/agencies", {"province": "火星"}, 400, "province"),
        ("/api/v1/agencies", {"status": "bogus"}, 400, "status"),
        ("/api/v1/agencies", {"page": "abc"}, 400, "page"),
        ("/api/v1/agencies", {"page": "0"}, 400, "page"),
        ("/api/v1/agencies", {"page_size": "1000"}, 400, "page_size"),
        ("/api/v1/agencies", {"page": "400"}, 404, "page"),
        ("/api/v1/search", {"q": "长沙", "page": "9"}, 404, "page"),
        ("/api/v1/search", {"q": "长沙", "province": "x"}, 400, "province"),
        ("/api/v1/search", {"q": "长沙", "page_size": "x"}, 400, "page_size"),
        ("/api/v1/agencies", {"province": ""}, 400, "province"),
        ("/api/v1/agencies", {"province": "HUNAN"}, 400, "province"),
        ("/api/v1/agencies", {"status": "存续，在业"}, 400, "status"),  # full-width comma
        ("/api/v1/agencies", {"status": "active"}, 400, "status"),
        ("/api/v1/search", {"q": "0731-88888888", "status": "x"}, 400, "status"),
        ("/api/v1/search", {"q": ["长沙", "湖南"]}, 400, "q"),
        ("/api/v1/agencies/NOTACODE", {}, 400, "uscc"),
        ("/api/v1/agencies/9143-0100MA4L0P5U37", {}, 400, "uscc"),
        # The right shape, the wrong check character: no agency can have it.
        ("/api/v1/agencies/91430100MA4L000000", {}, 404, "uscc"),
    ],
)
def test_bad_parameters(client, directory, api_check, url, params, status, parameter):
    response = client.get(url, params)
    assert response.status_code == status
    template = url if "/agencies/" not in url else "/api/v1/agencies/{uscc}"
    body = api_check(response, template)
    assert body["error"]["status"] == status and body["error"]["message"]
    assert body["error"]["parameter"] == parameter


def test_validation_messages_are_chinese(client, db):
    assert client.get("/api/v1/agencies", {"page": "abc"}).json()["error"] == {
        "status": 400,
        "message": "page 应是正整数，这里是“abc”。",
        "parameter": "page",
    }
    error = client.get("/api/v1/agencies", {"page_size": "1000"}).json()["error"]
    assert error["message"] == "page_size 不能大于 100，这里是 1000。"


def test_unknown_records_are_404_json(client, db, api_check):
    code = uscc.with_check_digit("91430100MA9999999")
    for url, template in (
        (f"/api/v1/agencies/{code}", "/api/v1/agencies/{uscc}"),
        ("/api/v1/phones/not-a-number", "/api/v1/phones/{key}"),
        ("/api/v1/articles/no-such-slug", "/api/v1/articles/{slug}"),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        body = api_check(response, template)
        assert body["error"]["parameter"] is None and body["error"]["message"]


@pytest.mark.parametrize(
    "url", ["/api/v1/nope", "/api/v1/nothing/at/all", "/api/v1/", "/api/v1/search/", "/api/v1/docs"]
)
def test_unknown_paths_are_404_json(client, db, api_check, url):
    response = client.get(url)
    assert response.status_code == 404
    body = api_check(response, None)
    assert body["error"]["parameter"] is None
    assert "/api/v1/openapi.json" in body["error"]["message"]


def test_http404_raised_anywhere_is_json(client, directory, api_check, monkeypatch):
    def missing(*args, **kwargs):
        raise Http404("没有这个号码。")

    monkeypatch.setattr(agencies_api.phones, "normalize", missing)
    response = client.get("/api/v1/phones/13907310000")
    assert response.status_code == 404
    assert api_check(response, "/api/v1/phones/{key}")["error"]["message"] == "没有这个号码。"


def test_a_crash_is_a_json_500_without_traceback(client, directory, api_check, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(agencies_api.phones, "normalize", broken)
    response = client.get("/api/v1/phones/13907310000")
    assert response.status_code == 500
    body = api_check(response, "/api/v1/phones/{key}")
    assert body["error"]["parameter"] is None
    assert "secret" not in response.content.decode() and "Traceback" not in body["error"]["message"]
    # Still logged for whoever runs the site.
    assert any(record.exc_info for record in caplog.records if record.name == "django.request")


@pytest.mark.parametrize("status", [429, 503])
def test_any_status_can_use_the_envelope(client, directory, api_check, monkeypatch, status):
    """The hook for rate limiting and the readiness check: raise ApiError anywhere."""

    def refuse(*args, **kwargs):
        raise ApiError(status, "请稍后再试。")

    monkeypatch.setattr(agencies_api.phones, "normalize", refuse)
    response = client.get("/api/v1/phones/13907310000")
    assert response.status_code == status
    body = api_check(response, "/api/v1/phones/{key}")
    assert body == {"error": {"status": status, "message": "请稍后再试。", "parameter": None}}


CONCRETE = {
    "/api/v1/search": "/api/v1/search?q=长沙",
    "/api/v1/agencies": "/api/v1/agencies",
    "/api/v1/agencies/{uscc}": "/api/v1/agencies/91430100MA4L000000",
    "/api/v1/phones/{key}": "/api/v1/phones/13907310000",
    "/api/v1/articles": "/api/v1/articles",
    "/api/v1/articles/{slug}": "/api/v1/articles/alpha-rules",
    "/api/v1/openapi.json": "/api/v1/openapi.json",
}


@pytest.mark.parametrize("template", [*OPERATIONS, None])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get_head_and_options(db, api_check, template, method):
    # Django's CSRF check on, as in production: a POST must still get the JSON 405.
    client = Client(enforce_csrf_checks=True)
    url = CONCRETE[template] if template else "/api/v1/nope"
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert response["Allow"] == ALLOW
    body = api_check(response, template)
    assert "GET" in body["error"]["message"] and method.upper() in body["error"]["message"]
    assert body["error"]["parameter"] is None


@pytest.mark.parametrize("url", [*CONCRETE.values(), "/api/v1/nope"])
def test_options_says_what_is_allowed(client, db, url):
    response = client.options(url)
    assert response.status_code == 204
    assert response["Allow"] == ALLOW
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == ALLOW
    assert response["Access-Control-Max-Age"] == "86400"
    assert not response.cookies


# --- What it costs ------------------------------------------------------------------------------


def test_query_counts_do_not_grow_with_the_data(build_directory, count_queries):
    first = build_directory()
    agency, number = first["xinda"].uscc, "4008001234"
    urls = [
        ("/api/v1/search", {"q": "长沙"}),
        ("/api/v1/search", {"q": "资产管理"}),
        ("/api/v1/search", {"q": "400-800-1234"}),
        ("/api/v1/search", {"q": agency}),
        ("/api/v1/agencies", {}),
        ("/api/v1/agencies", {"province": "43", "status": "存续"}),
        (f"/api/v1/agencies/{agency}", {}),
        (f"/api/v1/phones/{number}", {}),
    ]
    small = [count_queries(url, params) for url, params in urls]
    for _ in range(4):
        build_directory()
    assert [count_queries(url, params) for url, params in urls] == small


# --- Schemathesis: every operation, generated inputs ---------------------------------------------
# The same checks as the command-line run against a live server (docs/api.md,
# "Checking the document"), with the same settings (tests/schemathesis.toml):
# valid and invalid inputs, every response check. The run's phases that
# re-send requests (stateful links, coverage's request-shape probes) are the
# command line's part; this one runs in every suite, on both databases.

SCHEMATHESIS_CONFIG = SchemathesisConfig.from_path(Path(__file__).with_name("schemathesis.toml"))
# Loaded from the generated document when the module is imported (pytest-django
# has set Django up by then; generating it needs no database).
schema = schemathesis.openapi.from_dict(
    copy.deepcopy(openapi_document()), config=SCHEMATHESIS_CONFIG
)
load_all_checks()
# Every check Schemathesis has (what `--checks all` runs); the ones that need a
# recorded sequence of calls (use_after_free …) pass on a single case.
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]


def test_schemathesis_runs_every_check():
    names = {check.__name__ for check in ALL_CHECKS}
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "unsupported_method",
        "allow_header_conformance",
        "missing_required_header",
    } <= names
    assert {mode.value for mode in schema.config.generation.modes} == {"positive", "negative"}


@pytest.fixture
def wsgi_app(directory):
    """Django's WSGI handler, answering in-process (no network) inside the test's transaction."""
    # What Django's test Client does too: the handler would otherwise close the
    # connection after each request, breaking the test's open transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_schemathesis(case, wsgi_app):
    """Valid inputs answered, invalid ones refused in the envelope, no 5xx, and every
    answer (errors too) what the document says."""
    # identity: the site gzips for clients that accept it, and Schemathesis's
    # WSGI transport asks for gzip without decoding it.
    headers = {"Accept-Encoding": "identity"}
    response = case.call(app=wsgi_app, headers=headers)
    case.validate_response(response, checks=ALL_CHECKS, headers=headers)
