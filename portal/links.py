"""Paths and absolute URLs of records, for pages, feeds, canonical links and the JSON API.

`reverse()` walks the URL resolver on every call, some 40 µs: a list page of
25 agencies and 34 provinces paid it about sixty times, and it was a third of
a 20-row API page. The path of a one-argument URL is the same text around
the argument every time, so `reverse_one()` reverses it once per process and
fills the value in after that. (The site is served at the root of its host;
a SCRIPT_NAME prefix would need this cache per prefix.)
"""

from functools import cache
from typing import Annotated
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import get_language
from pydantic import PlainSerializer, SerializationInfo

# Stands in for the argument while a pattern is reversed once.
_MARK = "__value__"


def absolute_url(request, path: str) -> str:
    """PORTAL_BASE_URL + path when configured (behind a proxy the Host header may
    be internal), otherwise whatever host the request came in on."""
    if settings.PORTAL_BASE_URL:
        return settings.PORTAL_BASE_URL + path
    try:
        return request.build_absolute_uri(path)
    except DisallowedHost:
        # The 400 page for a Host not in ALLOWED_HOSTS renders links too; asking
        # for the host again would raise again and turn the 400 into a 500.
        return path


@cache
def _around(viewname: str, kwarg: str, language: str) -> tuple[str, str]:
    # `language`: pages have a prefix per language (/zh-hant/…), so the
    # reversed text differs by the active one.
    before, _, after = reverse(viewname, kwargs={kwarg: _MARK}).partition(_MARK)
    return before, after


def reverse_one(viewname: str, kwarg: str, value: str, language: str | None = None) -> str:
    """reverse(viewname, kwargs={kwarg: value}) for a URL with one `str` or `slug`
    argument, quoted as reverse() quotes it, in the active language.

    `language`: the active one, where the caller already knows it. Asking for
    it costs more than the rest of this function (a context-local lookup):
    answers that write several links per row ask once."""
    before, after = _around(viewname, kwarg, language or get_language())
    value = str(value)
    # Letters and digits of ASCII are never quoted, and they are every credit
    # code and number key: quote() costs more than the rest here (~2 µs, 22
    # times in a number's answer).
    if not (value.isascii() and value.isalnum()):
        value = quote(value, safe=RFC3986_SUBDELIMS + "/~:@")
    return before + value + after


def _on_the_site(path: str, info: SerializationInfo) -> str:
    context = info.context
    # The site's origin, worked out once per answer and kept in the context
    # (a new dict for every answer): a 20-row list writes 40 links.
    origin = context.get("origin")
    if origin is None:
        origin = context["origin"] = absolute_url(context["request"], "/").removesuffix("/")
    return origin + path


# For API schemas: a path on this site (say from reverse_one()), written out as
# an absolute URL (on PORTAL_BASE_URL or the request's host). Ninja passes the
# request in the serialization context.
SiteUrl = Annotated[str, PlainSerializer(_on_the_site, return_type=str)]
