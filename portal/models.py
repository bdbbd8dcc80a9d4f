"""The data version: one number that changes whenever published data changes.

Pages and API answers are derived from the data alone (no visitor state), so
(data version, date in China, URL) identifies a response's bytes: it makes
the ETag, and keys the server-side page cache (portal.caching). Every write
path bumps it in the writer's own transaction — model saves and deletes
through signals (the admin, the shell), bulk writers explicitly
(`import_agencies`, `load_sample`, `sync_articles`, `rebuild_search_index`)
— so a reader never pairs old data with a new version, and pairs new data
with an old one only for the moment a process remembers the version
(current_version below), never longer.
"""

from time import monotonic

from django.conf import settings
from django.db import (
    connections,
    models,
    router,
    transaction,
)
from django.db.models import F
from django.utils import timezone

from .dbcheck import first_query


class DataVersion(models.Model):
    """A single row (id 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(default=1)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "data version"

    def __str__(self):
        return f"{self.version} ({self.changed_at:%Y-%m-%d %H:%M})"


def current_version() -> int:
    """The data version: one primary-key read, or this process's memory of the last
    one for up to PORTAL_DATA_VERSION_SECONDS; 0 before the first bump (an empty
    site).

    Every public request asks (portal.caching), cached page or not. Read from
    the database it is a plain cursor (the ORM spent ~0.25 ms compiling this
    query, ten times the read itself), and a whole round trip: on PostgreSQL a
    tenth of a number lookup's time and half a cached page's.

    Remembered only where it is safe to be a moment late: reads go to the one
    primary (no replicas, whose snapshot the version must come from), outside
    any transaction. The primary commits an import's data and its new version
    together, so a version read before a page's data is never newer than the
    data: remembering it can only label a new page with the version before it,
    for at most those seconds, after which every ETag and cached page moves on
    (a cached answer may be kept PORTAL_CACHE_MAX_AGE seconds anyway). A bump
    in this process forgets it at once.

    On PostgreSQL a read is also the connection's health check: being the first
    query of the request, it does what Django's CONN_HEALTH_CHECKS would do just
    before it (a `SELECT 1`, one more round trip); when the version comes from
    memory, the request's first prepared read does it instead (portal.dbcheck).
    """
    connection = connections[router.db_for_read(DataVersion)]
    remember = _may_remember(connection)
    if remember:
        version, until = _remembered
        if monotonic() < until:
            return version
    version = first_query(connection, lambda: _read_version(connection))
    if remember:
        _remembered[:] = [version, monotonic() + settings.PORTAL_DATA_VERSION_SECONDS]
    return version


# [version, until (monotonic())]: current_version()'s memory, one per process.
_remembered: list = [0, float("-inf")]


def forget_version() -> None:
    """The next current_version() reads the database."""
    _remembered[:] = [0, float("-inf")]


def _may_remember(connection) -> bool:
    return (
        settings.PORTAL_DATA_VERSION_SECONDS > 0
        # The one database: no replica aliases.
        and len(settings.DATABASES) == 1
        and not connection.in_atomic_block
    )


def _read_version(connection) -> int:
    table = connection.ops.quote_name(DataVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {table} WHERE id = %s", [1])
        row = cursor.fetchone()
    return row[0] if row else 0


def bump() -> None:
    """Count a change. Call inside the transaction that makes it."""
    # This process sees the change at once, the others within
    # PORTAL_DATA_VERSION_SECONDS; again at the commit, in case a request read
    # the old version between now and then.
    forget_version()
    transaction.on_commit(forget_version)
    updated = DataVersion.objects.filter(id=1).update(
        version=F("version") + 1, changed_at=timezone.now()
    )
    if not updated:
        DataVersion.objects.get_or_create(id=1, defaults={"version": 2})
