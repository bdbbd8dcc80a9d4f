"""The data version: one number that changes whenever published data changes.

Pages and API answers are derived from the data alone (no visitor state), so
(data version, date in China, URL) identifies a response's bytes: it makes
the ETag, and keys the server-side page cache (portal.caching). Every write
path bumps it in the writer's own transaction — model saves and deletes
through signals (the admin, the shell), bulk writers explicitly
(`import_agencies`, `load_sample`, `sync_articles`, `rebuild_search_index`)
— so a reader never pairs new data with an old version, or the reverse.
"""

from contextlib import suppress

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
    models,
    router,
)
from django.db.models import F
from django.utils import timezone


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
    """One primary-key read; 0 before the first bump (an empty site).

    Every public request makes it (portal.caching), cached page or not, so it
    is a plain cursor: the ORM spent ~0.25 ms compiling this query, ten times
    the read itself and half the cost of serving a cached page. It goes where
    the router sends any read of DataVersion (a replica, within a request).

    On PostgreSQL it is also the connection's health check: being the first
    query of the request, it does what Django's CONN_HEALTH_CHECKS would do
    just before it (a `SELECT 1`, a whole round trip on every request, a third
    of a number lookup's): if the server dropped the kept connection, it is
    closed and the read made again on a new one.
    """
    connection = connections[router.db_for_read(DataVersion)]
    if not _first_use_of_a_kept_connection(connection):
        return _read_version(connection)
    connection.health_check_done = True
    try:
        return _read_version(connection)
    except (InterfaceError, OperationalError):
        with suppress(DatabaseError):
            connection.close()
        return _read_version(connection)


def _first_use_of_a_kept_connection(connection) -> bool:
    # Where Django would check the connection with a query first. Not inside a
    # transaction (a replica's snapshot is opened, and its connection checked,
    # by portal.routers), where a retry on a new connection would not be the
    # same transaction; not on SQLite, whose check costs no query.
    return (
        connection.vendor == "postgresql"
        and connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
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
    updated = DataVersion.objects.filter(id=1).update(
        version=F("version") + 1, changed_at=timezone.now()
    )
    if not updated:
        DataVersion.objects.get_or_create(id=1, defaults={"version": 2})
