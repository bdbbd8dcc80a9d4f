"""Headers every response carries, HTML, JSON, error pages and static files alike,
and the one that every answer of the message check carries; and Django's
session, user and messages middleware, for the staff admin only.

Every middleware here runs on every request, so each returns early from what
does not concern the request (issue 22: each measured with /healthz).
"""

import zlib
from functools import cache

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.middleware import csp, gzip
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP, build_policy

from . import requestline, views
from .api_errors import ApiError
from .i18n import without_language

# The message check, page and API: their answers may repeat what was pasted.
PRIVATE_URL_NAMES = ("agencies:check", "api:check")


class PermissionsPolicyMiddleware:
    """Adds `Permissions-Policy`: the site uses no camera, microphone, location,
    payment or other powerful feature, so it turns them all off — for itself and
    for anything that might ever be embedded in it.

    (Django's SecurityMiddleware already sets Referrer-Policy,
    X-Content-Type-Options and Cross-Origin-Opener-Policy; its CSP middleware
    the Content-Security-Policy.)
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.value = ", ".join(f"{feature}=()" for feature in settings.PORTAL_PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.value)
        return response


class HeadWithoutBodyMiddleware:
    """A HEAD response keeps its headers (Content-Length included) and drops its body.

    Django's views answer HEAD like GET; runserver and the test client strip
    the body, gunicorn drops it too but logs a warning for every request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "HEAD" and not response.streaming:
            length = response.headers.get("Content-Length", str(len(response.content)))
            response.content = b""
            response["Content-Length"] = length
        return response


# Answers shorter than this go uncompressed (Django's own floor is 200 bytes).
# Under a kilobyte, gzip saves a few hundred bytes on an answer whose headers
# are already about that long, and never a round trip (a first TCP window is
# ten segments); it cost 13-30 µs of a ~700 µs number API answer, the
# commonest short answer (docs/benchmarks.md).
GZIP_MIN_BYTES = 1024


def gzip_body(body: bytes) -> bytes:
    """`body` in gzip, as Django's compress_string() writes it (level 6, no
    timestamp), with a window no larger than the body.

    zlib prepares its whole window, 32 KB by default, before reading a byte:
    for a 1.6 KB JSON answer that was ~60 of the ~75 µs compressing took, and
    the output is the same size with a window that covers the body. Pages
    larger than 16 KB get the full window, as before.
    """
    window = min(max(len(body) - 1, 1).bit_length(), 15)  # 2**window >= len(body)
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + max(window, 9), 8 if window > 12 else 4)
    return compressor.compress(body) + compressor.flush()


class GZipMiddleware(gzip.GZipMiddleware):
    """Django's, for answers in one piece through gzip_body() and without the random
    padding against BREACH: no public page or answer holds a secret to find
    (no sessions, tokens or personal data), the staff admin's one secret in a
    page, the CSRF token, is masked anew in every response by Django itself,
    and the same bytes for every visitor is what a shared cache wants.
    """

    max_random_bytes = 0

    def process_response(self, request, response):
        if response.streaming:
            return super().process_response(request, response)
        # Django's rules, in its order: short bodies (our floor) and encoded
        # ones as they are.
        if len(response.content) < GZIP_MIN_BYTES or response.has_header("Content-Encoding"):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not gzip.re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = gzip_body(response.content)
        if len(compressed) >= len(response.content):
            return response
        response.content = compressed
        response.headers["Content-Length"] = str(len(compressed))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag
        response.headers["Content-Encoding"] = "gzip"
        return response


class ContentSecurityPolicyMiddleware(csp.ContentSecurityPolicyMiddleware):
    """Django's, writing each policy once instead of for every response.

    The site's policies (settings.SECURE_CSP) hold no nonce: no page has an
    inline script or style. The header is then the same text on every
    response, which Django builds anew each time from the settings' lists
    (~2 % of a number's JSON answer, the commonest request; docs/benchmarks.md).
    A response whose nonce was used is left to Django, which writes it in.
    """

    def process_response(self, request, response):
        if csp.get_nonce(request):  # generated for this response: Django's way
            return super().process_response(request, response)
        sentinel = object()
        for header, attribute, setting in (
            (CSP.HEADER_ENFORCE, "_csp_config", settings.SECURE_CSP),
            (CSP.HEADER_REPORT_ONLY, "_csp_ro_config", settings.SECURE_CSP_REPORT_ONLY),
        ):
            # As Django: a view's own config (csp_override) before the setting's,
            # an empty one adds no header, a header already set is kept.
            config = getattr(response, attribute, sentinel)
            if config is sentinel:
                config = setting
            if config and header not in response:
                response.headers[str(header)] = _policy(config)
        return response


