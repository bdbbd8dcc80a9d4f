"""Template filters every part of the site uses."""

import datetime

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html

register = template.Library()


@register.filter
def day(value):
    """A date as the site writes every date: ``<time datetime="2026-03-05">2026年3月5日</time>``.

    The visible form is the active language's DATE_FORMAT (Django's own for
    Chinese is Y年n月j日); the attribute is ISO 8601 for machines. A datetime
    is shown as its date in the site's time zone, an ISO string as its date (any
    other string as it is). Empty values stay empty, so `|default:` still works
    after it.
    """
    if not value:
        return ""
    if isinstance(value, str):  # an ISO date from a file (articles' front matter)
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    shown = formats.date_format(value, "DATE_FORMAT")
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), shown)
