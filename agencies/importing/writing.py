"""Writing checked records in batches, and the import entry points that run the pipeline."""

import gc
import os
import signal
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter

from django.db import connection, transaction
from django.utils import timezone

from portal.models import bump

from .. import dbindexes
from ..models import Agency, AgencyName, AgencyPhone, Client, Phone, RegulatoryAction
from ..search import index as search_index
from ..search.models import SearchEntry
from .checking import _FOUR_PLACES, CleanRecord, ProvinceResolver
from .parallel import (
    PARALLEL_MIN_BYTES,
    PARALLEL_MIN_RECORDS,
    _can_fork,
    _checked,
    _checked_in_child,
)
from .reading import Problem, RawRecord, _read_checked, _type_name, check_file

BATCH_SIZE = 2000


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    skip_invalid: bool = False
    # Records with at least one problem, and problems that concern a whole file.
    invalid: int = 0
    file_errors: int = 0

    @property
    def failed(self) -> bool:
        """True when nothing was (or, in a dry run, would be) written because of problems."""
        return bool(self.file_errors or (self.invalid and not self.skip_invalid))

    @property
    def written(self) -> bool:
        return not self.failed and not self.dry_run

    def counts(self) -> str:
        return (
            f"新增 {self.created} 条，更新 {self.updated} 条，"
            f"未变 {self.unchanged} 条，跳过 {self.skipped} 条"
        )

    def __str__(self):
        if self.failed:
            text = f"发现 {len(self.problems)} 个问题"
            if self.invalid:
                text += f"（{self.invalid} 条记录有误）"
            text += "，没有写入任何数据。"
            if self.invalid and not self.file_errors:
                text += "请改正后重新导入，或用 --skip-invalid 只导入没有问题的记录。"
            return text
        if self.dry_run:
            return f"试运行，没有写入数据库。正式导入将会：{self.counts()}。"
        return f"导入完成：{self.counts()}。"


class Interrupted(BaseException):
    """SIGTERM arrived. A BaseException, like KeyboardInterrupt, so that no
    `except Exception` on the way up can swallow it before the transaction rolls back."""


