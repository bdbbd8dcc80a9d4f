"""HTTP caching for public pages and API answers, keyed by the data version.

Every public GET answer is a function of the data, the date in China (some
pages show today's figures or a daily pick of articles) and the URL — never
of the visitor. So:

- `ETag` is a hash of (data version, date, URL, code release); a request whose
  `If-None-Match` matches gets 304 before anything is rendered;
- `Cache-Control: public, max-age=PORTAL_CACHE_MAX_AGE` lets browsers and a
  CDN keep answers for a while;
- with PORTAL_PAGE_CACHE on, whole rendered answers are kept in the shared
  cache (Redis through REDIS_URL, process memory otherwise) under the same
  key, so a repeat view costs one primary-key read and one cache read. A data
  change bumps the version, so a stale page is never served; the timeout only
  bounds memory. Answers are kept gzipped, as nearly every client asks for
  them, so a hit is not compressed again (a client that does not accept gzip
  gets it decompressed).

The code release (portal.release) is in the key too: after a deploy, pages
are rendered by the new code instead of served from the old one's cache, and
an old ETag is no longer a 304.

The cache is an optimisation: if it does not answer, pages are rendered.
"""

import gzip
import hashlib
import logging
from contextlib import suppress
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.gzip import re_accepts_gzip
from django.utils import timezone
from django.utils.cache import parse_etags, patch_vary_headers

from . import release
from .middleware import GZIP_MIN_BYTES, gzip_body, is_private
from .models import current_version

logger = logging.getLogger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")
# Never cached: the staff admin, health probes (a monitor must see the truth),
# the message check (portal.middleware.NoStoreMiddleware).
_NEVER = ("/healthz", "/readyz", "/static/")
_CACHEABLE_TYPES = (
    "text/html",
    "application/json",
    "application/xml",
    "application/atom+xml",
    "text/plain",
)


def _skipped(request) -> bool:
    return (
        request.method not in ("GET", "HEAD")
        or request.path.startswith(_NEVER)
        or request.path.startswith("/" + settings.PORTAL_ADMIN_PATH)
        or is_private(request)
    )


def etag_for(request, version: int) -> str:
    day = timezone.localdate(timezone=CHINA).isoformat()
    url = request.get_full_path()
    code = release.current()
    digest = hashlib.sha256(f"{version}|{day}|{url}|{code}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def _matches(request, etag: str) -> bool:
    sent = request.META.get("HTTP_IF_NONE_MATCH")
    if not sent:  # most requests: nothing to parse
        return False
    wanted = parse_etags(sent)
    # Weak comparison (RFC 9110 §13.1.2): GZipMiddleware marks compressed
    # answers W/, and the client sends back what it got.
    bare = etag.removeprefix("W/")
    return "*" in wanted or any(tag.removeprefix("W/") == bare for tag in wanted)


def _storable(response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "Cookie" not in response.get("Vary", "")
        and response.get("Content-Type", "").startswith(_CACHEABLE_TYPES)
    )


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # Redis down or refusing: render instead
        logger.warning("Page cache unavailable; rendering.")
        return None


def kept(key: str, version: int | None, build, timeout: int | None = None):
    """`build()`, kept in the shared cache per data version: what every request
    of a page shares until an import changes the data (the home page's tiles, a
    province's tallies, whether there is sample data).

    `version` is the request's data version (this middleware sets it); without
    one nothing is kept. A cache that is down only costs the build. `build()`
    returning None (nothing found) is not kept.
    """
    if version is None:
        return build()
    key = f"{key}:v{version}"
    try:
        found = cache.get(key)
    except Exception:  # the cache is down: build, as every page does then
        found = None
    if found is None:
        found = build()
        if found is not None:
            with suppress(Exception):  # a cache that is down only costs speed
                cache.set(key, found, timeout or settings.PORTAL_PAGE_CACHE_SECONDS)
    return found


# key -> (data version, value): kept_here()'s memory, one per process.
_here: dict[str, tuple[int, object]] = {}


def kept_here(key: str, version: int | None, build):
    """`build()`, kept in this process's memory per data version: for a small
    value that a hot path needs on every request (the provinces' names for the
    search facets), where even the shared cache's round trip is the cost. The
    newest version's value replaces the last; without a version nothing is kept.
    """
    if version is None:
        return build()
    found = _here.get(key)
    if found is not None and found[0] == version:
        return found[1]
    value = build()
    _here[key] = (version, value)
    return value


def forget_kept_here() -> None:
    """Empty kept_here()'s memory (tests: a rolled-back test reuses versions)."""
    _here.clear()


def _cache_set(key: str, value) -> None:
    try:
        cache.set(key, value, timeout=settings.PORTAL_PAGE_CACHE_SECONDS)
    except Exception:
        logger.warning("Page cache unavailable; not storing.")


class HttpCachingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _skipped(request):
            return self.get_response(request)
        try:
            version = current_version()
        except DatabaseError:
            # The view will meet the same error and answer 503.
            return self.get_response(request)
        # For what else depends on the data alone (the sample-data banner).
        request.data_version = version
        etag = etag_for(request, version)
        if _matches(request, etag):
            return self._headers(HttpResponseNotModified(), etag)
        key = "page:" + etag.strip('"')
        stored = _cache_get(key) if settings.PORTAL_PAGE_CACHE else None
        if stored is not None:
            body, gzipped, content_type, headers = stored
            response = HttpResponse(content_type=content_type)
            for name, value in headers:
                response[name] = value
            return self._headers(self._body(request, response, body, gzipped), etag)
        response = self.get_response(request)
        if not _storable(response):
            return response
        if settings.PORTAL_PAGE_CACHE:
            kept = [
                (name, value)
                for name, value in response.items()
                if name.lower() in ("content-language", "access-control-allow-origin", "link")
            ]
            body, gzipped = response.content, False
            if len(body) >= GZIP_MIN_BYTES:
                # As portal.middleware.GZipMiddleware compresses: stored
                # once, the same bytes on every hit.
                body, gzipped = gzip_body(body), True
            _cache_set(key, (body, gzipped, response["Content-Type"], kept))
            response = self._body(request, response, body, gzipped)
        return self._headers(response, etag)

    @staticmethod
    def _body(request, response, body: bytes, gzipped: bool):
        """The body as stored, or decompressed for a client that does not take gzip.

        A gzipped answer is marked as GZipMiddleware marks what it compresses
        (Content-Encoding, Vary), which then leaves it alone.
        """
        # GZipMiddleware's own test of the header, so both agree on who gets gzip.
        if gzipped and re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            response.content = body
            response["Content-Encoding"] = "gzip"
        else:
            response.content = gzip.decompress(body) if gzipped else body
        return response

    @staticmethod
    def _headers(response, etag: str):
        # Weak when compressed, as GZipMiddleware makes the ETags of what it
        # compresses: the bytes differ from the uncompressed answer's.
        response["ETag"] = "W/" + etag if response.has_header("Content-Encoding") else etag
        response["Cache-Control"] = f"public, max-age={settings.PORTAL_CACHE_MAX_AGE}"
        if "Vary" in response:
            patch_vary_headers(response, ["Accept-Encoding"])
        else:  # most answers: what patch_vary_headers() would write, without parsing
            response["Vary"] = "Accept-Encoding"
        return response
