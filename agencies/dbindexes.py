"""Dropping indexes and foreign keys for a large load and restoring them, in its transaction.

A large load inserts faster into a table without its secondary indexes and
then builds each index with one sort (agencies.importing.writing,
agencies.search.index). Indexes are dropped and built again by Django's
schema editor from the model's own `Meta.indexes`, so whatever an index
declares (a condition, operator classes, expressions, descending columns)
comes back exactly as the migration made it.
"""

from django.db import connection


def _declared(model, name: str):
    """The model's own Index of that name; fails loudly for a name it doesn't declare."""
    (index,) = [index for index in model._meta.indexes if index.name == name]
    return index


def _schema_editor():
    """A schema editor to run index SQL in the caller's transaction.

    It is not entered: entering one opens an atomic block of its own, and on
    SQLite it refuses to be entered inside atomic() at all (it would first
    switch off foreign-key checks, which SQLite can't do mid-transaction).
    Adding and removing an index need nothing from entering but the list of
    statements to run on leaving, which stays empty for these two.
    """
    editor = connection.schema_editor()
    editor.deferred_sql = []
    return editor


def drop(model, name: str) -> None:
    _schema_editor().remove_index(model, _declared(model, name))


def create(model, name: str) -> None:
    index = _declared(model, name)
    editor = _schema_editor()
    if connection.vendor != "postgresql":
        editor.add_index(model, index)
        return
    with connection.cursor() as cursor:
        # One in-memory sort instead of many merge passes on disk; LOCAL: for
        # this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # PostgreSQL won't index a table with foreign-key checks still pending
        # (Django's are deferred to commit): run them now, then defer again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        editor.add_index(model, index)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def create_from_sql(sql: str) -> None:
    """PostgreSQL: build an index that no model declares (a GIN index of
    agencies.search.index, which SQLite has no counterpart of) from its
    statement, as create() builds a declared one."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def drop_by_name(name: str) -> None:
    """Drop an index create_from_sql() built; nothing if it is not there."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")


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


def analyze(models) -> None:
    """Refresh the planner's statistics for these models' tables, in the caller's transaction.

    Right after a large load the statistics still describe the directory as
    it was (or nothing at all): PostgreSQL then estimates a million-row table
    at a few pages and reads it whole for a query its index answers in a
    millisecond, and SQLite's planner has no sqlite_stat1 rows to weigh its
    indexes with. Autovacuum would get there eventually, or never (it can be
    off, or behind); the first visitors should not pay for it. Both
    databases run ANALYZE inside a transaction, so the new statistics are
    committed with the rows they describe.
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Sample each index rather than read all of it (seconds at a
            # million rows otherwise); PostgreSQL samples on its own.
            cursor.execute("PRAGMA analysis_limit = 1000")
        for model in models:
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")


def vacuum(models) -> None:
    """PostgreSQL, after the load has committed: VACUUM these tables.

    ANALYZE gives the planner statistics, but only VACUUM marks a freshly
    written table's pages all-visible. Until then every index-only scan
    visits the table as well, so PostgreSQL plans the gram index's counts
    and pages as bitmap heap scans instead (at 1M agencies a two-character
    gram's capped count took 90 ms that way, against about 1 ms as the
    index-only scan it becomes). Autovacuum would do it some time later, or
    never (it may be off). VACUUM can't run inside a transaction: when the
    import runs inside one (a test case's, a caller's), this is skipped.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM {quote(model._meta.db_table)}")
