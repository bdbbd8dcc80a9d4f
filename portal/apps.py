from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _

# The models whose rows pages show; a save or delete of one changes the data
# version. Not the search index's derived tables: they change only with these,
# and a signal receiver on them would turn Django's fast bulk deletes into
# row-by-row ones.
PUBLISHED_MODELS = [
    "agencies.Province",
    "agencies.Agency",
    "agencies.AgencyName",
    "agencies.Phone",
    "agencies.AgencyPhone",
    "agencies.Client",
    "agencies.RegulatoryAction",
    # The agency page's 变更记录, and the list of numbers not shown (a number
    # with no agency changes its page when it is listed).
    "agencies.AgencyChange",
    "agencies.SuppressedPhone",
    "articles.Category",
    "articles.Tag",
    "articles.Article",
]


def _changed(sender, **kwargs):
    # Imported here: apps.py is loaded before any model may be.
    from .models import bump

    bump()


class PortalConfig(AppConfig):
    """The site itself: settings, URLs, error pages, health, caching and deploy checks."""

    name = "portal"
    verbose_name = _("网站")

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)

        for label in PUBLISHED_MODELS:
            model = self.apps.get_model(label)
            uid = f"portal.data-version.{label}"
            post_save.connect(_changed, sender=model, dispatch_uid=uid + ".save")
            post_delete.connect(_changed, sender=model, dispatch_uid=uid + ".delete")
        article_tags = self.apps.get_model("articles.Article").tags.through
        m2m_changed.connect(_changed, sender=article_tags, dispatch_uid="portal.data-version.tags")
