"""Malformed requests on every URL the site has: 400 or 404 (or a corrected
page), never a 500. The URL list comes from the resolver, so a new route is
covered the day it is added."""

import re

import pytest
from django.conf import settings
from django.urls import LocalePrefixPattern, URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# A value for each converter, so every pattern becomes a concrete path.
_SAMPLES = {"slug": "hunan", "int": "1", "path": "x", "str": "x", "uuid": None}
_SKIP_PREFIXES = ("admin/",)  # the staff admin: login-protected, Django's own


def _concrete_paths(patterns=None, prefix="") -> list[str]:
    paths = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if isinstance(entry.pattern, LocalePrefixPattern):
                # The pages, once per language: unprefixed, /zh-hant/…, /en/….
                for code, _name in settings.LANGUAGES:
                    language = "" if code == settings.LANGUAGE_CODE else f"{code}/"
                    paths += _concrete_paths(entry.url_patterns, prefix + language)
            elif not route.startswith(_SKIP_PREFIXES):
                paths += _concrete_paths(entry.url_patterns, prefix + route)
            continue
        assert isinstance(entry, URLPattern)
        if route.startswith("^"):
            # A regex catch-all (e.g. "anything else under /api/v1/"): one sample.
            paths.append("/" + prefix + "no-such-thing")
            continue
        filled = re.sub(
            r"<(?:(\w+):)?\w+>", lambda m: _SAMPLES.get(m.group(1) or "str") or "x", route
        )
        paths.append("/" + prefix + filled)
    return sorted(set(paths))


PATHS = _concrete_paths()
HOSTILE_QUERIES = [
    "q=%00",
    "q=%FF%FE%FD",  # not UTF-8
    "q=" + "长" * 10_000,
    "page=99999999999999999999999",
    "page=-1",
    "page=%00",
    "page_size=0",
    "province=%00&status=%FF",
    "category=%00&tag=" + "x" * 5_000,
]


def test_the_url_list_covers_the_site():
    for expected in ("/", "/search/", "/phone/x/", "/agencies/x/", "/articles/"):
        assert expected in PATHS
        assert f"/zh-hant{expected}" in PATHS and f"/en{expected}" in PATHS


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_query_strings_never_cause_a_500(client, path, query):
    response = client.get(f"{path}?{query}")
    assert response.status_code < 500, (path, query, response.status_code)


@pytest.mark.parametrize("path", PATHS)
def test_hostile_paths_never_cause_a_500(client, path):
    for bad in ("%FF%FE", "%00", "长" * 3_000, "..%2F..%2Fetc%2Fpasswd"):
        # Replace the last path segment that came from a sample value, or append.
        mangled = re.sub(r"/x(/?)$|/hunan(/?)$|/1(/?)$", f"/{bad}/", path)
        if mangled == path:
            mangled = path.rstrip("/") + f"/{bad}"
        response = client.get(mangled)
        assert response.status_code < 500, (mangled[:80], response.status_code)


@pytest.mark.django_db
def test_a_host_not_allowed_gets_the_400_page_not_a_crash(client):
    # Django refuses the Host; the error page itself builds absolute links
    # (hreflang alternates) and must not ask for the refused host again.
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "evil.example" not in response.content.decode()
