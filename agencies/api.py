"""Read-only JSON API, /api/v1/. Documented by the OpenAPI document it serves.

Rules every endpoint keeps (tests/test_api.py checks them):
- GET and HEAD only; anything else is 405 with a JSON body and an Allow header;
- a bad parameter is 400 naming the parameter, an unknown record 404, never a 500;
- every list is paginated (`page`, `page_size`) in a stable order, with
  `count`, `next` and `previous`;
- no cookies, and `Access-Control-Allow-Origin: *`: this is open data.

The queries are the ones the HTML pages use (agencies.search,
agencies.search_filters, the AgencyQuerySet), so the API cannot drift from
the pages.
"""

from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import phones
from . import uscc as uscc_lib
from .enums import NameKind, PhoneKind, Status
from .filters import AgencyListFilter
from .models import Agency, AgencyPhone
from .search.filters import SearchHitFilter
from .search.present import search_names
from .search.understand import InputKind, classify

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Offset pagination gets slower with depth; nobody reads past 10,000 rows of
# a list, and a client that needs everything should use the published export.
MAX_PAGE = 500


class ApiError(Exception):
    def __init__(self, status: int, message: str, parameter: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter


def _json(data, status: int = 200) -> JsonResponse:
    response = JsonResponse(
        data, status=status, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False}
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def error_body(status: int, message: str, parameter: str = "") -> dict:
    body = {"error": {"status": status, "message": message}}
    if parameter:
        body["error"]["parameter"] = parameter
    return body


def api_view(view):
    @csrf_exempt  # so that POST reaches us and gets its 405, not a CSRF page
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = _json(
                error_body(405, f"只支持 GET 请求，不支持 {request.method[:20]}。"), status=405
            )
            response["Allow"] = "GET, HEAD"
            return response
        try:
            return _json(view(request, *args, **kwargs))
        except ApiError as error:
            return _json(error_body(error.status, error.message, error.parameter), error.status)
        except Http404 as error:
            message = error.args[0] if error.args and isinstance(error.args[0], str) else ""
            return _json(error_body(404, message or "没有这条记录。"), status=404)

    return wrapper


# --- Parameters --------------------------------------------------------------------------------


def _int_param(request, name: str, default: int, maximum: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw[:12])
    except ValueError:
        raise ApiError(400, f"{name} 应是正整数，这里是“{raw[:20]}”。", name) from None
    if value < 1 or value > maximum:
        raise ApiError(400, f"{name} 应在 1 到 {maximum} 之间，这里是 {value}。", name)
    return value


def _paging(request) -> tuple[int, int]:
    return (
        _int_param(request, "page", 1, MAX_PAGE),
        _int_param(request, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
    )


def _check_filters(filterset) -> None:
    if not filterset.form.is_valid():
        name, errors = next(iter(filterset.form.errors.items()))
        raise ApiError(400, f"{name}：{' '.join(errors)}", name)


def _page_link(request, page: int | None) -> str | None:
    if page is None:
        return None
    params = request.GET.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def _paged(
    request, count: int, page: int, page_size: int, results: list, partial: bool = False
) -> dict:
    pages = max(1, -(-count // page_size))
    if page > pages:
        raise ApiError(404, f"没有第 {page} 页：共 {pages} 页。", "page")
    return {
        "count": count,
        "partial": partial,
        "next": _page_link(request, page + 1 if page < min(pages, MAX_PAGE) else None),
        "previous": _page_link(request, page - 1 if page > 1 else None),
        "results": results,
    }


def _unpaged(results: list) -> dict:
    """The list envelope for answers that are never more than one page."""
    return {
        "count": len(results),
        "partial": False,
        "next": None,
        "previous": None,
        "results": results,
    }


# --- Representations ---------------------------------------------------------------------------


def agency_summary(request, agency) -> dict:
    return {
        "uscc": agency.uscc,
        "name": agency.name,
        "province": {"code": agency.province.code, "name": agency.province.name},
        "city": agency.city,
        "status": agency.status,
        "is_live": agency.is_live,
        "url": request.build_absolute_uri(agency.get_absolute_url()),
        "api_url": request.build_absolute_uri(f"/api/v1/agencies/{agency.uscc}"),
        "is_sample": agency.is_sample,
    }


def phone_summary(number: phones.Phone) -> dict:
    return {
        "number": number.display,
        "key": number.key,
        "kind": number.kind,
        "kind_label": number.kind_label,
        "region": number.region,
        "carrier": number.carrier,
    }


def _link(request, link) -> dict:
    return {
        "number": link.phone.key,
        "number_as_reported": link.number_as_reported,
        "kind": link.phone.kind,
        "label": link.label,
        "source": link.source,
        "source_url": link.source_url,
        "reported_on": link.reported_on,
        "url": request.build_absolute_uri(link.phone.get_absolute_url()),
    }


def agency_detail_body(request, agency) -> dict:
    names = list(agency.names.all())
    return {
        **agency_summary(request, agency),
        "entity_type": agency.entity_type,
        "legal_representative": agency.legal_representative,
        "registered_capital": agency.registered_capital,
        "registered_capital_wan": (
            None if agency.registered_capital_wan is None else str(agency.registered_capital_wan)
        ),
        "established_on": agency.established_on,
        "registration_authority": agency.registration_authority,
        "address": agency.address,
        "business_scope": agency.business_scope,
        "former_names": [n.name for n in names if n.kind == NameKind.FORMER],
        "aliases": [n.name for n in names if n.kind == NameKind.ALIAS],
        "phones": [_link(request, link) for link in agency.phone_links.all()],
        "clients": [
            {"name": c.name, "since": c.since, "until": c.until, "source_url": c.source_url}
            for c in agency.clients.all()
        ],
        "actions": [
            {
                "kind": a.kind,
                "kind_label": str(a.get_kind_display()),
                "authority": a.authority,
                "decided_on": a.decided_on,
                "document_number": a.document_number,
                "summary": a.summary,
                "source_url": a.source_url,
            }
            for a in agency.actions.all()
        ],
        "source": agency.source,
        "source_url": agency.source_url,
        "retrieved_on": agency.retrieved_on,
        "updated_at": agency.updated_at,
    }


# --- Endpoints ---------------------------------------------------------------------------------


def _name_results(request, folded: str) -> dict:
    page, page_size = _paging(request)
    filterset = SearchHitFilter(request.GET)
    _check_filters(filterset)
    results = search_names(folded, filterset, page=page, page_size=page_size)
    if results.page and results.page.number != page:
        pages = results.page.paginator.num_pages
        raise ApiError(404, f"没有第 {page} 页：共 {pages} 页。", "page")
    summaries = [agency_summary(request, hit.agency) for hit in results.hits]
    return _paged(request, results.count, page, page_size, summaries, results.partial)


@api_view
def search(request):
    query = classify(request.GET.get("q"))
    body = {"query": query.text, "kind": query.kind}
    if query.kind == InputKind.PHONE:
        links = list(AgencyPhone.objects.for_number(query.phone.key))
        body.update(
            _unpaged([agency_summary(request, link.agency) for link in links]),
            phone=phone_summary(query.phone),
        )
    elif query.kind == InputKind.USCC:
        agency = None
        if not query.uscc_error:
            agency = Agency.objects.for_listing().filter(uscc=query.uscc).first()
        body.update(
            _unpaged([agency_summary(request, agency)] if agency else []),
            uscc={
                "code": query.uscc,
                "valid": query.uscc_error is None,
                "message": query.uscc_error.message if query.uscc_error else "",
                "expected": query.uscc_expected or None,
                "found": agency is not None,
            },
        )
    elif query.kind == InputKind.NAME:
        body.update(_name_results(request, query.folded))
    else:
        body.update(_unpaged([]))
    return body


@api_view
def agency_list(request):
    folded = classify(request.GET.get("q")).folded if request.GET.get("q") else ""
    if folded:
        return _name_results(request, folded)
    page, page_size = _paging(request)
    filterset = AgencyListFilter(request.GET, queryset=Agency.objects.for_listing())
    _check_filters(filterset)
    # Credit-code order: unique, so stable, and served by its unique index.
    queryset = filterset.qs.order_by("uscc")
    count = queryset.count()
    offset = (page - 1) * page_size
    agencies = list(queryset[offset : offset + page_size]) if count else []
    return _paged(request, count, page, page_size, [agency_summary(request, a) for a in agencies])


@api_view
def agency_detail(request, uscc):
    try:
        code = uscc_lib.validate(uscc[:40])
    except uscc_lib.UsccError as error:
        raise ApiError(400, error.message, "uscc") from None
    agency = Agency.objects.for_detail().filter(uscc=code).first()
    if agency is None:
        raise ApiError(404, f"本站名录中没有统一社会信用代码为 {code} 的机构。")
    return agency_detail_body(request, agency)


@api_view
def phone_detail(request, key):
    number = phones.normalize(key)
    if number is None:
        raise ApiError(404, f"“{key[:40]}”不是一个能识别的电话号码。")
    links = list(AgencyPhone.objects.for_number(number.key))
    return {
        **phone_summary(number),
        "shared": len({link.agency_id for link in links}) > 1,
        "count": len(links),
        "agencies": [
            {**agency_summary(request, link.agency), "link": _link(request, link)} for link in links
        ],
    }


@api_view
def not_found(request, path=""):
    raise ApiError(404, "没有这个接口。接口说明见 /api/v1/openapi.json。")


@api_view
def openapi(request):
    from .openapi import document

    return document()


# Referenced by the OpenAPI document: what `kind` and `status` can be.
ENUMS = {
    "status": [s.value for s in Status],
    "phone_kind": [k.value for k in PhoneKind],
}
