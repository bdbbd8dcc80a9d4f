"""Health endpoints for load balancers and monitors.

- /healthz: the process answers. Touches nothing, so it is also the ceiling
  the HTTP benchmark compares pages with.
- /readyz: the process can serve: the primary database answers a trivial
  query and the cache takes a write and a read. 503 with a JSON body naming
  what failed, so a monitor's log says why. It names the code release the
  process serves (portal.release), so a deploy can be checked server by server.

Read replicas (portal.routers) are checked too, with their lag behind the
primary, but a dead or lagging replica only makes the status "degraded",
still 200. Pages skip a dead replica, and a lagging one serves older but
consistent pages; since every app server shares the same replicas, failing
readiness would take the whole pool out of the load balancer over something
each server copes with. Monitors alert on "degraded".

Both are plain Django views outside the API: a load balancer must be able to
reach them whatever the API layer does with errors, and they send no caching
headers a CDN could keep.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from . import release
from .routers import replica_aliases

_PROBE_KEY = "portal:readyz"
# Seconds since the last transaction the replica replayed was committed on the
# primary; 0 when it has replayed all it received (an idle primary sends
# nothing, so the timestamp alone would grow while nothing is missing). "All":
# received at most what was replayed, not exactly as much — a restarted replica
# reports as received the start of the WAL segment it resumes streaming from,
# before what it replayed, until the primary writes again; that was reported as
# minutes of lag (make fault-test, docs/reliability.md).
_LAG_SQL = """
    SELECT pg_is_in_recovery(),
           CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
                ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
           END
"""


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


def replication_lag(alias: str) -> float | None:
    """Seconds the PostgreSQL replica `alias` is behind; None if it is not replaying.

    Two function calls on the replica, no table read: cheap enough for every probe.
    """
    with connections[alias].cursor() as cursor:
        cursor.execute(_LAG_SQL)
        in_recovery, lag = cursor.fetchone()
    if not in_recovery:
        return None
    return float(lag or 0)


def _replication(alias: str) -> tuple[str | None, float | None]:
    """(problem or None, lag in seconds) for a replica that answers."""
    try:
        lag = replication_lag(alias)
    except Exception as error:
        return f"{type(error).__name__}: {str(error).strip()[:200]}", None
    if lag is None:
        # Promoted, or the URL names a primary: it no longer follows our writes.
        return "not replaying: the server is not in recovery", None
    limit = settings.PORTAL_REPLICA_MAX_LAG
    if lag > limit:
        return f"lagging: {lag:.1f} s behind the primary (limit {limit:g} s)", lag
    return None, lag


@never_cache
def readyz(request):
    replicas = replica_aliases()
    checks = {f"database:{alias}": _database(alias) for alias in connections}
    lags = dict.fromkeys(replicas)
    for alias in replicas:
        if checks[f"database:{alias}"] is None:
            checks[f"replication:{alias}"], lags[alias] = _replication(alias)
    checks["cache"] = _cache()
    failed = {name for name, problem in checks.items() if problem}
    optional = {f"{kind}:{alias}" for alias in replicas for kind in ("database", "replication")}
    status = "unavailable" if failed - optional else "degraded" if failed else "ok"
    body = {
        "status": status,
        "checks": {name: problem or "ok" for name, problem in checks.items()},
        "release": release.current(),
    }
    if replicas:
        body["replication_lag_seconds"] = lags
    return JsonResponse(
        body,
        status=503 if status == "unavailable" else 200,
        json_dumps_params={"ensure_ascii": False},
    )
