"""Headers every response carries, HTML, JSON, error pages and static files alike."""

from django.conf import settings
from django.db import InterfaceError, OperationalError

from . import views


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
