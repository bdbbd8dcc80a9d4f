from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(
        "about/privacy/",
        TemplateView.as_view(template_name="portal/privacy.html"),
        name="privacy",
    ),
    path("", include("agencies.urls")),
    path("api/v1/", include("articles.urls_api")),
    path("api/v1/", include("agencies.urls_api")),
    path("articles/", include("articles.urls")),
    path("", include("portal.urls_discovery")),
    path(settings.PORTAL_ADMIN_PATH, admin.site.urls),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