# id(config) -> (config, its header): settings' dicts and csp_override's live
# as long as the process; the identity check covers a dict whose id was reused.
_POLICIES: dict[int, tuple[dict, str]] = {}


def _policy(config: dict) -> str:
    built = _POLICIES.get(id(config))
    if built is None or built[0] is not config:
        if len(_POLICIES) > 64:  # configs made per response would not be kept
            _POLICIES.clear()
        built = _POLICIES[id(config)] = (config, build_policy(config))
    return built[1]


class RequestLineLimitMiddleware:
    """A request line longer than requestline.APP_LIMIT is a 414 with the site's own
    page, in the page's language, rather than whatever the view would make of it.

    The search box never sends more (its maxlength is requestline.SEARCH_BOX_CHARS);
    a longer line comes from a link or an address typed by hand, and the page
    says how to check a whole message instead. gunicorn's own limit is higher
    (portal/gunicorn.conf.py), so such lines reach this middleware. Under
    /api/ the answer is the API's JSON envelope.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # gunicorn's RAW_URI is the target as sent; elsewhere (runserver, the
        # test client) the path and query string as Django re-quotes them.
        target = request.META.get("RAW_URI") or request.get_full_path()
        method = request.META.get("REQUEST_METHOD", "GET")
        protocol = request.META.get("SERVER_PROTOCOL", "HTTP/1.1")
        length = requestline.line_length(method, target, protocol)
        if length <= requestline.APP_LIMIT:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            error = ApiError(
                414,
                f"请求行太长：最多 {requestline.APP_LIMIT} 字节，这里是 {length} 字节。"
                "整段消息请用 POST /api/v1/check。",
            )
            return JsonResponse(error.body(), status=414, json_dumps_params={"ensure_ascii": False})
        return views.uri_too_long(request)


class DatabaseUnavailableMiddleware:
    """A database that does not answer is a 503 in Chinese, not a 500 with a traceback.

    OperationalError and InterfaceError are what the drivers raise for a
    refused, dropped or timed-out connection (and for a locked SQLite file);
    errors in our own SQL are ProgrammingError and stay 500s.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return views.service_unavailable(request)
        return None


@cache
def _private_paths() -> frozenset[str]:
    with translation.override(settings.LANGUAGE_CODE):  # the unprefixed paths
        return frozenset(reverse(name) for name in PRIVATE_URL_NAMES)


@cache
def _private_endings() -> tuple[str, ...]:
    return tuple(_private_paths())


def is_private(request) -> bool:
    """An answer of PRIVATE_URL_NAMES, in any language (/en/check/ too)."""
    path = request.path
    # A language prefix only comes before a private path: any other ending is
    # not one, without working out the language (every request asks this).
    return path.endswith(_private_endings()) and without_language(path) in _private_paths()


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer of the message check.

    Whatever makes the answer: the view (200, 400, 413), ninja and the API's
    rules (405, 415), the rate limits (429), Django's error handlers. A browser
    or proxy must not keep a page or JSON that repeats someone's message, and
    one rule for the URLs says so more surely than one line per status.
    portal.caching leaves these URLs alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_private(request):
            response["Cache-Control"] = "no-store"
        return response


# --- Django's own, for what the site needs of them ------------------------------------------


def _for_staff(middleware_class):
    """`middleware_class`, for the staff admin's URLs only.

    Sessions, users and messages exist for the admin: no public page or API
    answer reads them (they set no cookie, and the templates' auth and
    messages context processors do without them). Outside the admin they cost
    every request a tenth of a millisecond and do nothing.
    """

    class ForStaff(middleware_class):
        def __call__(self, request):
            if request.path.startswith("/" + settings.PORTAL_ADMIN_PATH):
                return super().__call__(request)
            return self.get_response(request)

    ForStaff.__name__ = ForStaff.__qualname__ = f"Staff{middleware_class.__name__}"
    ForStaff.__doc__ = f"{middleware_class.__name__}, under the admin's path only."
    return ForStaff


StaffSessionMiddleware = _for_staff(SessionMiddleware)
StaffAuthenticationMiddleware = _for_staff(AuthenticationMiddleware)
StaffMessageMiddleware = _for_staff(MessageMiddleware)
