"""The filters of name-search results: a thin layer over the index's queryset methods.

Pages drop an invalid value and show the corrected list; the API answers 400
with the form's messages, because a client that sent a typo should hear
about it.
"""

from django.utils.translation import gettext_lazy as _

from ..filters import ProvinceFilter, SelectedValues, StatusFilter, TolerantFilterSet
from .models import SearchToken


class SearchHitFilter(SelectedValues, TolerantFilterSet):
    """Narrows name-search hits (`agencies.search.matching()` rows)."""

    province = ProvinceFilter(method="filter_province", label=_("省份"))
    status = StatusFilter(method="filter_status", label=_("登记状态"))

    class Meta:
        model = SearchToken
        fields: list[str] = []

    def filter_province(self, queryset, name, value):
        return queryset.in_province(value.code) if value else queryset

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value) if value else queryset
