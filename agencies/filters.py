"""Directory filters (the province page, the API's agency list) and the fields they share
with search's filters. A thin layer: each filter hands over to a queryset method.

Not strict: a bad value (unknown status, a sort key we don't offer) is ignored
and the page shows the corrected list instead of an error; the API reads
`form.errors` to answer 400.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .enums import Status
from .models import Agency, Province

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

    @property
    def filtering(self) -> bool:
        """Whether the data names any filter. Without one (a list's first view,
        ?page=2) every filter gets an empty value, which is valid and leaves the
        rows as they are: the form need not be built and validated (0.3-0.8 ms
        a request, issue 22)."""
        return any(name in self.data for name in self.filters)

    def valid_data(self) -> dict:
        if not self.filtering:
            return {}
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


class SelectedValues:
    """The chosen province and statuses, for highlighting facets."""

    @property
    def province(self):
        return self.valid_data().get("province")

    @property
    def statuses(self) -> list[str]:
        return self.valid_data().get("status") or []


class AgencyListFilter(SelectedValues, TolerantFilterSet):
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
