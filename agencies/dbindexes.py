"""Dropping indexes and foreign keys for a large load and restoring them, in its transaction.

A large load inserts faster into a table without its secondary indexes and
then builds each index with one sort (agencies.importing, agencies.search.index).
The schema editor can't be used for this: SQLite's refuses to run inside
atomic(). The SQL is plain enough to write from the model's `Meta.indexes`.
"""

from django.db import connection


def _index(model, name: str):
    (index,) = [index for index in model._meta.indexes if index.name == name]
    return index


def drop(model, name: str) -> None:
    _index(model, name)  # fails loudly for a name the model doesn't declare
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")


def create(model, name: str) -> None:
    index = _index(model, name)
    quote = connection.ops.quote_name
    columns = []
    for field_name in index.fields:
        descending = field_name.startswith("-")
        column = quote(model._meta.get_field(field_name.lstrip("-")).column)
        columns.append(f"{column} DESC" if descending else column)
    with connection.cursor() as cursor:
        sql = f"CREATE INDEX {quote(name)} ON {quote(model._meta.db_table)} ({', '.join(columns)})"
        if connection.vendor != "postgresql":
            cursor.execute(sql)
            return
        # One in-memory sort instead of many merge passes on disk; LOCAL: for
        # this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # PostgreSQL won't index a table with foreign-key checks still pending
        # (Django's are deferred to commit): run them now, then defer again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def exists(model, name: str) -> bool:
    with connection.cursor() as cursor:
        return name in connection.introspection.get_constraints(cursor, model._meta.db_table)


def drop_foreign_keys(models) -> list[tuple[str, str, str]]:
    """PostgreSQL: drop the foreign keys declared on these models' tables.

    Returns what `restore_foreign_keys()` needs. A PostgreSQL foreign key is
    checked by a trigger, once per inserted row (Django defers them to
    commit); adding the key back afterwards checks every row in one join,
    several times faster for millions of rows. Dropping takes an exclusive
    lock on the referenced tables as well, until commit. SQLite checks a key
    with one cheap primary-key probe per row: nothing to gain there.
    """
    if connection.vendor != "postgresql":
        return []
    tables = [model._meta.db_table for model in models]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Checks already queued for commit must run first: PostgreSQL won't
        # alter a table that has pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) "
            "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "WHERE k.contype = 'f' AND k.conrelid = ANY(%s::regclass[]) "
            "ORDER BY c.relname, k.conname",
            [tables],
        )
        dropped = cursor.fetchall()
        for table, name, _definition in dropped:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return dropped


def restore_foreign_keys(dropped: list[tuple[str, str, str]]) -> None:
    """Add back what drop_foreign_keys() dropped; fails if any row breaks a key."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, name, definition in dropped:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
