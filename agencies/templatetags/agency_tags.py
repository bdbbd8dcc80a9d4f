"""Template tags for the directory's own vocabularies."""

import datetime
from functools import cache, lru_cache
from html import escape  # what django.utils.html.escape calls, without its lazy-string check

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from portal.i18n import DATA_LANG, is_chinese_page
from portal.templatetags.portal_tags import day, term, zh

from ..enums import Status
from ..models import PROVINCE_NAMES_EN, Agency

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


@register.simple_tag
def agency_summary(agency):
    """The head of a list row (agencies/_agency_row.html): the name as a link,
    the sample badge, then the status, the place, the date of establishment and
    the credit code. `agency` is an Agency or a row with its attributes
    (agencies.rows.ListedAgency).

    Python, not template markup, because a list shows it 20–25 times: through
    the template engine, its ten tags and variables per row were a quarter of
    a province page's time (2.2 of ~9.5 ms for 25 rows, issue 22), each of
    them asking the language again. Here the language is asked once per row,
    what depends only on it (the badge, a status's label, a date's text) is
    made once per language and value (the badge and the status through the
    detail page's includes), and the row's own text is escaped as the
    template escaped it (tests/test_list_rows.py).
    """
    return mark_safe(_summary(agency, get_language(), is_chinese_page(), {}))  # escaped there


@register.simple_tag
def agency_rows(agencies):
    """The rows of a list whose rows have no notes (the province and home
    pages' lists): agencies/_agency_row.html's markup for each row without
    `hit`, `found` or `evidence`, written in one call. An include per row cost
    about as much as the row itself, and a tag per row still a loop step and
    the language asked three times (issue 22); here the language and each
    province's name are asked once per list. tests/test_list_rows.py holds it
    to the row template's markup."""
    language, chinese, places = get_language(), is_chinese_page(), {}
    return mark_safe(  # escaped in _summary()
        "".join(
            f'<li class="agency-row">\n  {_summary(agency, language, chinese, places)}\n</li>'
            for agency in agencies
        )
    )


def _summary(agency, language: str | None, chinese: bool, places: dict[str, str]) -> str:
    """agency_summary's markup, the page's language given; `places` keeps each
    province's escaped name for the rest of the list."""
    province = agency.province
    place = places.get(province.code)
    if place is None:
        place = places[province.code] = escape(province.display_name)
    if agency.city:
        place = f"{place} · {_data(agency.city, chinese)}"
    established = agency.established_on
    return (  # every piece escaped above or made of escaped pieces
        f'<a class="agency-name" href="{escape(agency.get_absolute_url())}">'
        f"{_data(agency.name, chinese)}</a>\n"
        f"  {_sample_badge(language) if agency.is_sample else ''}\n"
        '  <div class="agency-meta">\n'
        f"    {_status_html(language, agency.status)}\n"
        f"    <span>{place}</span>\n"
        f"    {_established(language, established) if established else ''}\n"
        f'    <span class="mono">{escape(agency.uscc)}</span>\n'
        "  </div>"
    )


def _data(text: str, chinese: bool) -> str:
    """{% zh %}, the language known: text from the data, marked as Chinese on other pages."""
    if chinese:
        return escape(text)
    return f'<span lang="{DATA_LANG}">{escape(text)}</span>'


# The badge and the status are the detail page's includes, rendered once per
# language (and status) rather than once per row: they depend on nothing else.
@cache
def _sample_badge(language: str | None) -> str:
    return render_to_string("includes/_sample_badge.html", {"agency": {"is_sample": True}}).strip()


@lru_cache(maxsize=256)
def _status_html(language: str | None, status: str) -> str:
    # An unsaved Agency: the include asks it for is_live and get_status_display.
    return render_to_string("includes/_status.html", {"agency": Agency(status=status)}).strip()


@lru_cache(maxsize=8192)
def _established(language: str | None, established: datetime.date) -> str:
    # {% blocktranslate %}: the catalogue's text as markup, the date in it escaped.
    return f"<span>{gettext('成立于 %(d)s') % {'d': day(established)}}</span>"