@contextmanager
def stop_on_sigterm():
    """Turn SIGTERM into an exception, so `kill` rolls the import back rather than
    ending the process in the middle of it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _adapter(model_field) -> Callable | None:
    """The conversion the ORM applies before handing such a value to the driver."""
    ops = connection.ops
    kind = model_field.get_internal_type()
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "DateTimeField":
        # A batch stamps every row with the same `now`: convert it once.
        last = [None, None]

        def adapt_datetime(value):
            if value is not last[0]:
                last[0], last[1] = value, ops.adapt_datetimefield_value(value)
            return last[1]

        return adapt_datetime
    if kind == "DecimalField":
        digits, places = model_field.max_digits, model_field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    return None


def _preallocates_ids() -> bool:
    return connection.vendor in ("postgresql", "sqlite")


class _Inserter:
    """INSERTs of plain rows (dicts keyed by attname): COPY on PostgreSQL, executemany
    elsewhere.

    bulk_create compiles every value of every row through the field machinery,
    several µs each for ~50 values a record: that was most of an import's time.
    The values here go through the same backend adapters the ORM uses.
    """

    def __init__(self, model, with_ids: bool = False):
        self.model = model
        meta = model._meta
        fields = [f for f in meta.concrete_fields if with_ids or not f.primary_key]
        quote = connection.ops.quote_name
        table, columns = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
        self.copy = connection.vendor == "postgresql"
        if self.copy:
            self.sql = f"COPY {table} ({columns}) FROM STDIN"
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            self.sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.values = itemgetter(*(f.attname for f in fields))
        self.adapters = [(i, fn) for i, f in enumerate(fields) if (fn := _adapter(f))]

    def row(self, **values) -> dict:
        return {**self.defaults, **values}

    def insert(self, rows: list[dict]) -> None:
        if not rows:
            return
        values, adapters = self.values, self.adapters
        params = []
        for row in rows:
            row_values = list(values(row))
            for index, adapt in adapters:
                if row_values[index] is not None:
                    row_values[index] = adapt(row_values[index])
            params.append(row_values)
        with connection.cursor() as cursor:
            if self.copy:
                with cursor.cursor.copy(self.sql) as copy:
                    for row_values in params:
                        copy.write_row(row_values)
            else:
                cursor.executemany(self.sql, params)

    def allocate_ids(self, rows: list[dict]) -> None:
        """Give rows their ids before inserting them, so that children can point at them
        without a query to look the ids up afterwards."""
        meta = self.model._meta
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, meta.pk.column, len(rows)],
                )
                ids = [found for (found,) in cursor.fetchall()]
            else:
                # SQLite: the import holds the write lock, so nobody else takes these.
                # AUTOINCREMENT never reuses ids, hence sqlite_sequence as well as max().
                quote = connection.ops.quote_name
                cursor.execute(f"SELECT max({quote(meta.pk.column)}) FROM {quote(meta.db_table)}")
                (highest,) = cursor.fetchone()
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
                sequence = cursor.fetchone()
                start = max(highest or 0, sequence[0] if sequence else 0) + 1
                ids = range(start, start + len(rows))
        for row, pk in zip(rows, ids, strict=True):
            row[meta.pk.attname] = pk


class _Inserters:
    def __init__(self):
        with_ids = _preallocates_ids()
        self.agency = _Inserter(Agency, with_ids)
        self.phone = _Inserter(Phone, with_ids)
        self.link = _Inserter(AgencyPhone)
        self.name = _Inserter(AgencyName)
        self.client = _Inserter(Client)
        self.action = _Inserter(RegulatoryAction)


def _ids(model, attname: str, values) -> dict:
    """{value: id} for the rows whose `attname` is among `values`."""
    meta = model._meta
    quote = connection.ops.quote_name
    column = quote(meta.get_field(attname).column)
    select = f"SELECT {column}, {quote(meta.pk.column)} FROM {quote(meta.db_table)} WHERE {column}"
    values = list(values)
    found = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter: psycopg's client-side binding parses a query with
            # thousands of placeholders slowly.
            cursor.execute(f"{select} = ANY(%s)", [values])
            found.update(cursor.fetchall())
            return found
        for start in range(0, len(values), 5000):
            chunk = values[start : start + 5000]
            cursor.execute(f"{select} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(cursor.fetchall())
    return found


def _insert_with_ids(inserter: _Inserter, rows: list[dict], key: str) -> dict:
    """Insert rows; {row[key]: id}."""
    if _preallocates_ids():
        inserter.allocate_ids(rows)
        inserter.insert(rows)
        return {row[key]: row["id"] for row in rows}
    inserter.insert(rows)
    return _ids(inserter.model, key, [row[key] for row in rows])


class _PhoneIds:
    """Phone key → id for every number this import has created or found.

    Batches keep meeting the same numbers (a 400 line shared by many agencies):
    each is looked up once. After `load_all()`, which a bulk load calls (see
    _BulkSwitch), the map holds every number in the table and a key missing
    from it is new without asking. Those lookups are random probes into an
    index that a large load has pushed out of the cache: at a million
    agencies they were a fifth of the import's time on PostgreSQL. The cost
    is memory: about 110 bytes a number, 300 MB for three million.
    """

    def __init__(self):
        self.ids: dict[str, int] = {}
        self.complete = False
        if connection.vendor == "postgresql":
            # Remembered ids must stay true until commit: hold off other writers
            # of numbers (readers are not affected). SQLite lets one writer in at
            # a time anyway.
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(Phone._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")

    def find(self, keys: set[str]) -> dict[str, int]:
        """{key: id} for those of `keys` the table has."""
        ids = self.ids
        unknown = [key for key in keys if key not in ids]
        if unknown and not self.complete:
            ids.update(_ids(Phone, "key", unknown))
        return {key: ids[key] for key in keys if key in ids}

    def add(self, found: dict[str, int]) -> None:
        self.ids.update(found)

    def load_all(self) -> None:
        self.ids = dict(Phone.objects.values_list("key", "id").iterator(chunk_size=50_000))
        self.complete = True


class _AgencyState:
    """One agency the batch touches: its row (stored or to insert) and its children."""

    __slots__ = (
        "actions",
        "clients",
        "dirty",
        "fields",
        "names",
        "new",
        "phones",
        "pk",
        "row",
        "search",
    )

    def __init__(self, row: dict, new: bool):
        self.row = row
        self.new = new
        self.pk = None if new else row["id"]
        self.dirty = False
        self.fields: set[str] = set()
        self.phones: dict[str, dict] = {}
        self.names: set[tuple[str, str]] = set()
        self.clients: dict[str, dict] = {}
        self.actions: dict[tuple, dict] = {}
        self.search: tuple | None = None


def _update_given(row: dict, given: dict, changed: dict) -> bool:
    """Overwrite the fields the file gave; stored rows (with an id) are noted for UPDATE."""
    touched = False
    for attr, value in given.items():
        if row[attr] != value:
            row[attr] = value
            touched = True
            if row.get("id") is not None:
                changed.setdefault(row["id"], (row, set()))[1].add(attr)
    return touched


def _bulk_update(model, changed: dict) -> None:
    if not changed:
        return
    fields = sorted(set().union(*(attrs for _, attrs in changed.values())))
    objs = [model(id=pk, **{f: row[f] for f in fields}) for pk, (row, _) in changed.items()]
    model.objects.bulk_update(objs, fields)


def _as_imported(row: dict, dates: tuple = (), amounts: tuple = ()) -> dict:
    """A stored row with dates and amounts as text, the way checked records hold them,
    so that comparing the two says whether anything changed."""
    for key in dates:
        if row[key] is not None:
            row[key] = row[key].isoformat()
    for key in amounts:
        if row[key] is not None:
            row[key] = str(row[key].quantize(_FOUR_PLACES))
    return row


def _stored(records: list[CleanRecord]):
    """What the database holds for a batch's agencies, as dicts, in one query per table."""
    # Cheap existence check first: on a fresh import nothing more is needed.
    existing = _ids(Agency, "uscc", {r.uscc for r in records})
    agencies = {}
    if existing:
        for row in Agency.objects.filter(id__in=existing.values()).values():
            agencies[row["uscc"]] = _as_imported(
                row, ("established_on", "retrieved_on"), ("registered_capital_wan",)
            )
    wanted = defaultdict(set)
    if agencies:
        for record in records:
            row = agencies.get(record.uscc)
            if row is not None:
                for kind in ("phones", "names", "clients", "actions"):
                    if getattr(record, kind):
                        wanted[kind].add(row["id"])
    children = {kind: defaultdict(dict) for kind in ("phones", "clients", "actions")}
    names = defaultdict(set)
    if wanted["phones"]:
        query = AgencyPhone.objects.filter(agency_id__in=wanted["phones"]).values(
            "id", "agency_id", "phone__key", "label", "source", "source_url", "reported_on"
        )
        for row in query:
            children["phones"][row["agency_id"]][row["phone__key"]] = _as_imported(
                row, ("reported_on",)
            )
    if wanted["names"]:
        query = AgencyName.objects.filter(agency_id__in=wanted["names"])
        for agency_id, kind, name in query.values_list("agency_id", "kind", "name"):
            names[agency_id].add((kind, name))
    if wanted["clients"]:
        for row in Client.objects.filter(agency_id__in=wanted["clients"]).values():
            children["clients"][row["agency_id"]][row["name"]] = _as_imported(
                row, ("since", "until")
            )
    if wanted["actions"]:
        for row in RegulatoryAction.objects.filter(agency_id__in=wanted["actions"]).values():
            _as_imported(row, ("decided_on",))
            identity = (row["kind"], row["authority"], row["decided_on"], row["document_number"])
            children["actions"][row["agency_id"]][identity] = row
    return agencies, children, names


