from django import template

from articles import seo

register = template.Library()


@register.filter
def json_ld(data):
    """{{ data|json_ld }}: a safely escaped schema.org data block."""
    return seo.json_ld(data)
