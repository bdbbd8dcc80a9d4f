"""Health endpoints for load balancers and monitors.

- /healthz: the process answers. Touches nothing, so it is also the ceiling
  the HTTP benchmark compares pages with.
- /readyz: the process can serve: every configured database answers a
  trivial query and the cache takes a write and a read. 503 with a JSON body
  naming what failed, so a monitor's log says why.

Both are plain Django views outside the API: a load balancer must be able to
reach them whatever the API layer does with errors, and they send no caching
headers a CDN could keep.
"""

from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

_PROBE_KEY = "portal:readyz"


@never_cache
def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


def _database(alias: str) -> str | None:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "not ready"; say which
        return f"{type(error).__name__}: {str(error).strip()[:200]}"
    return None


def _cache() -> str | None:
    try:
        cache.set(_PROBE_KEY, "1", timeout=5)
        if cache.get(_PROBE_KEY) != "1":
            return "the cache did not return what was written"
    except Exception as error:  # Redis down, refused, timed out
        return f"{type(error).__name__}: {str(error).strip()[:200]}"
    return None


@never_cache
def readyz(request):
    checks = {f"database:{alias}": _database(alias) for alias in connections}
    checks["cache"] = _cache()
    failed = {name: problem for name, problem in checks.items() if problem}
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    return JsonResponse(
        body, status=503 if failed else 200, json_dumps_params={"ensure_ascii": False}
    )
