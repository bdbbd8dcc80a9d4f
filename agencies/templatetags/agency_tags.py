"""Template tags for the directory's own vocabularies."""

from functools import cache

from django import template
from django.utils.translation import get_language

from portal.i18n import is_chinese_page
from portal.templatetags.portal_tags import term, zh

from ..enums import Status
from ..models import PROVINCE_NAMES_EN

register = template.Library()


@register.simple_tag
def facet_label(facet):
    """A search facet's value as the page's language names it: a province by its English
    name on English pages, a status with the registry's word beside it."""
    if facet.param == "province":
        if is_chinese_page():
            return facet.label
        return PROVINCE_NAMES_EN.get(facet.value) or zh(facet.label)
    return term(facet.label, facet.value)


@cache
def _status_labels(language: str | None) -> dict[str, str]:
    # The catalogues do not change while a process runs: one dict per language.
    return {status.value: str(status.label) for status in Status}


@register.filter
def status_label(value: str) -> str:
    """A registration status (`agency.status`) as the page's language names it.

    What `agency.get_status_display` shows, for any row with a `status`: Django's
    version hashes every lazy label of the choices on each call, eight
    translations per row, most of a list row's cost (issue 22). A value the
    vocabulary no longer has is shown as stored.
    """
    return _status_labels(get_language()).get(value, value)
