"""The one error envelope of /api/v1/.

Every error from every endpoint and every path under /api/v1/ has this body:

    {"error": {"status": 404, "message": "…", "parameter": null}}

`message` is Chinese, for people; `parameter` names the query or path
parameter at fault, or is null. Code anywhere raises `ApiError(status,
message, parameter)`; portal.api turns it, Django's Http404, ninja's
validation errors and anything unexpected into this body.

Statuses not used yet have their place too: rate limiting (429) and the
readiness check (503) raise ApiError like everything else, and every
operation already documents the envelope for them (ERROR_STATUSES).
"""

from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

# Every status an API answer can have besides 200, listed in each operation's
# OpenAPI responses so that clients (and Schemathesis) know the error body.
ERROR_STATUSES = (400, 404, 405, 414, 429, 500, 503)


class ApiError(Exception):
    """Raise to answer with the envelope: ApiError(404, "没有…", parameter=None)."""

    def __init__(self, status: int, message: str, parameter: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter

    def body(self) -> dict:
        return {
            "error": {"status": self.status, "message": self.message, "parameter": self.parameter}
        }


class ErrorDetail(BaseModel):
    status: int = Field(description="HTTP 状态码，与响应的状态码相同")
    message: str = Field(description="中文说明")
    parameter: str | None = Field(description="出错的参数名；与参数无关时为 null")


class Error(BaseModel):
    # The body of every error answer. (No docstring: it would become the
    # schema's description in the published document.)

    error: ErrorDetail


def responses(ok, also: tuple[int, ...] = ()) -> dict:
    """An operation's documented answers: `ok` for 200, the envelope for every
    error (and for `also`, statuses only this operation has, such as 413)."""
    return {200: ok, (*ERROR_STATUSES, *also): Error}


def checked_by_view(**keywords):
    """json_schema_extra for a query parameter whose value the view checks itself
    (an enum or a pattern tested with Python's `re`, refused with ApiError):
    `keywords` added to its schema, and no `default`, which nobody can send."""

    def edit(schema: dict) -> None:
        schema.pop("default", None)
        schema.update(keywords)

    return edit


def from_validation(errors: list[dict], query) -> ApiError:
    """A 400 naming the first parameter that ninja (pydantic) refused.

    `errors` are ninja's ValidationError.errors (their `loc` is ("query", "page")
    or ("path", "slug")); `query` is request.GET, for echoing what was sent.
    """
    first = errors[0]
    if tuple(first["loc"][:1]) == ("body",) and len(first["loc"]) == 2:
        # The body as a whole (empty, or not an object): the name ninja gives
        # it ("payload") is the function's argument, unknown to clients.
        return ApiError(400, "请求内容应是一个 JSON 对象。")
    name = str(first["loc"][-1]) if len(first["loc"]) > 1 else None
    if name and len(query.getlist(name)) > 1:
        # The parser hands a repeated single-valued parameter over as a list
        # (portal.api.JSONBodyParser.parse_querydict).
        message = _("参数 %(name)s 只能给一个值，这里给了 %(count)d 个。")
        return ApiError(400, message % {"name": name, "count": len(query.getlist(name))}, name)
    sent = str(query.get(name, ""))[:20] if name else ""
    context = first.get("ctx") or {}
    kind = first.get("type", "")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        message = f"{name} 应是正整数，这里是“{sent}”。"
    elif kind == "greater_than_equal":
        message = f"{name} 不能小于 {context.get('ge')}，这里是 {sent}。"
    elif kind == "less_than_equal":
        message = f"{name} 不能大于 {context.get('le')}，这里是 {sent}。"
    elif kind == "missing":
        message = f"缺少参数 {name}。"
    else:
        message = f"参数 {name} 的值无效。" if name else "请求无效。"
    return ApiError(400, message, name)
