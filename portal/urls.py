from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("", include("agencies.urls")),
    # Every path under /api/v1/ belongs to the API, unknown ones included (JSON 404s).
    path("api/v1/", api.urls),
    path("articles/", include("articles.urls")),
    path("", include("portal.urls_discovery")),
    path("admin/", admin.site.urls),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
handler400 = "portal.views.bad_request"
