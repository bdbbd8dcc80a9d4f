"""Filters for search results and the API agency list: a thin layer over queryset methods.

The same FilterSet classes serve the HTML pages and the JSON API. Pages drop
an invalid value and show the corrected list; the API answers 400 with the
form's messages (`errors_as_json()`), because a client that sent a typo
should hear about it.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .enums import Status
from .filters import TolerantFilterSet
from .models import Agency, Province
from .search_models import SearchToken


class ProvinceField(forms.CharField):
    """A province by code (43, 430000), name (湖南省, 湖南), short name (湘) or slug (hunan)."""

    default_error_messages = {
        "unknown": _("没有这个省份：“%(value)s”。可以用代码（如 43）、名称或拼音。")
    }

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        province = Province.objects.by_code_or_name(value).order_by("code").first()
        if province is None:
            raise forms.ValidationError(
                self.error_messages["unknown"], code="unknown", params={"value": value[:40]}
            )
        return province


class StatusListField(forms.MultipleChoiceField):
    """Repeated (?status=存续&status=在业) or comma-separated; labels and synonyms accepted."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", Status.choices)
        super().__init__(**kwargs)

    def to_python(self, value):
        items = []
        for item in super().to_python(value):
            for part in item.replace("，", ",").split(","):
                if part.strip():
                    parsed = Status.parse(part)
                    items.append(parsed.value if parsed else part.strip()[:20])
        return list(dict.fromkeys(items))


class ProvinceFilter(django_filters.Filter):
    field_class = ProvinceField


class StatusFilter(django_filters.MultipleChoiceFilter):
    field_class = StatusListField


class _SelectedValues:
    """The chosen province and statuses, for highlighting facets."""

    @property
    def province(self):
        return self.valid_data().get("province")

    @property
    def statuses(self) -> list[str]:
        return self.valid_data().get("status") or []


class SearchHitFilter(_SelectedValues, TolerantFilterSet):
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


class AgencyListFilter(_SelectedValues, TolerantFilterSet):
    """/api/v1/agencies without a query: the registry filtered, in credit-code order."""

    province = ProvinceFilter(method="filter_province", label=_("省份"))
    status = StatusFilter(method="filter_status", label=_("登记状态"))

    class Meta:
        model = Agency
        fields: list[str] = []

    def filter_province(self, queryset, name, value):
        return queryset.in_province(value) if value else queryset

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value) if value else queryset