def _write_batch(
    records: list[CleanRecord],
    summary: ImportSummary,
    sql: _Inserters,
    index: search_index.IndexWriter,
    known_phones: _PhoneIds,
) -> None:
    """Apply one batch with a fixed number of queries, whatever its size."""
    now = timezone.now()
    stored, children, stored_names = _stored(records)
    keys = {entry.key for record in records for entry in record.phones}
    phone_ids = known_phones.find(keys)
    new_phones: dict[str, dict] = {}

    states: dict[str, _AgencyState] = {}
    new_agencies: list[dict] = []
    # Child rows wait for their agency's (and phone's) id: (state, row) pairs.
    new_links, new_names, new_clients, new_actions = [], [], [], []
    changed_links, changed_clients, changed_actions = {}, {}, {}

    for record in records:
        state = states.get(record.uscc)
        created = False
        if state is not None:
            # A second record for the same agency in this batch: reindex from
            # the database rather than from either record alone.
            state.search = None
        else:
            row = stored.get(record.uscc)
            if row is None:
                row = sql.agency.row(
                    uscc=record.uscc,
                    province_id=record.derived_province,
                    created_at=now,
                    updated_at=now,
                )
                row.update(record.values)
                new_agencies.append(row)
                state = states[record.uscc] = _AgencyState(row, new=True)
                state.search = record.search
                created = True
            else:
                state = states[record.uscc] = _AgencyState(row, new=False)
                state.phones = children["phones"].get(row["id"], {})
                state.names = stored_names.get(row["id"], set())
                state.clients = children["clients"].get(row["id"], {})
                state.actions = children["actions"].get(row["id"], {})
        row = state.row
        changed = False
        if not created:
            for attr, value in record.values.items():
                if row[attr] != value:
                    row[attr] = value
                    state.fields.add(attr)
                    changed = True

        for entry in record.phones:
            link = state.phones.get(entry.key)
            if link is not None:
                changed |= _update_given(link, entry.given, changed_links)
                continue
            if entry.key not in phone_ids and entry.key not in new_phones:
                new_phones[entry.key] = sql.phone.row(key=entry.key, kind=entry.kind)
            given = entry.given
            link = sql.link.row(
                phone_id=entry.key,  # the key until the phone's id is known
                number_as_reported=entry.number,
                label=given.get("label", ""),
                # Evidence not stated per number is the record's own.
                source=given.get("source", row["source"]),
                source_url=given.get("source_url", row["source_url"]),
                reported_on=given.get("reported_on", row["retrieved_on"]),
            )
            state.phones[entry.key] = link
            new_links.append((state, link))
            changed = True

        for kind, name in record.names:
            if (kind, name) not in state.names:
                state.names.add((kind, name))
                new_names.append((state, sql.name.row(kind=kind, name=name)))
                changed = True

        for entry in record.clients:
            client = state.clients.get(entry.name)
            if client is not None:
                changed |= _update_given(client, entry.given, changed_clients)
                continue
            client = state.clients[entry.name] = sql.client.row(name=entry.name, **entry.given)
            new_clients.append((state, client))
            changed = True

        for entry in record.actions:
            action = state.actions.get(entry.identity)
            if action is not None:
                changed |= _update_given(action, entry.given, changed_actions)
                continue
            kind, authority, decided_on, document_number = entry.identity
            action = state.actions[entry.identity] = sql.action.row(
                kind=kind,
                authority=authority,
                decided_on=decided_on,
                document_number=document_number,
                **entry.given,
            )
            new_actions.append((state, action))
            changed = True

        if created:
            summary.created += 1
        elif changed:
            state.dirty = True
            summary.updated += 1
        else:
            summary.unchanged += 1

    if new_agencies:
        ids = _insert_with_ids(sql.agency, new_agencies, "uscc")
        for state in states.values():
            if state.new:
                state.pk = ids[state.row["uscc"]]
    if new_phones:
        created_phones = _insert_with_ids(sql.phone, list(new_phones.values()), "key")
        known_phones.add(created_phones)
        phone_ids.update(created_phones)

    dirty = [state for state in states.values() if state.dirty and not state.new]
    if dirty:
        # Set by hand: bulk_update skips auto_now, and unchanged rows must keep theirs.
        fields = sorted(set().union(*(state.fields for state in dirty)) | {"updated_at"})
        objs = []
        for state in dirty:
            state.row["updated_at"] = now
            objs.append(Agency(**state.row))
        Agency.objects.bulk_update(objs, fields)

    for state, link in new_links:
        link["agency_id"] = state.pk
        link["phone_id"] = phone_ids[link["phone_id"]]
    for pending in (new_names, new_clients, new_actions):
        for state, child in pending:
            child["agency_id"] = state.pk
    sql.link.insert([link for _, link in new_links])
    sql.name.insert([child for _, child in new_names])
    sql.client.insert([child for _, child in new_clients])
    sql.action.insert([child for _, child in new_actions])
    _bulk_update(AgencyPhone, changed_links)
    _bulk_update(Client, changed_clients)
    _bulk_update(RegulatoryAction, changed_actions)

    built, touched = [], []
    for state in states.values():
        search = state.search
        if search is not None and search[:2] == (state.row["name"], state.row["status"]):
            built.append((state.pk, state.row["province_id"], search[1], search[2]))
        elif state.new or state.dirty:
            touched.append(state.pk)
    index.add(built)
    index.refresh(touched)


