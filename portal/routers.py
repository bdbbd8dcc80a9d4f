"""Read replicas: public pages read a replica, everything else the primary.

Settings add an alias `replica1`, `replica2`, … for each URL in
DATABASE_REPLICA_URLS and, only then, this router; its middleware does
nothing without replicas. The rules:

1. **A public read uses one replica for the whole request.** A GET or HEAD
   of a public page or API answer (`is_public_read`) picks a replica at
   random when it starts (`ReplicaReadsMiddleware`), and every read of that
   request goes there. One replica per request, because the ETag is made from the data
   version (`portal.models.current_version`, read by `portal.caching`) and
   must come from the database the page's data comes from: two replicas
   lagging by different amounts could pair an old version with new data.
   Random, because it needs no state shared between threads, processes or
   machines, and over many requests it gives every replica an even share.
2. **The request reads one snapshot.** Its reads run in one REPEATABLE READ
   transaction on the replica (the replica aliases' isolation level), so the
   version and every query behind the page see the same moment of the
   primary's history even if the replica replays an import halfway through
   the request.
3. **Everything else reads the primary**: the admin (staff see what they just
   saved), any request that is not GET or HEAD, management commands
   (`import_agencies`, `sync_articles`, `migrate`, the shell) and any other
   code outside a request. Nothing but the middleware opts in, so an import's
   existence checks can never read stale rows. Reads inside a transaction
   that is open on the primary read the primary too, even during a public
   request: whatever that transaction writes must be seen by its own reads.
4. **Writes go to the primary**, always. **Migrations run on the primary
   only**; replicas receive the schema through replication.
5. **Relations between objects from any two aliases are allowed**: every
   alias holds the same data.
6. **A replica that does not answer is skipped**: a request that finds its
   replica down when it starts reads the primary instead (and /readyz names
   the replica), so a dead replica costs capacity, not errors. One that dies
   during a request makes that request a 503, as a dead primary would.

Lag and consistency. An import (or an admin save, or an article sync) is one
transaction on the primary, and a replica makes a transaction visible when it
replays its commit record, all at once: a page shows all of an import or none
of it. While a replica lags it serves the data as it was, with the version as
it was — an old page with its old ETag, consistent, only late; a client's
`If-None-Match` for that ETag correctly gets 304 from it. Two requests may
meet replicas lagging by different amounts, so a visitor can see an import
and then, for at most the lag, the page from before it: each answer is
consistent, only not monotonic. /readyz reports each replica's lag
(`portal.health`, PORTAL_REPLICA_MAX_LAG).
"""

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

# The replica the current public request reads, or None: read the primary.
# A context variable rather than a thread-local, so it also holds under async
# code; every thread and task starts with None, the primary.
_replica: ContextVar[str | None] = ContextVar("portal_read_replica", default=None)


def replica_aliases() -> list[str]:
    """The configured replica aliases (settings name them replica1, replica2, …)."""
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


def is_public_read(request) -> bool:
    """A request whose reads may come from a replica: a GET or HEAD of a public
    page or API answer. Not the admin; not the health probes, which must touch
    no database (/healthz) or check each one themselves (/readyz)."""
    return request.method in ("GET", "HEAD") and not request.path.startswith(
        ("/" + settings.PORTAL_ADMIN_PATH, "/healthz", "/readyz")
    )


@contextmanager
def replica_reads(alias: str | None) -> Iterator[None]:
    """Route reads to `alias` (None: the primary) inside the block."""
    token = _replica.set(alias)
    try:
        yield
    finally:
        _replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        alias = _replica.get()
        if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaReadsMiddleware:
    """Serves a public read from one replica, in one snapshot (rules 1, 2 and 6)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.replicas = replica_aliases()

    def __call__(self, request):
        # Inside a transaction already open on the primary (a test case's),
        # every read goes to the primary anyway (rule 3): leave the replicas
        # alone.
        if (
            not self.replicas
            or not is_public_read(request)
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return self.get_response(request)
        alias = random.choice(self.replicas)
        replica = connections[alias]
        try:
            # Checks a kept connection, or connects, now: a replica that is down
            # is found before any part of the page has read from it.
            replica.close_if_health_check_failed()
            replica.ensure_connection()
        except DatabaseError:
            logger.warning("Replica %s does not answer; reading the primary.", alias)
            return self.get_response(request)
        with replica_reads(alias):
            return self._in_one_snapshot(alias, request)

    def _in_one_snapshot(self, alias: str, request):
        response = None
        try:
            with transaction.atomic(using=alias):
                response = self.get_response(request)
        except DatabaseError:
            if response is None:
                raise
            # The answer is complete and only ending its read-only transaction
            # failed (the connection dropped): nothing was written, nothing lost.
            logger.warning("Replica %s dropped the connection after a page.", alias)
        return response
