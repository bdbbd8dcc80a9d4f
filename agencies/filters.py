"""Province-page filters. A thin layer: each filter hands over to a queryset method.

Not strict: a bad value (unknown status, a sort key we don't offer) is ignored
and the page shows the corrected list instead of an error.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .enums import Status
from .models import Agency

SORT_CHOICES = [
    ("name", _("名称")),
    ("-established", _("成立日期（新→旧）")),
    ("established", _("成立日期（旧→新）")),
]


class TolerantFilterSet(django_filters.FilterSet):
    """Applies the valid fields and drops the invalid ones, one by one.

    ?status=bogus&city=长沙市 still filters by city: pages show a corrected
    list instead of failing. (The API reads `form.errors` to answer 400.)
    """

    def valid_data(self) -> dict:
        form = self.form
        if not form.is_valid():
            for name in list(form.errors):
                form.cleaned_data.pop(name, None)
        return form.cleaned_data

    def apply(self, queryset):
        """`queryset` with the valid filters applied (what `qs` is for `self.queryset`)."""
        for name, value in self.valid_data().items():
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def qs(self):
        if not hasattr(self, "_qs"):
            self._qs = self.apply(self.queryset)
        return self._qs


class ProvinceAgencyFilter(TolerantFilterSet):
    city = django_filters.CharFilter(method="filter_city", label=_("城市"))
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices,
        method="filter_status",
        label=_("登记状态"),
        widget=forms.CheckboxSelectMultiple,
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", label=_("排序"), empty_label=None
    )

    class Meta:
        model = Agency
        fields: list[str] = []

    def filter_city(self, queryset, name, value):
        return queryset.in_city(value.strip()) if value.strip() else queryset

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value) if value else queryset

    def filter_sort(self, queryset, name, value):
        return queryset.sorted_by(value)
