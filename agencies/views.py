from django.db import connections
from django.db.models import Max
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, TemplateView

from portal import release
from portal.caching import kept
from portal.dbcheck import first_query
from portal.paging import CappedPaginator, CountedRows, ForgivingPageMixin

from . import figures
from . import uscc as uscc_lib
from .enums import Status
from .filters import ProvinceAgencyFilter
from .models import CHANGES_SHOWN, Agency, Province, agency_by_uscc
from .rows import ListedAgency

RECENT_LIMIT = 10
CITY_FACETS = 30
SOURCES_SHOWN = 20

# The home page's province tiles in the order of the tile map (site.css,
# `.tile-map .pNN`) read row by row, left to right: the order in which the
# keyboard and a screen reader meet them, and the order of the plain list
# on a phone. A browser test (test_journeys) checks it against the map.
MAP_ORDER = (
    "23",
    "65", "15", "11", "12", "22",
    "62", "64", "14", "13", "21",
    "54", "63", "61", "41", "37",
    "51", "50", "42", "34", "32", "31",
    "53", "52", "43", "36", "33",
    "45", "44", "35", "71",
    "46", "82", "81",
)  # fmt: skip


class HomeView(TemplateView):
    template_name = "agencies/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["directory"] = _directory_sections(self.request)
        return context


def _directory_sections(request) -> str:
    """The home page's part that depends on the data — the province tiles with
    the total, and the recently updated agencies — rendered once per data
    version, code release and language, and kept in the cache.

    It is the same for every visitor until an import changes the data (which
    bumps the data version; a deploy changes the release), and it was most of
    the page: thirty-four tiles, ten list rows and the query that finds them
    (issue 22). Kept whether or not the page cache is on: that one keeps whole
    answers per URL, this only the part every first view of the page shares.
    """
    key = f"home-directory:{release.current()}:{translation.get_language()}"
    version = getattr(request, "data_version", None)
    return mark_safe(kept(key, version, _render_directory_sections))  # our own template's output


def _render_directory_sections() -> str:
    provinces = list(Province.objects.with_agency_counts().order_by("code"))
    place = {code: index for index, code in enumerate(MAP_ORDER)}
    return str(
        render_to_string(
            "agencies/_home_directory.html",
            {
                "provinces": sorted(provinces, key=lambda p: place.get(p.code, len(place))),
                "total": sum(province.agency_count for province in provinces),
                "recent": list(Agency.objects.for_listing().recently_updated()[:RECENT_LIMIT]),
            },
        )
    )


class ProvinceListView(ListView):
    template_name = "agencies/province_list.html"
    context_object_name = "provinces"

    def get_queryset(self):
        return Province.objects.with_agency_counts().order_by("code")


def _province_with_figures(request, slug: str):
    """(province, its figures, its city facets) for a province page, or None.

    The same for every request of /provinces/<slug>/, whatever the query
    string, until the data changes: read once per data version and kept in the
    cache (the city facets are sorted in pinyin order, which costs with many
    cities). Nothing is kept for a slug that is not a province.
    """

    def read():
        province = Province.objects.filter(slug=slug).first()
        if province is None:
            return None
        tallies = figures.ProvinceFigures.of(province)
        return (province, tallies, tallies.by_city(CITY_FACETS))

    return kept(f"province-page:{slug}", getattr(request, "data_version", None), read)


class ProvinceDetailView(ForgivingPageMixin, ListView):
    """A province's agencies, filtered and sorted through the FilterSet."""

    template_name = "agencies/province_detail.html"
    context_object_name = "agencies"
    paginate_by = 25

    def get_queryset(self):
        found = _province_with_figures(self.request, self.kwargs["slug"])
        if found is None:
            raise Http404(_("没有这个省份。请从省份列表中选择。"))
        self.province, self.figures, self.city_facets = found
        base = Agency.objects.in_province(self.province).sorted_by("name")
        self.filterset = ProvinceAgencyFilter(self.request.GET, queryset=base)
        return self.filterset.qs

    def get_paginator(self, queryset, per_page, **kwargs):
        # The total comes from the tallies, not a COUNT over the province.
        valid = self.filterset.valid_data()
        count = self.figures.count(valid.get("city", "").strip(), valid.get("status") or ())
        rows = queryset.values_list(*ListedAgency.FIELDS)
        province = self.province

        def fetch(offset: int, limit: int) -> list:
            # With the province's figures kept and the data version remembered,
            # this is the request's first query: on PostgreSQL also the kept
            # connection's health check, in place of a `SELECT 1` round trip.
            return first_query(
                connections[rows.db],
                lambda: [ListedAgency(province, *row) for row in rows[offset : offset + limit]],
            )

        return CappedPaginator(CountedRows(count, fetch), per_page, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        valid = self.filterset.valid_data()
        context.update(
            province=self.province,
            filter=self.filterset,
            total_in_province=self.figures.total,
            city_facets=self.city_facets,
            status_facets=self.figures.by_status(),
            selected_city=valid.get("city", ""),
            selected_statuses=valid.get("status") or [],
        )
        return context


class AgencyDetailView(DetailView):
    template_name = "agencies/agency_detail.html"
    context_object_name = "agency"

    def get_object(self, queryset=None):
        raw = self.kwargs["uscc"]
        try:
            code = uscc_lib.validate(raw)
        except uscc_lib.UsccError as error:
            raise Http404(
                _("“%(code)s”不是有效的统一社会信用代码：%(reason)s")
                % {"code": raw[:40], "reason": error.message}
            ) from None
        agency = agency_by_uscc(code)
        if agency is None:
            raise Http404(
                _(
                    "本站名录中没有统一社会信用代码为 %(code)s 的机构。"
                    "没有收录不代表该机构不存在或合法，请到国家企业信用信息公示系统核对。"
                )
                % {"code": code}
            )
        return agency

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = self.object
        lists = agency.record_lists()
        context.update(
            former_names=[n for n in lists["names"] if n.kind == "former"],
            aliases=[n for n in lists["names"] if n.kind == "alias"],
            phone_links=lists["phone_links"],
            clients=lists["clients"],
            actions=lists["actions"],
            changes=lists["changes"][:CHANGES_SHOWN],
            older_changes=len(lists["changes"]) > CHANGES_SHOWN,
            status_explanation=Status(agency.status).explanation,
            province_from_code=agency.derived_province_code == agency.province_id,
        )
        return context


class AboutDataView(TemplateView):
    template_name = "agencies/about_data.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            counts=figures.directory_figures(),
            # Served by the updated_at index: one step from its end.
            last_import=Agency.objects.aggregate(last=Max("updated_at"))["last"],
            sources=figures.largest_sources(SOURCES_SHOWN),
        )
        return context