def _run(
    checked: Iterable[CleanRecord | Problem],
    *,
    dry_run: bool,
    skip_invalid: bool,
    progress: Callable[[int], object] | None,
    batch_size: int,
) -> ImportSummary:
    summary = ImportSummary(dry_run=dry_run, skip_invalid=skip_invalid)
    provinces = ProvinceResolver()
    batch: list[CleanRecord] = []
    unreported = 0
    with transaction.atomic():
        inserters = _Inserters()
        known_phones = _PhoneIds()
        index = search_index.IndexWriter()
        bulk = _BulkSwitch(index, known_phones)
        for item in checked:
            if isinstance(item, Problem):
                summary.problems.append(item)
                summary.file_errors += 1
                batch.clear()
                continue
            unreported += 1
            provinces.resolve(item)
            if item.problems:
                summary.problems.extend(item.problems)
                summary.invalid += 1
                if skip_invalid:
                    summary.skipped += 1
                else:
                    # Nothing will be written; reading on only reports every problem.
                    batch.clear()
            elif not summary.failed:
                batch.append(item)
            if unreported >= batch_size:
                if batch:
                    _write_batch(batch, summary, inserters, index, known_phones)
                    bulk.check(summary.created)
                    batch = []
                if progress:
                    progress(unreported)
                unreported = 0
        if batch and not summary.failed:
            _write_batch(batch, summary, inserters, index, known_phones)
        if progress and unreported:
            progress(unreported)
        if summary.failed or dry_run:
            transaction.set_rollback(True)
        else:
            bulk.finish()
            # In the same transaction, so readers see the new rows and the new
            # data version together, or neither.
            bump()
    if summary.failed:
        summary.created = summary.updated = summary.unchanged = 0
    return summary


