"""Absolute URLs for feeds, canonical links and the JSON API."""

from django.conf import settings


def absolute_url(request, path: str) -> str:
    """PORTAL_BASE_URL + path when configured (behind a proxy the Host header may
    be internal), otherwise whatever host the request came in on."""
    if settings.PORTAL_BASE_URL:
        return settings.PORTAL_BASE_URL + path
    return request.build_absolute_uri(path)
