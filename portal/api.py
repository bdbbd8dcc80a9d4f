"""The JSON API, /api/v1/: one django-ninja API with a router per app.

    agencies/api.py  /search, /agencies, /agencies/{uscc}, /phones/{key}
    articles/api.py  /articles, /articles/{slug}

The response schemas there produce both the JSON and /api/v1/openapi.json.
Rules that hold for every path under /api/v1/, known or not (docs/api.md;
tests/test_api.py checks them):

- read-only: GET and HEAD answer, OPTIONS says what is allowed, any other
  method is 405 with `Allow: GET, HEAD, OPTIONS` (no CSRF page: nothing here
  changes anything). The one exception, `POST /check`, is a POST only
  because its input — a whole message — is too long and too private for a
  URL; it changes nothing either, answers POST and OPTIONS only, takes only
  `application/json` (415 otherwise), and no answer of it is ever cached
  (`Cache-Control: no-store`, set by portal.middleware.NoStoreMiddleware);
- a body is UTF-8 JSON whose strings are all valid Unicode (JSONBodyParser);
- every error is the envelope of portal.api_errors, never an HTML page;
- no cookies, `Access-Control-Allow-Origin: *`: this is open data;
- JSON in UTF-8 with Chinese as characters, not \\u escapes.
"""

import json
import logging
import re
from functools import cache, wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.urls import URLPattern
from ninja import NinjaAPI, Router
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from agencies.api import router as agencies_router
from articles.api import router as articles_router

from .api_errors import ApiError, from_validation, responses
from .views import RETRY_AFTER_SECONDS

ALLOW = "GET, HEAD, OPTIONS"
# Operations (by url_name) that read their input from a POST body.
POST_OPERATIONS = {"check"}
ALLOW_POST = "POST, OPTIONS"


def preflight(allow: str) -> dict:
    """Answers to a CORS preflight (OPTIONS); other answers only need Allow-Origin."""
    return {
        "Allow": allow,
        "Access-Control-Allow-Methods": allow,
        # A JSON body needs its Content-Type allowed across origins.
        "Access-Control-Allow-Headers": "Content-Type",
        # May be cached for a day: the rules above never change per request.
        "Access-Control-Max-Age": "86400",
    }


# Messages for statuses raised by ninja itself (HttpError); 429 comes from its
# throttling once the next issue turns that on.
STATUS_MESSAGES = {429: "请求太频繁，请稍后再试。", 503: "服务暂时不可用，请稍后再试。"}

request_log = logging.getLogger("django.request")


class ChineseJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _has_lone_surrogate(data) -> bool:
    """Whether any string (or key) in parsed JSON holds half of a UTF-16 pair."""
    pending = [data]  # a loop, not recursion: the nesting json.loads took may be deep
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class JSONBodyParser(Parser):
    """A request body as RFC 8259 has it: UTF-8 JSON, every string valid Unicode.

    Ninja's parser (json.loads on the bytes) also takes UTF-16 and UTF-32, and
    lets a lone surrogate escape ("\\ud800") through as a string that nothing
    can encode later: a 500 deep inside the check. Each refusal here is an
    ApiError with its own message; ninja wraps whatever a parser raises in a
    400 HttpError, which http_error() below unwraps again.
    """

    def parse_body(self, request):
        try:
            # A leading byte order mark is ignored, as RFC 8259 (8.1) allows.
            text = request.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiError(400, "请求内容不是 UTF-8 编码的文字。") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ApiError(
                400, f"请求内容不是有效的 JSON：第 {error.lineno} 行第 {error.colno} 个字符处有误。"
            ) from None
        except RecursionError:
            raise ApiError(400, "请求内容的 JSON 嵌套太深。") from None
        # Valid UTF-8 has no surrogates: only a \\u escape can bring one in.
        if "\\u" in text and _has_lone_surrogate(data):
            raise ApiError(
                400, "请求内容中有无效的字符：\\uD800–\\uDFFF 的转义只能成对出现（UTF-16 代理对）。"
            )
        return data

    def parse_querydict(self, data, list_fields, request):
        # A parameter the document gives one value (page, q, province …) that
        # is sent twice is refused, not read as its last value: it reaches the
        # schema as a list, which from_validation() words as a repeat.
        # Undeclared parameters are in `data` too; the schema ignores them.
        return {
            key: values if key in list_fields or len(values) > 1 else values[-1]
            for key, values in data.lists()
        }


