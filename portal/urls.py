from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from . import health
from .api import api

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(
        "about/privacy/",
        TemplateView.as_view(template_name="portal/privacy.html"),
        name="privacy",
    ),
    path("", include("agencies.urls")),
    # Every path under /api/v1/ belongs to the API, unknown ones included (JSON 404s).
    path("api/v1/", api.urls),
    path("articles/", include("articles.urls")),
    path("", include("portal.urls_discovery")),
    path(settings.PORTAL_ADMIN_PATH, admin.site.urls),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
