from django.views.generic import DetailView, ListView, TemplateView

from .models import Agency, Province


class HomeView(TemplateView):
    template_name = "agencies/home.html"


class ProvinceListView(ListView):
    model = Province


class ProvinceDetailView(DetailView):
    model = Province


class AgencyDetailView(DetailView):
    model = Agency


class AboutDataView(TemplateView):
    template_name = "agencies/about_data.html"
