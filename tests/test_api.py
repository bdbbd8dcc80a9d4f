"""The JSON API: shapes checked against its own OpenAPI document, errors, no cookies."""

import json
import re

import pytest

# --- A small JSON Schema checker for the subset openapi.py uses --------------------------------


def check(instance, schema, spec, path="$"):
    """Raise AssertionError naming the path where `instance` breaks `schema`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return check(instance, spec["components"]["schemas"][name], spec, path)
    for sub in schema.get("allOf", []):
        check(instance, sub, spec, path)
    types = schema.get("type")
    if types:
        types = [types] if isinstance(types, str) else types
        python = {
            "string": str,
            "integer": int,
            "boolean": bool,
            "object": dict,
            "array": list,
            "null": type(None),
        }
        ok = any(
            isinstance(instance, python[t]) and not (t == "integer" and isinstance(instance, bool))
            for t in types
        )
        assert ok, f"{path}: {instance!r} is not {types}"
    if "enum" in schema:
        assert instance in schema["enum"], f"{path}: {instance!r} not in {schema['enum']}"
    if isinstance(instance, str) and "pattern" in schema:
        assert re.search(schema["pattern"], instance), f"{path}: {instance!r} !~ pattern"
    if isinstance(instance, int) and "minimum" in schema:
        assert instance >= schema["minimum"], path
    if isinstance(instance, dict) and "properties" in schema:
        for key in schema.get("required", []):
            assert key in instance, f"{path}: missing {key}"
        for key, value in instance.items():
            if key in schema["properties"]:
                check(value, schema["properties"][key], spec, f"{path}.{key}")
            else:
                assert schema.get("additionalProperties", True), f"{path}: unexpected {key}"
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            check(item, schema["items"], spec, f"{path}[{index}]")


@pytest.fixture
def spec(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def validate(response, spec, path: str):
    operation = spec["paths"][path]["get"]
    documented = operation["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    check(response.json(), schema, spec)
    assert response["Content-Type"].startswith("application/json")
    assert not response.cookies
    assert response["Access-Control-Allow-Origin"] == "*"


# --- Responses match the document ---------------------------------------------------------------


def test_openapi_document(spec):
    assert spec["openapi"].startswith("3.1")
    for path in ("/api/v1/search", "/api/v1/agencies", "/api/v1/agencies/{uscc}"):
        assert path in spec["paths"]
    assert "/api/v1/phones/{key}" in spec["paths"]


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
def test_search(client, directory, spec, query, kind, count):
    response = client.get("/api/v1/search", {"q": query})
    assert response.status_code == 200
    validate(response, spec, "/api/v1/search")
    body = response.json()
    assert body["kind"] == kind and body["count"] == count == len(body["results"])
    if kind == "phone":
        assert set(body["phone"]) >= {"number", "key", "kind", "region", "carrier"}
    else:
        assert "phone" not in body


def test_search_uscc(client, directory, spec):
    agency = directory["xinda"]
    body = client.get("/api/v1/search", {"q": agency.uscc.lower()}).json()
    assert body["kind"] == "uscc" and body["results"][0]["uscc"] == agency.uscc
    wrong = agency.uscc[:17] + ("0" if agency.uscc[17] != "0" else "1")
    response = client.get("/api/v1/search", {"q": wrong})
    validate(response, spec, "/api/v1/search")
    body = response.json()
    assert body["uscc"]["valid"] is False and body["uscc"]["expected"] == agency.uscc


def test_search_summary_fields(client, directory):
    body = client.get("/api/v1/search", {"q": "示例催收"}).json()
    summary = body["results"][0]
    assert summary["is_sample"] is True
    assert summary["province"] == {"code": "43", "name": "湖南省"}
    assert summary["url"].endswith(f"/agencies/{summary['uscc']}/")


def test_pagination_links(client, directory, spec):
    response = client.get("/api/v1/search", {"q": "长沙", "page_size": 3})
    validate(response, spec, "/api/v1/search")
    body = response.json()
    assert body["count"] == 4 and len(body["results"]) == 3 and body["previous"] is None
    second = client.get(body["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    seen = [r["uscc"] for r in body["results"] + second["results"]]
    assert len(set(seen)) == 4


def test_agency_list(client, directory, spec):
    response = client.get("/api/v1/agencies", {"province": "湖南", "status": "存续"})
    validate(response, spec, "/api/v1/agencies")
    body = response.json()
    usccs = [r["uscc"] for r in body["results"]]
    assert usccs == sorted(usccs)  # stable order
    assert body["count"] == 5  # xinda, changsha_zc, hengtong_live, hunan_zc, sample
    with_q = client.get("/api/v1/agencies", {"q": "长沙", "province": "43"}).json()
    assert with_q["count"] == 4


def test_agency_detail(client, directory, spec):
    agency = directory["xinda"]
    response = client.get(f"/api/v1/agencies/{agency.uscc.lower()}")
    validate(response, spec, "/api/v1/agencies/{uscc}")
    body = response.json()
    assert body["former_names"] == ["长沙鑫达商务咨询有限公司"]
    assert body["aliases"] == ["鑫达资管"]
    assert {p["number"] for p in body["phones"]} == {"13907310000", "073188888888"}
    assert body["phones"][0]["reported_on"] == "2024-03-01"
    assert body["is_sample"] is False and body["source"] == "测试来源"


def test_phone_detail(client, directory, spec):
    response = client.get("/api/v1/phones/400-800-1234")
    validate(response, spec, "/api/v1/phones/{key}")
    body = response.json()
    assert body["key"] == "4008001234" and body["shared"] is True and body["count"] == 2
    assert body["agencies"][0]["link"]["source"] == "2023年度报告"


# --- Errors -------------------------------------------------------------------------------------


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
        ("/api/v1/agencies/NOTACODE", {}, 400, "uscc"),
        ("/api/v1/agencies/91430100MA4L000000", {}, 400, "uscc"),
    ],
)
def test_bad_parameters(client, directory, spec, url, params, status, parameter):
    response = client.get(url, params)
    assert response.status_code == status
    body = response.json()
    assert body["error"]["status"] == status and body["error"]["message"]
    assert body["error"].get("parameter") == parameter
    check(body, {"$ref": "#/components/schemas/Error"}, spec)


def test_unknown_records_are_404_json(client, db, spec):
    from agencies import uscc

    code = uscc.with_check_digit("91430100MA9999999")
    for url in (f"/api/v1/agencies/{code}", "/api/v1/phones/not-a-number", "/api/v1/nothing"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"].startswith("application/json")
        check(response.json(), {"$ref": "#/components/schemas/Error"}, spec)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get(client, db, method):
    response = getattr(client, method)("/api/v1/search?q=长沙")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert "GET" in response.json()["error"]["message"]


def test_unknown_phone_number_answers(client, db):
    body = client.get("/api/v1/phones/13800000000").json()
    assert body["count"] == 0 and body["agencies"] == [] and body["shared"] is False


def test_search_query_count_constant(build_directory, count_queries):
    def count(query):
        return count_queries("/api/v1/search", {"q": query})

    build_directory()
    small = {q: count(q) for q in ("长沙", "资产管理", "400-800-1234")}
    for _ in range(4):
        build_directory()
    assert {q: count(q) for q in small} == small


def test_json_is_utf8(client, directory):
    raw = client.get("/api/v1/search", {"q": "长沙"}).content.decode("utf-8")
    assert "长沙" in raw
    json.loads(raw)
