"""One paginator and one page cap for every list the site serves, HTML or JSON.

Offset pagination costs more the deeper it goes, and nobody reads past
page 500 of a list: a client that wants everything uses the published export.

Pages forgive a bad page number (ForgivingPageMixin); the API does not, and
every API list takes the same parameters (PageParams) and answers the same
envelope (Page, filled by paginate()).
"""

import re
from typing import Annotated

from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from .api_errors import ApiError
from .links import absolute_url

# The deepest page of any list (pages and API alike).
MAX_PAGE = 500
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class CappedPaginator(Paginator):
    """Django's Paginator that never offers a page past MAX_PAGE; `count` stays exact."""

    @cached_property
    def num_pages(self) -> int:
        return min(super().num_pages, MAX_PAGE)


class CountedRows:
    """A Paginator object_list whose length is already known and whose rows are
    fetched only for the page shown: `fetch(offset, limit)` returns them.

    For lists that count themselves more cheaply than `queryset.count()` can
    (name search takes its total from the index's own counts).
    """

    def __init__(self, count: int, fetch):
        self._count = count
        self._fetch = fetch

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, window: slice) -> list:
        start = window.start or 0
        return self._fetch(start, window.stop - start)


class ForgivingPageMixin:
    """For ListViews: a page number that is not a number, or past the end, shows
    the nearest real page instead of a 404: the list is the same, only the
    position moved."""

    paginator_class = CappedPaginator

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


# --- The API's lists ----------------------------------------------------------------------------


def _digits(value):
    # pydantic would also read " 1", "+1", "1.0" and "1_0" as whole numbers;
    # the document's integer is written in digits only (a minus sign is left
    # for the range check, which words it better: "不能小于 1").
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+", value):
        raise PydanticCustomError("int_parsing", "not written in digits")
    return value


Digits = Annotated[int, BeforeValidator(_digits)]


class PageParams(BaseModel):
    # The query parameters of every API list. Each takes one whole number:
    # blank, repeated (portal.api's parser) or anything else is a 400.

    page: Digits = Field(1, ge=1, le=MAX_PAGE, description=f"页码，从 1 开始（最多 {MAX_PAGE}）")
    page_size: Digits = Field(
        DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"每页条数，默认 {DEFAULT_PAGE_SIZE}，最多 {MAX_PAGE_SIZE}",
    )

    def page_of(self, rows) -> DjangoPage:
        """The asked-for page of `rows` (a queryset or list), or the nearest real one:
        paginate() then answers 404, so the rows of a missing page are never read."""
        return CappedPaginator(rows, self.page_size).get_page(self.page)


class Page[Row](BaseModel):
    # The envelope of every API list; subclass it with the row type:
    # class AgencyPage(Page[AgencySummary]).

    count: int = Field(ge=0, description="结果总数")
    partial: bool = Field(
        description=(
            "true：名称查询太宽（如“资产管理”），只核对了排名最前的一批候选，"
            "count 是下限，results 只来自这批候选；加上省份、状态或更完整的名称可得到完整结果。"
            "其他列表总是 false"
        )
    )
    next: str | None = Field(
        description="下一页的完整地址（保留其他参数）；没有时为 null",
        json_schema_extra={"format": "uri"},
    )
    previous: str | None = Field(
        description="上一页的完整地址；没有时为 null", json_schema_extra={"format": "uri"}
    )
    results: list[Row]


def paginate(
    request, params: PageParams, page: DjangoPage | None, *, partial=False, each=None
) -> dict:
    """The body of a Page for `page` (None: nothing matched), or a 404 naming `page`
    when the page asked for does not exist. `each` maps a row to what the
    schema reads (search hits to their agencies)."""
    number, pages = (page.number, page.paginator.num_pages) if page else (1, 1)
    if params.page != number:
        raise ApiError(404, f"没有第 {params.page} 页：共 {pages} 页。", "page")
    rows = list(page.object_list) if page else []

    def link(to: int) -> str:
        query = request.GET.copy()
        query["page"] = str(to)
        return absolute_url(request, f"{request.path}?{query.urlencode()}")

    return {
        "count": page.paginator.count if page else 0,
        "partial": partial,
        "next": link(number + 1) if page and page.has_next() else None,
        "previous": link(number - 1) if page and page.has_previous() else None,
        "results": [each(row) for row in rows] if each else rows,
    }
