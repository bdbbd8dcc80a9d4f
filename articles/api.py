"""Read-only JSON for articles: /api/v1/articles and /api/v1/articles/<slug>.

Same querysets as the pages, so the API cannot drift from what people see.
Every answer is JSON, errors included, with a Chinese `error` message.
"""

import re
from functools import wraps

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import seo
from .models import Article, Category, Tag
from .rendering import fill_live_stats

PAGE_SIZE = 20
SLUG = re.compile(r"^[-a-z0-9]{1,100}$")
JSON_OPTIONS = {"ensure_ascii": False}


def _json(data, status=200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params=JSON_OPTIONS)
    # Public, read-only, no cookies: any site may read it.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(message: str, status: int) -> JsonResponse:
    return _json({"error": message}, status=status)


def get_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = _error(_("只支持 GET 请求。"), 405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapper


def article_summary(request, article) -> dict:
    return {
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "category": {"slug": article.category.slug, "name": article.category.name},
        "tags": [{"slug": tag.slug, "name": tag.name} for tag in article.tags.all()],
        "published": article.published_on.isoformat(),
        "updated": article.updated_on.isoformat(),
        "url": seo.absolute_url(request, article.get_absolute_url()),
    }


def article_full(request, article) -> dict:
    return {
        **article_summary(request, article),
        "byline": article.byline,
        "reading_minutes": article.reading_minutes,
        "toc": article.toc,
        "body_html": fill_live_stats(article.body_html),
        "sources": article.sources,
    }


def _page_number(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        return None
    return int(raw)


@get_only
def article_list(request):
    articles = Article.objects.published().for_listing().latest()
    category = request.GET.get("category", "").strip()
    tag = request.GET.get("tag", "").strip()
    for name, value, model in (("category", category, Category), ("tag", tag, Tag)):
        # The pattern is checked before the database sees the value: PostgreSQL
        # raises on a NUL byte, which would be a 500.
        if value and not (SLUG.match(value) and model.objects.filter(slug=value).exists()):
            return _error(_("没有这个%(what)s：%(value)s") % _label(name, value), 400)
    params = {}
    if category:
        articles = articles.in_category(category)
        params["category"] = category
    if tag:
        articles = articles.tagged(tag)
        params["tag"] = tag

    number = _page_number(request.GET.get("page"))
    if number is None:
        return _error(_("page 参数应为正整数。"), 400)
    paginator = Paginator(articles, PAGE_SIZE)
    if number > paginator.num_pages:
        return _error(
            _("没有第 %(page)s 页（共 %(pages)s 页）。")
            % {"page": number, "pages": paginator.num_pages},
            404,
        )
    page = paginator.page(number)

    def link(n):
        query = urlencode({**params, "page": n})
        return seo.absolute_url(request, f"{reverse('articles_api:list')}?{query}")

    return _json(
        {
            "count": paginator.count,
            "next": link(number + 1) if page.has_next() else None,
            "previous": link(number - 1) if page.has_previous() else None,
            "results": [article_summary(request, a) for a in page.object_list],
        }
    )


def _label(name: str, value: str) -> dict:
    return {"what": _("分类") if name == "category" else _("标签"), "value": value[:100]}


@get_only
def article_detail(request, slug):
    article = None
    if SLUG.match(slug):
        article = Article.objects.published().for_detail().filter(slug=slug).first()
    if article is None:
        return _error(_("没有找到这篇文章：%(slug)s") % {"slug": slug[:100]}, 404)
    return _json(article_full(request, article))


def openapi_paths(prefix: str = "/api/v1") -> dict:
    """OpenAPI 3.1 path items and component schemas for the two endpoints above.

    Returned as {"paths": ..., "components": {"schemas": ...}} for merging into
    the portal's /api/v1/openapi.json.
    """
    error = {"$ref": "#/components/schemas/ArticleError"}

    def json_content(schema):
        return {"application/json": {"schema": schema}}

    slug_param = {"type": "string", "pattern": "^[-a-z0-9]+$"}
    return {
        "paths": {
            f"{prefix}/articles": {
                "get": {
                    "operationId": "listArticles",
                    "summary": "文章列表",
                    "description": "已发布的文章，按发布日期从新到旧排列（同日按地址名倒序），每页 "
                    f"{PAGE_SIZE} 篇。",
                    "tags": ["articles"],
                    "parameters": [
                        {
                            "name": "page",
                            "in": "query",
                            "description": "页码，从 1 开始。",
                            "schema": {"type": "integer", "minimum": 1, "default": 1},
                        },
                        {
                            "name": "category",
                            "in": "query",
                            "description": "只看这个分类的文章（分类的地址名，如 rules）。",
                            "schema": slug_param,
                        },
                        {
                            "name": "tag",
                            "in": "query",
                            "description": "只看带这个标签的文章（标签的拼音地址名，如 "
                            "cui-shou-gui-ze）。",
                            "schema": slug_param,
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "一页文章",
                            "content": json_content({"$ref": "#/components/schemas/ArticlePage"}),
                        },
                        "400": {
                            "description": "参数无效或分类、标签不存在",
                            "content": json_content(error),
                        },
                        "404": {"description": "页码超出范围", "content": json_content(error)},
                    },
                }
            },
            f"{prefix}/articles/{{slug}}": {
                "get": {
                    "operationId": "getArticle",
                    "summary": "单篇文章",
                    "tags": ["articles"],
                    "parameters": [
                        {"name": "slug", "in": "path", "required": True, "schema": slug_param}
                    ],
                    "responses": {
                        "200": {
                            "description": "文章全文",
                            "content": json_content({"$ref": "#/components/schemas/Article"}),
                        },
                        "404": {"description": "没有这篇文章", "content": json_content(error)},
                    },
                }
            },
        },
        "components": {"schemas": _schemas()},
    }


def _schemas() -> dict:
    string = {"type": "string"}
    date = {"type": "string", "format": "date"}
    named = {
        "type": "object",
        "required": ["slug", "name"],
        "properties": {"slug": string, "name": string},
    }
    summary_properties = {
        "slug": string,
        "title": string,
        "summary": string,
        "category": {"$ref": "#/components/schemas/ArticleCategory"},
        "tags": {"type": "array", "items": {"$ref": "#/components/schemas/ArticleTag"}},
        "published": date,
        "updated": date,
        "url": {"type": "string", "format": "uri", "description": "文章网页的地址"},
    }
    return {
        "ArticleCategory": named,
        "ArticleTag": named,
        "ArticleSummary": {
            "type": "object",
            "required": list(summary_properties),
            "properties": summary_properties,
        },
        "ArticlePage": {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer"},
                "next": {"type": ["string", "null"], "format": "uri"},
                "previous": {"type": ["string", "null"], "format": "uri"},
                "results": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/ArticleSummary"},
                },
            },
        },
        "Article": {
            "allOf": [
                {"$ref": "#/components/schemas/ArticleSummary"},
                {
                    "type": "object",
                    "required": ["byline", "reading_minutes", "toc", "body_html", "sources"],
                    "properties": {
                        "byline": string,
                        "reading_minutes": {"type": "integer", "minimum": 1},
                        "toc": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["level", "id", "text"],
                                "properties": {
                                    "level": {"type": "integer", "enum": [2, 3]},
                                    "id": string,
                                    "text": string,
                                },
                            },
                        },
                        "body_html": {
                            "type": "string",
                            "description": "已清理的 HTML 正文，可直接嵌入网页",
                        },
                        "sources": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["title"],
                                "properties": {
                                    "title": string,
                                    "date": {
                                        "type": "string",
                                        "description": "YYYY-MM-DD、YYYY-MM 或 YYYY",
                                    },
                                    "url": {"type": "string", "format": "uri"},
                                },
                            },
                        },
                    },
                },
            ]
        },
        "ArticleError": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string", "description": "中文说明"}},
        },
    }
