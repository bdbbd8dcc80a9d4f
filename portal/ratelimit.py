"""Per-client rate limits on the requests that do work: search, the API, the
number page and the admin login.

A fixed window per (limit, client): the first request of a window creates a
counter in the cache with the window as its timeout, each request adds one,
and past the limit the answer is 429 with Retry-After — a page for people,
the API's JSON error envelope for /api/. The cache is the shared one (Redis
when REDIS_URL is set), so the limits hold across gunicorn workers and
servers. The client is stored only as a keyed hash, for the length of one
window. If the cache does not answer, requests go through: a broken cache
must not take the site down.
"""

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse

from . import views
from .api_errors import ApiError
from .i18n import without_language

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    name: str
    path_prefix: str
    requests: int
    seconds: int
    method: str = ""  # "" for every method

    def applies_to(self, request, path: str | None = None) -> bool:
        """`path`: the request's path without its language prefix, if known."""
        # /zh-hant/search/ is the search page too (portal.i18n).
        if path is None:
            path = without_language(request.path)
        return path.startswith(self.path_prefix) and (
            not self.method or request.method == self.method
        )


def parse_rate(text: str) -> tuple[int, int]:
    """ "60/60" → (60 requests, 60 seconds)."""
    requests, _, seconds = text.partition("/")
    return int(requests), int(seconds or 60)


def client_key(request) -> str:
    """The client's address as a keyed hash. Behind PORTAL_TRUSTED_PROXIES proxies
    the address is the one the nearest of them saw (X-Forwarded-For, counted
    from the right, since a client can write anything to the left)."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PORTAL_TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    digest = hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _count(limit: Limit, client: str) -> tuple[int, int]:
    """(requests in this window so far, seconds until it ends)."""
    window = int(time.time()) // limit.seconds
    key = f"ratelimit:{limit.name}:{window}:{client}"
    # incr() first: every request of a window but its first finds the counter,
    # so this is one cache call where add() then incr() were two (three round
    # trips to Redis, whose incr() also asks whether the key exists).
    try:
        count = cache.incr(key)
    except ValueError:
        # The window's first request; if another worker added the counter in
        # between, count on it.
        count = 1 if cache.add(key, 1, timeout=limit.seconds + 1) else cache.incr(key)
    return count, limit.seconds - int(time.time()) % limit.seconds


def too_many(request, retry_after: int):
    if request.path.startswith("/api/"):
        error = ApiError(429, f"请求太频繁，请 {retry_after} 秒后再试。")
        response = JsonResponse(error.body(), status=429, json_dumps_params={"ensure_ascii": False})
        response["Retry-After"] = str(retry_after)
        return response
    return views.too_many_requests(request, retry_after)


def configured_limits() -> list[Limit]:
    """settings.PORTAL_RATE_LIMITS: {name: (path prefix, "requests/seconds", method)}."""
    return [
        Limit(name, prefix, *parse_rate(rate), method)
        for name, (prefix, rate, method) in settings.PORTAL_RATE_LIMITS.items()
    ]


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.limits = configured_limits()

    def __call__(self, request):
        if settings.PORTAL_RATE_LIMITS_ENABLED:
            path = without_language(request.path)
            for limit in self.limits:
                if limit.applies_to(request, path):
                    refused = self._check(request, limit)
                    if refused is not None:
                        return refused
        return self.get_response(request)

    def _check(self, request, limit: Limit):
        try:
            count, retry_after = _count(limit, client_key(request))
        except Exception:  # the cache is down: serve rather than refuse everyone
            logger.warning("Rate limit %s not checked: the cache does not answer.", limit.name)
            return None
        if count > limit.requests:
            return too_many(request, max(1, retry_after))
        return None
