"""Read-only JSON API, /api/v1/ (see agencies/api.py and docs/api.md)."""

from importlib.util import find_spec

from django.urls import include, path, re_path

from . import api

app_name = "api"

urlpatterns = [
    path("search", api.search, name="search"),
    path("agencies", api.agency_list, name="agency-list"),
    path("agencies/<str:uscc>", api.agency_detail, name="agency-detail"),
    path("phones/<str:key>", api.phone_detail, name="phone-detail"),
    path("openapi.json", api.openapi, name="openapi"),
]

# The articles app serves /api/v1/articles…; included once it exists.
if find_spec("articles.urls_api") is not None:
    urlpatterns.append(path("", include("articles.urls_api")))

# Anything else under /api/v1/ answers 404 in JSON, not the HTML error page.
urlpatterns.append(re_path(r"^(?P<path>.*)$", api.not_found, name="not-found"))
