from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from . import health
from .api import api

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Every path under /api/v1/ belongs to the API, unknown ones included (JSON
    # 404s). The API is language-neutral: no prefix.
    path("api/v1/", api.urls),
    path("", include("portal.urls_discovery")),
    path(settings.PORTAL_ADMIN_PATH, admin.site.urls),
]
# The pages, in every language: unprefixed in the default one, /zh-hant/… in
# Traditional characters (portal.i18n).
urlpatterns += i18n_patterns(
    path(
        "about/privacy/",
        TemplateView.as_view(template_name="portal/privacy.html"),
        name="privacy",
    ),
    path("", include("agencies.urls")),
    path("articles/", include("articles.urls")),
    prefix_default_language=False,
)

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
