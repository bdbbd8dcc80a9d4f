"""/api/v1/articles and /api/v1/articles/<slug>: shapes checked against the generated
OpenAPI document, filters, paging, and the one JSON error envelope."""

from pathlib import Path

import pytest
from django.test import Client

from articles.loading import sync
from articles.models import Article

FIXTURES = Path(__file__).parent / "data" / "articles"
SUMMARY_KEYS = {"slug", "title", "summary", "category", "tags", "published", "updated", "url"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def synced():
    sync(FIXTURES)


@pytest.fixture
def get_json(client, api_check):
    """get_json(url, params, status) -> body, checked against the document (api_check)."""

    def get(url, params=None, status=200):
        response = client.get(url, params or {})
        assert response.status_code == status, response.content
        assert response["Content-Type"] == "application/json"
        assert response["Access-Control-Allow-Origin"] == "*"
        assert not response.cookies
        template = "/api/v1/articles" if url == "/api/v1/articles" else "/api/v1/articles/{slug}"
        return api_check(response, template)

    return get


def error(status, message, parameter=None):
    return {"error": {"status": status, "message": message, "parameter": parameter}}


def test_list_shape_and_order(get_json):
    data = get_json("/api/v1/articles")

    assert data["count"] == 4
    assert data["next"] is None and data["previous"] is None
    assert data["partial"] is False
    assert set(data) == {"count", "partial", "next", "previous", "results"}
    assert [a["slug"] for a in data["results"]] == [
        "gamma-rules",
        "delta-credit",
        "beta-rights",
        "alpha-rules",
    ]
    beta = data["results"][2]
    assert set(beta) == SUMMARY_KEYS
    assert beta == {
        "slug": "beta-rights",
        "title": "贝塔：遇到骚扰怎么办",
        "summary": "测试文章乙，讲保存证据和投诉 LPR 无关的事。",
        "category": {"slug": "rights", "name": "维权与投诉"},
        "tags": [
            {"slug": "cui-shou-gui-ze", "name": "催收规则"},
            {"slug": "wei-quan-tou-su", "name": "维权投诉"},
        ],
        "published": "2026-02-01",
        "updated": "2026-03-01",
        "url": "http://testserver/articles/beta-rights/",
    }


def test_list_is_unicode_not_escaped(client):
    assert "贝塔" in client.get("/api/v1/articles").content.decode()


def test_list_pages_link_to_each_other(get_json):
    tag = {"tag": "cui-shou-gui-ze", "page_size": "1"}
    first = get_json("/api/v1/articles", tag)
    second = get_json("/api/v1/articles", {**tag, "page": "2"})
    last = get_json("/api/v1/articles", {**tag, "page": "3"})

    assert first["count"] == 3
    assert first["previous"] is None
    assert (
        first["next"] == "http://testserver/api/v1/articles?tag=cui-shou-gui-ze&page_size=1&page=2"
    )
    assert (
        second["previous"]
        == "http://testserver/api/v1/articles?tag=cui-shou-gui-ze&page_size=1&page=1"
    )
    assert last["next"] is None
    seen = [r["slug"] for page in (first, second, last) for r in page["results"]]
    assert seen == ["gamma-rules", "beta-rights", "alpha-rules"]


def test_default_page_size_is_20(get_json):
    assert len(get_json("/api/v1/articles")["results"]) == 4  # all of them, on one page
    assert get_json("/api/v1/articles", {"page_size": "3"})["next"].endswith("page_size=3&page=2")


def test_list_links_use_portal_base_url(get_json, settings):
    settings.PORTAL_BASE_URL = "https://cuishou.example"
    data = get_json("/api/v1/articles", {"page_size": "1"})
    assert data["next"] == "https://cuishou.example/api/v1/articles?page_size=1&page=2"
    assert data["results"][0]["url"] == "https://cuishou.example/articles/gamma-rules/"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "rules"}, ["gamma-rules", "alpha-rules"]),
        ({"tag": "li-lv"}, ["delta-credit"]),
        ({"category": "rules", "tag": "xin-yong-ka"}, ["alpha-rules"]),
        ({"category": "reference"}, []),
    ],
)
def test_list_filters(get_json, params, expected):
    data = get_json("/api/v1/articles", params)
    assert [a["slug"] for a in data["results"]] == expected
    assert data["count"] == len(expected)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"page": "abc"}, error(400, "page 应是正整数，这里是“abc”。", "page")),
        ({"page": "0"}, error(400, "page 不能小于 1，这里是 0。", "page")),
        ({"page": "-1"}, error(400, "page 不能小于 1，这里是 -1。", "page")),
        ({"page": "1.5"}, error(400, "page 应是正整数，这里是“1.5”。", "page")),
        (
            {"page": "١"},
            error(400, "page 应是正整数，这里是“١”。", "page"),
        ),  # an Arabic-Indic digit
        ({"page": "2"}, error(404, "没有第 2 页：共 1 页。", "page")),
        # Past the cap on every list (portal.paging.MAX_PAGE): a bad parameter, not a missing page.
        (
            {"page": "99999999999999999999"},
            error(400, "page 不能大于 500，这里是 99999999999999999999。", "page"),
        ),
        ({"page_size": "0"}, error(400, "page_size 不能小于 1，这里是 0。", "page_size")),
        ({"page_size": "101"}, error(400, "page_size 不能大于 100，这里是 101。", "page_size")),
        # A slug no category or tag has is not found; anything that cannot be
        # a slug (the document's pattern), blank included, is a bad parameter.
        ({"category": "nope"}, error(404, "没有这个分类：nope", "category")),
        ({"tag": "nope"}, error(404, "没有这个标签：nope", "tag")),
        ({"category": ""}, error(400, "没有这个分类：", "category")),
        ({"tag": ""}, error(400, "没有这个标签：", "tag")),
        ({"category": "Rules"}, error(400, "没有这个分类：Rules", "category")),
        ({"tag": "催收规则"}, error(400, "没有这个标签：催收规则", "tag")),
        ({"category": "rules\x00"}, error(400, "没有这个分类：rules\x00", "category")),
        ({"category": "<script>"}, error(400, "没有这个分类：<script>", "category")),
    ],
)
def test_list_errors_are_json(get_json, params, expected):
    status = expected["error"]["status"]
    assert get_json("/api/v1/articles", params, status=status) == expected


