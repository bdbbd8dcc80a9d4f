"""Headers every response carries, HTML, JSON, error pages and static files alike."""

from django.conf import settings


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
