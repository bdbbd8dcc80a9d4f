"""A request's first read as its kept connection's health check.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of a
request on a connection kept from an earlier one, and replaces the connection
if that fails: a whole round trip on every request, a third of a number
lookup's time on PostgreSQL. A read that is safe to run twice does the same
job: run it; if the server had dropped the connection, close it and run the
read again on a new one. The visitor sees neither the check nor the drop
(tests/test_connection_check.py).

Used by the data version read (portal.models.current_version) and, when the
version comes from memory, by the prepared record and number reads
(portal.prepared) and a province page's list (agencies.views), whichever
comes first in the request.
"""

from collections.abc import Callable
from contextlib import suppress

from django.db import DatabaseError, InterfaceError, OperationalError


def first_query[T](connection, read: Callable[[], T]) -> T:
    """`read()`, which must only read, as `connection`'s health check where one is due."""
    if not _check_due(connection):
        return read()
    connection.health_check_done = True
    try:
        return read()
    except (InterfaceError, OperationalError):
        with suppress(DatabaseError):
            connection.close()
        return read()


def _check_due(connection) -> bool:
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
