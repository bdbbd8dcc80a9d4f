from django.apps import AppConfig
from django.db.models.signals import pre_delete
from django.utils.translation import gettext_lazy as _


def _unindex(sender, instance, **kwargs):
    # Imported here, not at the top: Django imports apps.py before any models
    # module, and the index module needs the models.
    from .search import index

    index.remove([instance.pk])


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = _("催收机构名录")

    def ready(self):
        # Every way an agency can be deleted (admin, load_sample --remove, a
        # cascade) must also take it off the search index's gram counts, which
        # no foreign key reaches.
        pre_delete.connect(_unindex, sender="agencies.Agency", dispatch_uid="agencies.unindex")
        # Counts the pages show, kept up to date by single saves and deletes.
        from . import figures

        figures.connect()
        # Registers the system check on the message check's rules file.
        from .check import signals  # noqa: F401
