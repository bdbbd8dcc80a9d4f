from django.db.models import Count, Max
from django.http import Http404
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, TemplateView

from portal.paging import ForgivingPageMixin

from . import uscc as uscc_lib
from .enums import Status
from .filters import ProvinceAgencyFilter
from .models import Agency, AgencyPhone, Client, Phone, Province, RegulatoryAction

RECENT_LIMIT = 10


class HomeView(TemplateView):
    template_name = "agencies/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["provinces"] = Province.objects.with_agency_counts().order_by("code")
        context["recent"] = Agency.objects.for_listing().recently_updated()[:RECENT_LIMIT]
        context["total"] = Agency.objects.count()
        return context


class ProvinceListView(ListView):
    template_name = "agencies/province_list.html"
    context_object_name = "provinces"

    def get_queryset(self):
        return Province.objects.with_agency_counts().order_by("code")


class ProvinceDetailView(ForgivingPageMixin, ListView):
    """A province's agencies, filtered and sorted through the FilterSet."""

    template_name = "agencies/province_detail.html"
    context_object_name = "agencies"
    paginate_by = 25

    def get_province(self):
        try:
            return Province.objects.get(slug=self.kwargs["slug"])
        except Province.DoesNotExist:
            raise Http404(_("没有这个省份。请从省份列表中选择。")) from None

    def get_queryset(self):
        self.province = self.get_province()
        base = Agency.objects.for_listing().in_province(self.province).sorted_by("name")
        self.filterset = ProvinceAgencyFilter(self.request.GET, queryset=base)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        in_province = Agency.objects.in_province(self.province)
        context.update(
            province=self.province,
            filter=self.filterset,
            total_in_province=in_province.count(),
            city_facets=(
                in_province.exclude(city="")
                .values("city")
                .annotate(n=Count("id"))
                .order_by("-n", "city")[:30]
            ),
            status_facets=in_province.values("status").annotate(n=Count("id")).order_by("-n"),
            selected_city=self.filterset.form.cleaned_data.get("city", ""),
            selected_statuses=self.filterset.form.cleaned_data.get("status", []),
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
        try:
            return Agency.objects.for_detail().get(uscc=code)
        except Agency.DoesNotExist:
            raise Http404(
                _(
                    "本站名录中没有统一社会信用代码为 %(code)s 的机构。"
                    "没有收录不代表该机构不存在或合法，请到国家企业信用信息公示系统核对。"
                )
                % {"code": code}
            ) from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = self.object
        names = list(agency.names.all())
        context.update(
            former_names=[n for n in names if n.kind == "former"],
            aliases=[n for n in names if n.kind == "alias"],
            phone_links=list(agency.phone_links.all()),
            clients=list(agency.clients.all()),
            actions=list(agency.actions.all()),
            status_explanation=Status(agency.status).explanation,
            province_from_code=agency.derived_province_code == agency.province_id,
        )
        return context


class AboutDataView(TemplateView):
    template_name = "agencies/about_data.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agencies = Agency.objects.all()
        context.update(
            counts={
                "agencies": agencies.count(),
                "sample_agencies": agencies.samples().count(),
                "phones": Phone.objects.count(),
                "phone_links": AgencyPhone.objects.count(),
                "clients": Client.objects.count(),
                "actions": RegulatoryAction.objects.count(),
                "provinces_covered": agencies.values("province").distinct().count(),
            },
            last_import=agencies.aggregate(last=Max("updated_at"))["last"],
            sources=(
                agencies.exclude(source="")
                .values("source")
                .annotate(n=Count("id"))
                .order_by("-n", "source")[:20]
            ),
        )
        return context