# A load that creates at least this many agencies, and at least as many as the
# directory had when it started, builds the gram index once at the end instead
# of inserting into it (search_index.IndexWriter.go_bulk()).
BULK_MIN_CREATED = 50_000


# Agency indexes only the public pages read (province pages, the home page):
# a bulk load builds them at the end too, since (province, name) takes inserts
# at random places. Unique constraints stay: the import looks rows up by them.
_DEFERRED_AGENCY_INDEXES = [index.name for index in Agency._meta.indexes]


# Tables whose foreign keys a bulk load drops and adds back (PostgreSQL; see
# dbindexes.drop_foreign_keys). Not the agency's own key to its province:
# dropping it would lock the province table, which every page reads, and 34
# rows are cheap to check against.
_DEFERRED_KEY_MODELS = [AgencyName, AgencyPhone, Client, RegulatoryAction, SearchEntry]


class _BulkSwitch:
    def __init__(self, index: search_index.IndexWriter, known_phones: _PhoneIds):
        self.index = index
        self.known_phones = known_phones
        self.existing: int | None = None
        self.on = False
        self.dropped_keys: list = []

    def check(self, created: int) -> None:
        if self.on or created < BULK_MIN_CREATED:
            return
        if self.existing is None:
            # Counted once, and late: rows this import created are not "existing".
            self.existing = Agency.objects.count() - created
        if created >= self.existing:
            self.on = True
            self.known_phones.load_all()
            self.index.go_bulk()
            for name in _DEFERRED_AGENCY_INDEXES:
                dbindexes.drop(Agency, name)
            self.dropped_keys = dbindexes.drop_foreign_keys(_DEFERRED_KEY_MODELS)

    def finish(self) -> None:
        if self.on:
            for name in _DEFERRED_AGENCY_INDEXES:
                dbindexes.create(Agency, name)
        self.index.finish()
        # Last: the search rows written by finish() are checked with the rest.
        dbindexes.restore_foreign_keys(self.dropped_keys)


