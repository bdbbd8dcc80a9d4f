from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The site itself: settings, URLs, error pages, health checks and deploy checks."""

    name = "portal"
    verbose_name = _("网站")

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
