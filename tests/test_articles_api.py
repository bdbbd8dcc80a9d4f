"""/api/v1/articles and /api/v1/articles/<slug>: shapes, filters, and JSON errors."""

from pathlib import Path

import pytest

from articles import api
from articles.loading import sync
from articles.models import Article

FIXTURES = Path(__file__).parent / "data" / "articles"
SUMMARY_KEYS = {"slug", "title", "summary", "category", "tags", "published", "updated", "url"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def synced():
    sync(FIXTURES)


def get_json(client, url, params=None, status=200):
    response = client.get(url, params or {})
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not response.cookies
    return response.json()


def test_list_shape_and_order(client):
    data = get_json(client, "/api/v1/articles")

    assert data["count"] == 4
    assert data["next"] is None and data["previous"] is None
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


def test_list_pages_link_to_each_other(client, monkeypatch):
    monkeypatch.setattr(api, "PAGE_SIZE", 1)

    first = get_json(client, "/api/v1/articles", {"tag": "cui-shou-gui-ze"})
    second = get_json(client, "/api/v1/articles", {"tag": "cui-shou-gui-ze", "page": "2"})
    last = get_json(client, "/api/v1/articles", {"tag": "cui-shou-gui-ze", "page": "3"})

    assert first["count"] == 3
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/articles?tag=cui-shou-gui-ze&page=2"
    assert second["previous"] == "http://testserver/api/v1/articles?tag=cui-shou-gui-ze&page=1"
    assert last["next"] is None
    seen = [r["slug"] for page in (first, second, last) for r in page["results"]]
    assert seen == ["gamma-rules", "beta-rights", "alpha-rules"]


def test_list_links_use_portal_base_url(client, settings, monkeypatch):
    settings.PORTAL_BASE_URL = "https://cuishou.example"
    monkeypatch.setattr(api, "PAGE_SIZE", 1)
    data = get_json(client, "/api/v1/articles")
    assert data["next"] == "https://cuishou.example/api/v1/articles?page=2"
    assert data["results"][0]["url"] == "https://cuishou.example/articles/gamma-rules/"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "rules"}, ["gamma-rules", "alpha-rules"]),
        ({"tag": "li-lv"}, ["delta-credit"]),
        ({"category": "rules", "tag": "xin-yong-ka"}, ["alpha-rules"]),
        ({"category": "reference"}, []),
        (
            {"category": "", "tag": ""},
            ["gamma-rules", "delta-credit", "beta-rights", "alpha-rules"],
        ),
    ],
)
def test_list_filters(client, params, expected):
    data = get_json(client, "/api/v1/articles", params)
    assert [a["slug"] for a in data["results"]] == expected
    assert data["count"] == len(expected)


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"page": "abc"}, 400, "page 参数应为正整数。"),
        ({"page": "0"}, 400, "page 参数应为正整数。"),
        ({"page": "-1"}, 400, "page 参数应为正整数。"),
        ({"page": "1.5"}, 400, "page 参数应为正整数。"),
        ({"page": "١"}, 400, "page 参数应为正整数。"),  # an Arabic-Indic digit
        ({"page": "2"}, 404, "没有第 2 页（共 1 页）。"),
        ({"page": "99999999999999999999"}, 404, "没有第 99999999999999999999 页（共 1 页）。"),
        ({"category": "nope"}, 400, "没有这个分类：nope"),
        ({"tag": "nope"}, 400, "没有这个标签：nope"),
        ({"tag": "催收规则"}, 400, "没有这个标签：催收规则"),
        ({"category": "rules\x00"}, 400, "没有这个分类：rules\x00"),
        ({"category": "<script>"}, 400, "没有这个分类：<script>"),
    ],
)
def test_list_errors_are_json(client, params, status, error):
    assert get_json(client, "/api/v1/articles", params, status=status) == {"error": error}


def test_detail_shape(client):
    data = get_json(client, "/api/v1/articles/alpha-rules")

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
def test_detail_unknown_is_json_404(client, slug):
    data = get_json(client, f"/api/v1/articles/{slug}", status=404)
    assert data["error"].startswith("没有找到这篇文章")


def test_detail_unpublished_is_404(client):
    Article.objects.filter(slug="alpha-rules").update(is_published=False)
    get_json(client, "/api/v1/articles/alpha-rules", status=404)
    assert get_json(client, "/api/v1/articles")["count"] == 3


@pytest.mark.parametrize("url", ["/api/v1/articles", "/api/v1/articles/alpha-rules"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get(client, url, method):
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {"error": "只支持 GET 请求。"}


def test_head_is_allowed(client):
    assert client.head("/api/v1/articles").status_code == 200


def test_openapi_paths_describe_the_responses(client):
    spec = api.openapi_paths()
    paths, schemas = spec["paths"], spec["components"]["schemas"]

    assert set(paths) == {"/api/v1/articles", "/api/v1/articles/{slug}"}
    params = {p["name"] for p in paths["/api/v1/articles"]["get"]["parameters"]}
    assert params == {"page", "category", "tag"}

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

    for ref in refs(spec):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref

    # The documented required keys are exactly what the endpoints return.
    listed = get_json(client, "/api/v1/articles")
    assert set(schemas["ArticlePage"]["required"]) == set(listed)
    assert set(schemas["ArticleSummary"]["required"]) == set(listed["results"][0])
    detail = get_json(client, "/api/v1/articles/alpha-rules")
    extra = schemas["Article"]["allOf"][1]["required"]
    assert set(schemas["ArticleSummary"]["required"]) | set(extra) == set(detail)
    assert api.openapi_paths(prefix="/v2")["paths"].keys() == {
        "/v2/articles",
        "/v2/articles/{slug}",
    }