@contextmanager
def _fewer_collections():
    """An import allocates millions of small containers that reference counting frees;
    at the default thresholds the cyclic collector would also scan the live batch, and
    everything Django has loaded, thousands of times. That cost a fifth of the time."""
    thresholds = gc.get_threshold()
    freeze = gc.get_freeze_count() == 0  # someone else's freeze is theirs to undo
    if freeze:
        gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if freeze:
            gc.unfreeze()


def _import(items_factory: Callable[[], Iterable[RawRecord | Problem]], *, parallel, **options):
    with _fewer_collections():
        if parallel and _can_fork():
            with _checked_in_child(items_factory, options["batch_size"]) as checked:
                return _run(checked, **options)
        return _run(_checked(items_factory()), **options)


def import_records(
    records: Iterable[dict],
    *,
    origin: str = "<records>",
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], object] | None = None,
    batch_size: int = BATCH_SIZE,
    parallel: bool | None = None,
) -> ImportSummary:
    """Import dicts shaped like JSON Lines records, in one transaction.

    Problems name `origin` and the record's position (from 1) as file and line.
    `progress(n)` is called with the number of records handled since its last call.
    `parallel=True` checks the records in a forked child process while this one
    writes: only for iterables that do not use the database. By default a list
    of at least PARALLEL_MIN_RECORDS is checked that way, anything else here.
    """
    if parallel is None:
        parallel = isinstance(records, list | tuple) and len(records) >= PARALLEL_MIN_RECORDS

    def items():
        for line, data in enumerate(records, 1):
            if isinstance(data, dict):
                yield RawRecord(origin, line, data)
            else:
                message = f"记录应是一个对象（dict），这里是{_type_name(data)}。"
                yield RawRecord(origin, line, None, [Problem(origin, line, "", message)])

    return _import(
        items,
        parallel=parallel,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        progress=progress,
        batch_size=batch_size,
    )


def import_files(
    paths: Iterable,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], object] | None = None,
    batch_size: int = BATCH_SIZE,
    parallel: bool | None = None,
) -> ImportSummary:
    """Import JSON Lines and CSV files, in order, in one transaction.

    Every file is checked (exists, type, encoding) before anything is read, so a
    typo in the last file name costs nothing. Files of PARALLEL_MIN_BYTES or more
    are read and checked in a child process unless `parallel=False`.
    """
    opened = [(path, check_file(path)) for path in paths]
    problems = [checked for _, checked in opened if isinstance(checked, Problem)]
    if problems:
        return ImportSummary(
            problems=problems,
            file_errors=len(problems),
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
    if parallel is None:
        parallel = sum(os.path.getsize(path) for path, _ in opened) >= PARALLEL_MIN_BYTES

    def items():
        for path, (fmt, encoding) in opened:
            yield from _read_checked(path, fmt, encoding)

    return _import(
        items,
        parallel=parallel,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        progress=progress,
        batch_size=batch_size,
    )
