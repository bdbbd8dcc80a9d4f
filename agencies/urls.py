from django.urls import path

from . import views
from .check import views as check_views
from .search import views as search_views

app_name = "agencies"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("provinces/", views.ProvinceListView.as_view(), name="province-list"),
    path("provinces/<slug:slug>/", views.ProvinceDetailView.as_view(), name="province-detail"),
    path("agencies/<str:uscc>/", views.AgencyDetailView.as_view(), name="agency-detail"),
    path("about/data/", views.AboutDataView.as_view(), name="about-data"),
    path("search/", search_views.search, name="search"),
    path("phone/<str:key>/", search_views.phone_detail, name="phone-detail"),
    path("check/", check_views.CheckView.as_view(), name="check"),
]
