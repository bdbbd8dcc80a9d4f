"""Template tags for the directory's own vocabularies."""

from django import template

from portal.i18n import is_chinese_page
from portal.templatetags.portal_tags import term, zh

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