def test_detail_shape(get_json):
    data = get_json("/api/v1/articles/alpha-rules")

    assert set(data) == SUMMARY_KEYS | {
        "byline",
        "reading_minutes",
        "toc",
        "body_html",
        "sources",
    }
    assert data["byline"] == "测试编辑部"
    assert data["reading_minutes"] == 1
    assert data["toc"][0] == {"level": 2, "id": "谁可以被催收", "text": "谁可以被催收"}
    assert data["sources"][1] == {"title": "某行业指引", "date": "2026-01"}
    assert '<h2 id="谁可以被催收">' in data["body_html"]
    # The live figure is filled in here too, not left as a marker.
    assert "本站收录" in data["body_html"] and "data-live-stat" not in data["body_html"]


@pytest.mark.parametrize("slug", ["no-such-article", "催收", "UPPER", "a" * 300, "x%00y"])
def test_detail_unknown_is_json_404(get_json, slug):
    data = get_json(f"/api/v1/articles/{slug}", status=404)
    assert data["error"]["message"].startswith("没有找到这篇文章")
    assert data["error"]["status"] == 404 and data["error"]["parameter"] is None


def test_detail_unpublished_is_404(get_json):
    Article.objects.filter(slug="alpha-rules").update(is_published=False)
    get_json("/api/v1/articles/alpha-rules", status=404)
    assert get_json("/api/v1/articles")["count"] == 3


@pytest.mark.parametrize("url", ["/api/v1/articles", "/api/v1/articles/alpha-rules"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get(url, method, api_check):
    # CSRF checks on, as in production: the answer is still the JSON 405.
    response = getattr(Client(enforce_csrf_checks=True), method)(url)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    template = "/api/v1/articles" if url == "/api/v1/articles" else "/api/v1/articles/{slug}"
    message = f"只支持 GET 请求（以及 HEAD、OPTIONS），不支持 {method.upper()}。"
    assert api_check(response, template) == error(405, message)


def test_head_is_allowed(client):
    response = client.head("/api/v1/articles")
    assert response.status_code == 200 and response.content == b""
    assert client.head("/api/v1/articles/alpha-rules").status_code == 200


def test_options_is_allowed(client):
    response = client.options("/api/v1/articles/alpha-rules")
    assert response.status_code == 204 and response["Allow"] == "GET, HEAD, OPTIONS"


def test_openapi_describes_the_responses(api_spec, get_json):
    """The generated document lists both endpoints, and its required keys are exactly
    what they return."""
    paths, schemas = api_spec["paths"], api_spec["components"]["schemas"]
    assert {"/api/v1/articles", "/api/v1/articles/{slug}"} <= set(paths)
    params = {p["name"] for p in paths["/api/v1/articles"]["get"]["parameters"]}
    assert params == {"page", "page_size", "category", "tag"}
    assert paths["/api/v1/articles"]["get"]["operationId"] == "listArticles"
    assert paths["/api/v1/articles/{slug}"]["get"]["operationId"] == "getArticle"

    # Every $ref points at a schema that exists.
    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(api_spec):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref

    def ok_schema(path):
        ref = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        return schemas[ref["$ref"].removeprefix("#/components/schemas/")]

    listed = get_json("/api/v1/articles")
    assert set(ok_schema("/api/v1/articles")["required"]) == set(listed)
    summary = schemas["ArticleSummary"]
    assert set(summary["required"]) == set(summary["properties"]) == set(listed["results"][0])
    detail = get_json("/api/v1/articles/alpha-rules")
    assert set(ok_schema("/api/v1/articles/{slug}")["required"]) == set(detail)
