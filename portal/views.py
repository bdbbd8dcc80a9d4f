"""Error pages. They render from templates/ with the normal base layout but
must not touch the database: a 500 may be *because* the database is down."""

import copy

from django.shortcuts import render

from . import i18n, requestline

# How long to tell clients to wait when the database is down.
RETRY_AFTER_SECONDS = 30


def page_not_found(request, exception=None):
    message = ""
    if exception is not None and exception.args:
        detail = exception.args[0]
        # Our views raise Http404 with a plain-Chinese message meant for people.
        if isinstance(detail, str):
            message = detail
    return render(request, "404.html", {"message": message, "no_db": True}, status=404)


def server_error(request):
    return render(request, "500.html", {"no_db": True}, status=500)


def bad_request(request, exception=None):
    return render(request, "400.html", {"no_db": True}, status=400)


def permission_denied(request, exception=None):
    return render(request, "403.html", {"no_db": True}, status=403)


def service_unavailable(request):
    """The database does not answer (portal.middleware.DatabaseUnavailableMiddleware)."""
    response = render(request, "503.html", {"no_db": True}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def too_many_requests(request, retry_after: int):
    response = render(request, "429.html", {"no_db": True, "retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def uri_too_long(request):
    """A request line longer than the site reads (portal.middleware.RequestLineLimitMiddleware)."""
    # The language switcher and hreflang links lead to this page in the other
    # languages: without its query, which would be refused again.
    short = copy.copy(request)
    short.META = {**request.META, "QUERY_STRING": ""}
    context = {
        "no_db": True,
        "alternates": lambda: i18n.alternates(short),
        "box_chars": requestline.SEARCH_BOX_CHARS,
    }
    response = render(request, "414.html", context, status=414)
    # Answered before i18n.TraditionalScriptMiddleware, which converts other pages.
    if getattr(request, "LANGUAGE_CODE", "") == i18n.TRADITIONAL:
        response.content = i18n.to_traditional(response.content.decode()).encode()
    return response
