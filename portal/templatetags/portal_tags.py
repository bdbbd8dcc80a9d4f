"""Template filters every part of the site uses."""

import datetime
import re
from functools import lru_cache

from django import template
from django.template.base import TextNode, TokenType, Variable
from django.template.defaulttags import CommentNode, LoadNode, URLNode
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix
from django.utils import formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

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
    return _day(value, get_language())


# A number page shows a date on each of its rows, and Django's date formatting
# (the language's format looked up each time) was a tenth of the page's
# rendering; the same few thousand dates recur, so each is formatted once per
# language.
@lru_cache(maxsize=8192)
def _day(value: datetime.date, language: str):
    shown = formats.date_format(value, "DATE_FORMAT")  # in `language`, the active one
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


class OnceNode(template.Node):
    """What `{% once %}` holds, rendered once per language in each process."""

    def __init__(self, nodelist):
        self.nodelist = nodelist
        self.rendered: dict[tuple[str, str], str] = {}

    def render(self, context):
        key = (get_language(), get_script_prefix())
        found = self.rendered.get(key)
        if found is None:
            found = self.rendered[key] = self.nodelist.render(context)
        return found


# What a `{% once %}` block may hold: text, and tags whose output depends on the
# active language (and the URL prefix) alone, given constant arguments.
def _constant(node) -> bool:
    if isinstance(node, (TextNode, CommentNode, LoadNode)):
        return True
    if isinstance(node, TranslateNode):
        return node.asvar is None and _literal(node.filter_expression)
    if isinstance(node, BlockTranslateNode):
        return (
            node.asvar is None
            and not node.extra_context
            and node.counter is None
            and all(token.token_type == TokenType.TEXT for token in node.singular)
        )
    if isinstance(node, URLNode):
        arguments = [node.view_name, *node.args, *node.kwargs.values()]
        return not node.asvar and all(map(_literal, arguments))
    if isinstance(node, StaticNode):
        return node.varname is None and _literal(node.path)
    return False


def _literal(expression) -> bool:
    """A FilterExpression that is a constant: a quoted string (resolved when the
    template was parsed) or a number, with no filter."""
    var = expression.var
    constant = isinstance(var, str) or (isinstance(var, Variable) and var.literal is not None)
    return constant and not expression.filters


@register.tag
def once(parser, token):
    """``{% once %}…{% endonce %}``: markup that is the same on every page in a
    language — the footer, the navigation, fixed advice — rendered the first
    time and then served from memory (issue 22: a page's sixty-odd translation
    tags were most of its rendering).

    Only text, `translate` / `blocktranslate` without variables, and `url` /
    `static` with constant arguments may stand inside; anything else (a
    variable, a filter, an `if`) is a TemplateSyntaxError when the template
    is loaded, so a block can never show one visitor's page to another.
    """
    nodelist = parser.parse(("endonce",))
    parser.delete_first_token()
    for node in nodelist:
        if not _constant(node):
            raise template.TemplateSyntaxError(
                f"{{% once %}} may hold only text, translations and constant url/static "
                f"tags; found {type(node).__name__}: {node.token.contents if node.token else ''}"
            )
    return OnceNode(nodelist)
