"""The articles part of the JSON API: /api/v1/articles and /api/v1/articles/<slug>.

Its router and response schemas; portal/api.py mounts it. Same querysets as
the pages, so the API cannot drift from what people see.
"""

import re
from datetime import date

from django.utils.translation import gettext as _
from ninja import Path, Query, Router
from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from portal.api_errors import ApiError, checked_by_view, responses
from portal.links import SiteUrl, reverse_one
from portal.paging import Page, PageParams, paginate

from .models import Article, Category, Tag
from .rendering import fill_live_stats

router = Router(tags=["文章"])

SLUG = re.compile(r"^[-a-z0-9]{1,100}$")


# --- Schemas -------------------------------------------------------------------------------------
# Plain pydantic models read from the Article instances, as in agencies/api.py.


class Named(BaseModel):
    # A category or a tag.
    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str


class ArticleSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    title: str
    summary: str
    category: Named
    tags: list[Named]
    published: date = Field(validation_alias="published_on")
    updated: date = Field(validation_alias="updated_on")

    # reverse_one(): Article.get_absolute_url() without reverse()'s cost per row.
    @computed_field(description="文章网页的地址", json_schema_extra={"format": "uri"})
    @property
    def url(self) -> SiteUrl:
        return reverse_one("articles:detail", "slug", self.slug)

    @field_validator("tags", mode="before")
    @classmethod
    def _rows(cls, tags):
        return tags.all()  # prefetched by for_listing() and for_detail()


class TocEntry(BaseModel):
    level: int = Field(ge=2, le=3)
    id: str
    text: str


def _absent_when_none(value) -> bool:
    return value is None


class Source(BaseModel):
    title: str
    # Keys a source does not have are left out, as in the article's front matter.
    date: str | None = Field(
        None, exclude_if=_absent_when_none, description="YYYY-MM-DD、YYYY-MM 或 YYYY"
    )
    url: str | None = Field(None, exclude_if=_absent_when_none, json_schema_extra={"format": "uri"})


class ArticleDetail(ArticleSummary):
    byline: str
    reading_minutes: int = Field(ge=1)
    toc: list[TocEntry]
    body_html: str = Field(description="已清理的 HTML 正文（实时数字已填入），可直接嵌入网页")
    sources: list[Source]

    @field_validator("body_html")
    @classmethod
    def _live(cls, html: str) -> str:
        return fill_live_stats(html)


class ArticlePage(Page[ArticleSummary]):
    pass


class ArticleFilters(BaseModel):
    category: str = Field(
        "",
        description="只看这个分类的文章（分类的地址名，如 rules）；没有这个分类时为 404",
        json_schema_extra=checked_by_view(pattern=SLUG.pattern),
    )
    tag: str = Field(
        "",
        description=(
            "只看带这个标签的文章（标签的拼音地址名，如 cui-shou-gui-ze）；没有这个标签时为 404"
        ),
        json_schema_extra=checked_by_view(pattern=SLUG.pattern),
    )


class SlugPath(BaseModel):
    slug: str = Field(
        description="文章的地址名，如 harassment-what-to-do",
        json_schema_extra={"pattern": SLUG.pattern, "examples": ["harassment-what-to-do"]},
    )


def _known(model, parameter: str, what: str, slug: str) -> str:
    """`slug` if a `model` row has it; else the same message, as a 400 naming
    `parameter` when it cannot be a slug (the document's pattern) and a 404
    when it could be but no row has it."""
    message = _("没有这个%(what)s：%(value)s") % {"what": what, "value": slug[:100]}
    # The pattern is checked before the database sees the value: PostgreSQL
    # raises on a NUL byte, which would be a 500.
    if not SLUG.search(slug):
        raise ApiError(400, message, parameter)
    if not model.objects.filter(slug=slug).exists():
        raise ApiError(404, message, parameter)
    return slug


# --- Endpoints -----------------------------------------------------------------------------------
# Each returns an instance of its response schema (see agencies/api.py).


@router.get(
    "/articles",
    response=responses(ArticlePage),
    operation_id="listArticles",
    url_name="articles",
    summary="文章列表",
    description="已发布的文章，按发布日期从新到旧排列（同日按地址名倒序）。",
)
def article_list(request, filters: Query[ArticleFilters], paging: Query[PageParams]):
    articles = Article.objects.published().for_listing().latest()
    # Read from the query string: an empty value is refused like any other
    # that the pattern does not allow.
    if "category" in request.GET:
        articles = articles.in_category(_known(Category, "category", _("分类"), filters.category))
    if "tag" in request.GET:
        articles = articles.tagged(_known(Tag, "tag", _("标签"), filters.tag))
    return ArticlePage.model_validate(paginate(request, paging, paging.page_of(articles)))


@router.get(
    "/articles/{slug}",
    response=responses(ArticleDetail),
    operation_id="getArticle",
    url_name="article",
    summary="单篇文章",
)
def article_detail(request, path: Path[SlugPath]):
    slug, article = path.slug, None
    # Any other spelling is a 404 too: no article has it.
    if SLUG.search(slug):
        article = Article.objects.published().for_detail().filter(slug=slug).first()
    if article is None:
        raise ApiError(404, _("没有找到这篇文章：%(slug)s") % {"slug": slug[:100]})
    return ArticleDetail.model_validate(article)
