"""One paginator and one page cap for every list the site serves, HTML or JSON.

Offset pagination costs more the deeper it goes, and nobody reads past
page 500 of a list: a client that wants everything uses the published export.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

# The deepest page of any list (pages and API alike).
MAX_PAGE = 500


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
