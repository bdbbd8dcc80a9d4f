"""Template filters every part of the site uses."""

import datetime
import re

from django import template
from django.utils import formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from portal.i18n import DATA_LANG, is_chinese_page, localized_text

# CJK Unified Ideographs and Extension A: what Chinese text is written in.
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")

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


@register.simple_tag
def zh(value):
    """Text from the data (an agency's name, an address): marked as Chinese on a page
    in another language, as it is on Chinese pages."""
    if value in (None, ""):
        return ""
    if is_chinese_page():
        return value
    return format_html('<span lang="{}">{}</span>', DATA_LANG, value)


@register.simple_tag
def localized(obj, field, plain=False):
    """`obj.<field>_en` on English pages where there is one, else `obj.<field>` via zh.

    For data that has an English form beside the Chinese: an article's title
    and summary, a category's name, a province's name. `plain`: no markup, for
    <title> and <meta> (which cannot mark a language).
    """
    value = localized_text(obj, field)
    if plain:
        return value
    if value != getattr(obj, field):
        return mark_chinese_words(value)
    return zh(value)


# A run of Chinese inside other text: ideographs and the punctuation between them.
_CJK_RUN = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff][\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff5e]*"
)


def mark_chinese_words(text: str):
    """English text that quotes Chinese words (an English summary explaining 停息挂账):
    each run of Chinese marked as Chinese, the rest escaped."""
    parts, start = [], 0
    for run in _CJK_RUN.finditer(text):
        parts.append(conditional_escape(text[start : run.start()]))
        parts.append(format_html('<span lang="{}">{}</span>', DATA_LANG, run.group()))
        start = run.end()
    if not parts:
        return text
    parts.append(conditional_escape(text[start:]))
    return mark_safe("".join(parts))


@register.filter
def mark_chinese(text):
    """Marks text that contains Chinese characters as Chinese on a page in another
    language: for strings assembled elsewhere (breadcrumbs) that may be either."""
    if not text or is_chinese_page() or not _CJK.search(str(text)):
        return text
    return format_html('<span lang="{}">{}</span>', DATA_LANG, text)


@register.simple_tag
def term(label, word):
    """A word of a fixed vocabulary (a registration status) as the page's language names
    it; on a page in another language, followed by the registry's own word, marked as
    Chinese: ``Existing <span lang="zh-Hans">存续</span>``, so a reader can match it
    with what the official registry shows."""
    if not word or is_chinese_page() or str(label) == str(word):
        return label
    return format_html('{} <span lang="{}">{}</span>', label, DATA_LANG, word)