class PortalApi(NinjaAPI):
    """NinjaAPI with the portal's rules applied to every URL it serves."""

    def get_content_type(self) -> str:
        # What the hand-written API sent: RFC 8259 defines no charset parameter
        # for application/json (it is always UTF-8).
        return "application/json"

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        wrapped = [
            URLPattern(
                p.pattern,
                self.read_only(p.callback, posted=p.name in POST_OPERATIONS),
                p.default_args,
                p.name,
            )
            for p in patterns
        ]
        return wrapped, app_name, namespace

    def error_response(self, request, error: ApiError) -> HttpResponse:
        return self.create_response(request, error.body(), status=error.status)

    def read_only(self, view, posted: bool = False):
        """The method rule, CORS and JSON 404s around one of ninja's views.

        Ninja answers an undeclared method with a plain-text 405 and routes HEAD
        nowhere; its root view raises Http404 outside any operation. Wrapping its
        URL patterns keeps those rules in this one place, for every path.
        `posted`: the operation takes a JSON body in a POST (POST_OPERATIONS).
        """
        allow, methods = (ALLOW_POST, ("POST",)) if posted else (ALLOW, ("GET", "HEAD"))

        @wraps(view)
        def read_only_view(request, *args, **kwargs):
            if request.method == "OPTIONS":
                response = HttpResponse(status=204, headers=preflight(allow))
            elif request.method not in methods:
                first, _, others = allow.partition(", ")
                others = others.replace(", ", "、")
                message = f"只支持 {first} 请求（以及 {others}），不支持 {request.method[:20]}。"
                response = self.error_response(request, ApiError(405, message))
                response["Allow"] = allow
            elif posted and request.content_type != "application/json":
                # Here rather than in the parser, which ninja skips for an empty body.
                response = self.error_response(request, unsupported_type(request.content_type))
            else:
                response = self.answer(view, request, *args, **kwargs)
            response["Access-Control-Allow-Origin"] = "*"
            return response

        # Nothing under /api/v1/ changes anything, so no CSRF token is needed,
        # and a POST must get JSON rather than Django's HTML CSRF page.
        read_only_view.csrf_exempt = True
        return read_only_view

    def answer(self, view, request, *args, **kwargs) -> HttpResponse:
        method = request.method
        # HEAD is GET without a body (the server drops it); ninja only routes GET.
        if method == "HEAD":
            request.method = "GET"
        try:
            return view(request, *args, **kwargs)
        except Http404 as error:
            return self.on_exception(request, error)
        finally:
            request.method = method


api = PortalApi(
    title="催收机构名录开放接口",
    version="1.0.0",
    description=(
        "只读、免登录、无 Cookie。数据注明来源和日期；示例数据（is_sample）"
        "是虚构的演示记录。登记信息以国家企业信用信息公示系统为准。"
        '所有错误都是同一种 JSON：{"error": {"status", "message", "parameter"}}。'
    ),
    servers=[{"url": settings.PORTAL_BASE_URL}] if settings.PORTAL_BASE_URL else [],
    urls_namespace="api",
    renderer=ChineseJSONRenderer(),
    parser=JSONBodyParser(),
    # Served below by an operation of our own (cached, Chinese unescaped); no
    # interactive docs page, which would load third-party JavaScript.
    openapi_url=None,
    docs_url=None,
)


# --- Errors: every one becomes the envelope -----------------------------------------------------


def unsupported_type(content_type: str) -> ApiError:
    """415 for a POST body not declared as JSON (form fields, plain text, nothing)."""
    sent = f"这里是 {content_type[:60]}" if content_type else "这里没有 Content-Type"
    return ApiError(415, f"请求内容须是 JSON，Content-Type 应为 application/json（{sent}）。")


@api.exception_handler(ApiError)
def api_error(request, error: ApiError):
    return api.error_response(request, error)


@api.exception_handler(ValidationError)
def invalid_parameter(request, error: ValidationError):
    return api.error_response(request, from_validation(error.errors, request.GET))


@api.exception_handler(Http404)
def not_found(request, error: Http404):
    detail = error.args[0] if error.args and isinstance(error.args[0], str) else ""
    return api.error_response(request, ApiError(404, detail or "没有这条记录。"))


@api.exception_handler(HttpError)
def http_error(request, error: HttpError):
    if isinstance(error.__cause__, ApiError):
        # The body parser's own refusal, which ninja wraps in a 400 (JSONBodyParser).
        return api.error_response(request, error.__cause__)
    message = STATUS_MESSAGES.get(error.status_code, error.message)
    return api.error_response(request, ApiError(error.status_code, message))


@api.exception_handler(SuspiciousOperation)
def bad_request(request, error: SuspiciousOperation):
    if isinstance(error, RequestDataTooBig):  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        return api.error_response(request, ApiError(413, "请求内容太长。"))
    # E.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS: Django says 400.
    return api.error_response(request, ApiError(400, "请求无效。"))


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_unavailable(request, error: Exception):
    # The database refused or dropped the connection: a 503 the client may
    # retry, as the HTML pages answer (portal.middleware.DatabaseUnavailableMiddleware).
    response = api.error_response(request, ApiError(503, STATUS_MESSAGES[503]))
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(Exception)
def server_error(request, error: Exception):
    # Logged as Django logs an unhandled exception; the client gets no traceback.
    request_log.error("Internal Server Error: %s", request.path, exc_info=error)
    return api.error_response(request, ApiError(500, "服务器出错了，请稍后再试。"))


# --- Routes -------------------------------------------------------------------------------------


@cache
def openapi_document() -> dict:
    """Generated once per process from the routers' schemas."""
    return api.get_openapi_schema()


@api.get(
    "/openapi.json",
    response=responses(dict[str, Any]),
    operation_id="openapi",
    url_name="openapi",
    summary="本文档（OpenAPI 3.1）",
    tags=["文档"],
)
def openapi(request):
    return openapi_document()


api.add_router("", agencies_router)
api.add_router("", articles_router)

# Last, so that it only sees paths no router claimed: /api/v1/nope is a JSON 404.
fallback = Router()
UNKNOWN = "没有这个接口。接口说明见 /api/v1/openapi.json。"


@fallback.get("/", include_in_schema=False)
def root(request):
    # Ahead of ninja's own root view, which raises a 404 naming its docs URL.
    raise ApiError(404, UNKNOWN)


@fallback.get("/{path:rest}", include_in_schema=False)
def unknown_path(request, rest: str):
    raise ApiError(404, UNKNOWN)


api.add_router("", fallback)
