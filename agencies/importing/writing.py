"""Writing checked records in batches, and the import entry points that run the pipeline."""

import gc
import logging
import signal
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal.models import bump

from .. import bulk, dbindexes, figures, history
from ..enums import ChangeField, ChangeVia
from ..models import (
    Agency,
    AgencyChange,
    AgencyName,
    AgencyPhone,
    Client,
    Phone,
    Province,
    RegulatoryAction,
    SuppressedPhone,
)
from ..search import index as search_index
from ..search.models import SearchEntry, SearchGramCount, SearchToken, TradeNameKey
from .checking import CleanRecord, ProvinceResolver, check_defaults, wan_text
from .columns import ColumnMap
from .parallel import (
    PARALLEL_MIN_BYTES,
    PARALLEL_MIN_RECORDS,
    can_fork,
    check_each,
    checked_in_child,
)
from .problems import Problem
from .reading import (
    RawRecord,
    ReadOptions,
    check_file,
    input_size,
    json_type_name,
    read_checked_file,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
# How many updated records a summary describes field by field (the counts cover all).
DETAILS_KEPT = 1000


# Summary lines for changes that are not a history field.
_OTHER_LABELS = {
    "history": "变更记录（文件带入）",
    "other": "只有来源、获取日期等附带信息",
}


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
    # For updates: how many records changed each field (ChangeField value, or
    # "history" for entries an exported file brought), and the first
    # DETAILS_KEPT of them in full: (uscc, name, [(field, old, new), ...], brought).
    fields_changed: Counter = field(default_factory=Counter)
    details: list[tuple[str, str, list, int]] = field(default_factory=list)
    # Numbers left out because they are on the suppression list.
    suppressed: int = 0

    @property
    def failed(self) -> bool:
        """True when nothing was (or, in a dry run, would be) written because of problems."""
        return bool(self.file_errors or (self.invalid and not self.skip_invalid))

    @property
    def written(self) -> bool:
        return not self.failed and not self.dry_run

    def counts(self) -> str:
        text = f"新增 {self.created} 条，更新 {self.updated} 条，未变 {self.unchanged} 条"
        text += f"，有误 {self.invalid} 条"
        if self.skipped:
            text += f"（已跳过 {self.skipped} 条）"
        return text

    def field_counts(self) -> str:
        """更新的字段：登记状态 2 条，名称 1 条 — most changed first."""
        parts = []
        order = {key: n for n, key in enumerate([*ChangeField.values, "history", "other"])}
        for key, count in sorted(
            self.fields_changed.items(), key=lambda kv: (-kv[1], order[kv[0]])
        ):
            label = _OTHER_LABELS.get(key) or ChangeField(key).label
            parts.append(f"{label} {count} 条")
        return "，".join(parts)

    def note_changes(self, uscc: str, name: str, entries: list, brought: int) -> None:
        """An updated record: its (field, old, new) changes, and how many history
        entries its file brought."""
        keys = {entry[0] for entry in entries} | ({"history"} if brought else set())
        # Neither: only what has no history changed (the record's source or
        # retrieval date, a number's label or evidence, a client's dates...).
        for key in keys or {"other"}:
            self.fields_changed[key] += 1
        if len(self.details) < DETAILS_KEPT:
            self.details.append((uscc, name, entries, brought))

    def report_lines(self, limit: int | None) -> list[str]:
        """The summary as a command prints it: counts, fields, then up to `limit` records."""
        lines = [str(self)]
        if self.failed:
            return lines
        if self.fields_changed:
            lines.append(f"更新的字段：{self.field_counts()}。")
        shown = self.details if limit is None else self.details[:limit]
        for uscc, name, entries, brought in shown:
            described = history.describe(entries)
            if brought:
                described += ("；" if described else "") + f"带入变更记录 {brought} 条"
            described = described or _OTHER_LABELS["other"]
            lines.append(f"  {uscc} {name}：{described}")
        hidden = self.updated - len(shown)
        if hidden > 0:
            more = (
                f"最多列出 {DETAILS_KEPT} 条" if limit is None else f"-v 2 列出前 {DETAILS_KEPT} 条"
            )
            lines.append(f"  ……另有 {hidden} 条更新没有逐条列出（{more}）。")
        if self.suppressed:
            lines.append(f"按屏蔽名单略过号码 {self.suppressed} 处（见 suppress_phone）。")
        return lines

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


class _Writers:
    """One bulk.Inserter for each table an import writes."""

    def __init__(self):
        # Agencies and phones take their ids before they are written: their
        # children in the same batch point at them.
        self.agency = bulk.Inserter(Agency, returns_ids=True)
        self.phone = bulk.Inserter(Phone, returns_ids=True)
        self.link = bulk.Inserter(AgencyPhone)
        self.name = bulk.Inserter(AgencyName)
        self.client = bulk.Inserter(Client)
        self.action = bulk.Inserter(RegulatoryAction)
        self.change = bulk.Inserter(AgencyChange)


class _Shared:
    """What every batch of one import consults, read once, when the first batch is
    written (a file that fails its checks never asks): the numbers owners asked us
    not to show, and the province names history entries use. A handful of rows."""

    @cached_property
    def suppressed(self) -> set[str]:
        return SuppressedPhone.objects.keys()

    @cached_property
    def province_names(self) -> dict[str, str]:
        return dict(Province.objects.values_list("code", "name"))


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
            ids.update(bulk.find_ids(Phone, "key", unknown))
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
        "history",
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
        self.history: set[tuple] = set()
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


def _as_imported(row: dict, dates: tuple = (), amounts_in_wan: tuple = ()) -> dict:
    """A stored row with dates and amounts as text, the way checked records hold them,
    so that comparing the two says whether anything changed."""
    for key in dates:
        if row[key] is not None:
            row[key] = row[key].isoformat()
    for key in amounts_in_wan:
        if row[key] is not None:
            row[key] = wan_text(row[key])
    return row


def _stored(records: list[CleanRecord]):
    """What the database holds for a batch's agencies, as dicts, in one query per table."""
    # Cheap existence check first: on a fresh import nothing more is needed.
    existing = bulk.find_ids(Agency, "uscc", {r.uscc for r in records})
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
                for kind in ("phones", "names", "clients", "actions", "history"):
                    if getattr(record, kind):
                        wanted[kind].add(row["id"])
    children = {kind: defaultdict(dict) for kind in ("phones", "clients", "actions")}
    names = defaultdict(set)
    histories = defaultdict(set)
    if wanted["history"]:
        query = AgencyChange.objects.filter(agency_id__in=wanted["history"])
        for agency_id, field_name, old, new, changed_at in query.values_list(
            "agency_id", "field", "old_value", "new_value", "changed_at"
        ):
            # As checking.HistoryEntry.identity has it: the moment as UTC ISO text.
            histories[agency_id].add((field_name, old, new, changed_at.astimezone(UTC).isoformat()))
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
    return agencies, children, names, histories


class _Batch:
    """One batch of checked records on its way into the database.

    `merge()` applies a record to rows held in memory: the stored rows of
    the batch's agencies, read up front, and new rows waiting for their ids.
    The other steps then write the batch with a fixed number of queries,
    whatever its size.
    """

    def __init__(
        self,
        records: list[CleanRecord],
        writers: _Writers,
        known_phones: _PhoneIds,
        shared: _Shared,
    ):
        self.writers = writers
        self.known_phones = known_phones
        self.shared = shared
        self.now = timezone.now()
        self.stored, self.children, self.stored_names, self.stored_history = _stored(records)
        self.phone_ids = known_phones.find(
            {entry.key for record in records for entry in record.phones}
        )
        self.states: dict[str, _AgencyState] = {}
        self.new_agencies: list[dict] = []
        self.new_phones: dict[str, dict] = {}
        # Child rows wait for their agency's (and phone's) id: (state, row) pairs.
        self.new_links: list[tuple[_AgencyState, dict]] = []
        self.new_names: list[tuple[_AgencyState, dict]] = []
        self.new_clients: list[tuple[_AgencyState, dict]] = []
        self.new_actions: list[tuple[_AgencyState, dict]] = []
        self.new_changes: list[tuple[_AgencyState, dict]] = []
        # Stored child rows the file changed, for UPDATE: {id: (row, changed attnames)}.
        self.changed_links: dict = {}
        self.changed_clients: dict = {}
        self.changed_actions: dict = {}

    def merge(self, record: CleanRecord, summary: ImportSummary) -> None:
        """Apply one record to its agency's rows, and count it as created, updated or unchanged.

        Each change to a stored agency becomes a history entry (models.AgencyChange):
        (field, old, new) here, with the record's provenance once all is merged.
        """
        state, created = self._state_for(record)
        # A new agency's first values are not changes: it has no history before this.
        entries: list | None = None if state.new else []
        changed = False if created else self._overwrite_fields(state, record, entries)
        changed |= self._merge_phones(state, record, entries, summary)
        changed |= self._merge_names(state, record, entries)
        changed |= self._merge_clients(state, record, entries)
        changed |= self._merge_actions(state, record, entries)
        brought = self._merge_history(state, record)
        changed |= bool(brought)
        if entries:
            self._note_history(state, entries)
        if created:
            summary.created += 1
        elif changed:
            state.dirty = True
            summary.updated += 1
            summary.note_changes(record.uscc, state.row["name"], entries or [], brought)
        else:
            summary.unchanged += 1

    def _note_history(self, state: _AgencyState, entries: list) -> None:
        """History rows for a stored agency's changes, sourced like the record that made them."""
        row = state.row
        for field_name, old, new in entries:
            change = self.writers.change.row(
                field=field_name,
                old_value=old,
                new_value=new,
                changed_at=self.now,
                via=ChangeVia.IMPORT.value,
                source=row["source"],
                source_url=row["source_url"],
                retrieved_on=row["retrieved_on"],
                editor="",
            )
            self.new_changes.append((state, change))

    def _merge_history(self, state: _AgencyState, record: CleanRecord) -> int:
        """Entries an exported record carries that the agency lacks, kept as they were."""
        added = 0
        suppressed = self.shared.suppressed
        # Exports list the newest first; oldest first here, so that ids (which
        # break ties between entries of one moment) come out in the same order.
        for entry in reversed(record.history):
            values = entry.values
            if values["field"] == ChangeField.PHONES and (
                values["old_value"] in suppressed or values["new_value"] in suppressed
            ):
                continue
            if entry.identity in state.history:
                continue
            state.history.add(entry.identity)
            row = self.writers.change.row(editor="", **values)
            row["changed_at"] = datetime.fromisoformat(values["changed_at"])
            self.new_changes.append((state, row))
            added += 1
        return added

    def _state_for(self, record: CleanRecord) -> tuple[_AgencyState, bool]:
        """The record's agency, and whether this record creates it."""
        state = self.states.get(record.uscc)
        if state is not None:
            # A second record for the same agency in this batch: reindex from
            # the database rather than from either record alone.
            state.search = None
            return state, False
        row = self.stored.get(record.uscc)
        if row is None:
            return self._new_agency(record), True
        state = self.states[record.uscc] = _AgencyState(row, new=False)
        state.phones = self.children["phones"].get(row["id"], {})
        state.names = self.stored_names.get(row["id"], set())
        state.clients = self.children["clients"].get(row["id"], {})
        state.actions = self.children["actions"].get(row["id"], {})
        state.history = self.stored_history.get(row["id"], set())
        return state, False

    def _new_agency(self, record: CleanRecord) -> _AgencyState:
        row = self.writers.agency.row(
            uscc=record.uscc,
            province_id=record.derived_province,
            created_at=self.now,
            updated_at=self.now,
        )
        row.update(record.values)
        self.new_agencies.append(row)
        state = self.states[record.uscc] = _AgencyState(row, new=True)
        state.search = record.search
        return state

    def _overwrite_fields(self, state: _AgencyState, record: CleanRecord, entries) -> bool:
        """Overwrite the agency fields the record gives; True if any differed."""
        row, changed = state.row, False
        tracked, names = history.TRACKED_ATTNAMES, self.shared.province_names
        for attr, value in record.values.items():
            if row[attr] != value:
                if entries is not None and attr in tracked:
                    old = history.value_text(attr, row[attr], names)
                    entries.append(
                        (tracked[attr].value, old, history.value_text(attr, value, names))
                    )
                row[attr] = value
                state.fields.add(attr)
                changed = True
        return changed

    def _merge_phones(self, state: _AgencyState, record: CleanRecord, entries, summary) -> bool:
        """Link numbers the agency lacks (and create numbers nobody has); update given evidence.

        Numbers on the suppression list are left out, wherever they come from.
        """
        row, changed = state.row, False
        suppressed = self.shared.suppressed
        for entry in record.phones:
            if entry.key in suppressed:
                summary.suppressed += 1
                continue
            link = state.phones.get(entry.key)
            if link is not None:
                changed |= _update_given(link, entry.given, self.changed_links)
                continue
            if entry.key not in self.phone_ids and entry.key not in self.new_phones:
                self.new_phones[entry.key] = self.writers.phone.row(key=entry.key, kind=entry.kind)
            given = entry.given
            link = self.writers.link.row(
                phone_id=entry.key,  # the key until the phone's id is known
                number_as_reported=entry.number,
                label=given.get("label", ""),
                # Evidence not stated per number is the record's own.
                source=given.get("source", row["source"]),
                source_url=given.get("source_url", row["source_url"]),
                reported_on=given.get("reported_on", row["retrieved_on"]),
            )
            state.phones[entry.key] = link
            self.new_links.append((state, link))
            if entries is not None:
                entries.append((ChangeField.PHONES.value, "", entry.key))
            changed = True
        return changed

    def _merge_names(self, state: _AgencyState, record: CleanRecord, entries) -> bool:
        changed = False
        for kind, name in record.names:
            if (kind, name) not in state.names:
                state.names.add((kind, name))
                self.new_names.append((state, self.writers.name.row(kind=kind, name=name)))
                if entries is not None:
                    entries.append((history.NAME_FIELDS[kind].value, "", name))
                changed = True
        return changed

    def _merge_clients(self, state: _AgencyState, record: CleanRecord, entries) -> bool:
        changed = False
        for entry in record.clients:
            client = state.clients.get(entry.name)
            if client is not None:
                changed |= _update_given(client, entry.given, self.changed_clients)
                continue
            client = self.writers.client.row(name=entry.name, **entry.given)
            state.clients[entry.name] = client
            self.new_clients.append((state, client))
            if entries is not None:
                entries.append((ChangeField.CLIENTS.value, "", entry.name))
            changed = True
        return changed

    def _merge_actions(self, state: _AgencyState, record: CleanRecord, entries) -> bool:
        changed = False
        for entry in record.actions:
            action = state.actions.get(entry.identity)
            if action is not None:
                changed |= _update_given(action, entry.given, self.changed_actions)
                continue
            kind, authority, decided_on, document_number = entry.identity
            action = self.writers.action.row(
                kind=kind,
                authority=authority,
                decided_on=decided_on,
                document_number=document_number,
                **entry.given,
            )
            state.actions[entry.identity] = action
            self.new_actions.append((state, action))
            if entries is not None:
                entries.append(
                    (ChangeField.ACTIONS.value, "", history.action_text(*entry.identity))
                )
            changed = True
        return changed

    def insert_new_agencies(self) -> None:
        if not self.new_agencies:
            return
        ids = self.writers.agency.insert_returning_ids(self.new_agencies, "uscc")
        for state in self.states.values():
            if state.new:
                state.pk = ids[state.row["uscc"]]

    def insert_new_phones(self) -> None:
        if not self.new_phones:
            return
        created = self.writers.phone.insert_returning_ids(list(self.new_phones.values()), "key")
        self.known_phones.add(created)
        self.phone_ids.update(created)

    def update_changed_agencies(self) -> None:
        dirty = [state for state in self.states.values() if state.dirty and not state.new]
        if not dirty:
            return
        # Set by hand: bulk_update skips auto_now, and unchanged rows must keep theirs.
        fields = sorted(set().union(*(state.fields for state in dirty)) | {"updated_at"})
        objs = []
        for state in dirty:
            state.row["updated_at"] = self.now
            objs.append(Agency(**state.row))
        Agency.objects.bulk_update(objs, fields)

    def insert_new_children(self) -> None:
        """Names, phone links, clients and actions, now that their agencies and phones have ids."""
        for state, link in self.new_links:
            link["agency_id"] = state.pk
            link["phone_id"] = self.phone_ids[link["phone_id"]]
        for pending in (self.new_names, self.new_clients, self.new_actions, self.new_changes):
            for state, child in pending:
                child["agency_id"] = state.pk
        writers = self.writers
        writers.link.insert([link for _, link in self.new_links])
        writers.name.insert([child for _, child in self.new_names])
        writers.client.insert([child for _, child in self.new_clients])
        writers.action.insert([child for _, child in self.new_actions])
        writers.change.insert([child for _, child in self.new_changes])

    def update_changed_children(self) -> None:
        _bulk_update(AgencyPhone, self.changed_links)
        _bulk_update(Client, self.changed_clients)
        _bulk_update(RegulatoryAction, self.changed_actions)

    def update_search_index(self, index: search_index.IndexWriter) -> None:
        """Index new agencies from the rows computed while checking, when the
        stored name and status are still the record's; reindex the rest that
        changed from the database."""
        built, touched = [], []
        for state in self.states.values():
            search, row = state.search, state.row
            if search is not None and search[:2] == (row["name"], row["status"]):
                province = row["province_id"]
                keys = index.trade_keys(row["name"], state.names, row["city"], province)
                built.append((state.pk, province, search[1], search[2], keys))
            elif state.new or state.dirty:
                touched.append(state.pk)
        index.add(built)
        index.refresh(touched)


def _write_batch(
    records: list[CleanRecord],
    summary: ImportSummary,
    writers: _Writers,
    index: search_index.IndexWriter,
    known_phones: _PhoneIds,
    shared: _Shared,
) -> None:
    """Apply one batch with a fixed number of queries, whatever its size."""
    batch = _Batch(records, writers, known_phones, shared)
    for record in records:
        batch.merge(record, summary)
    batch.insert_new_agencies()
    batch.insert_new_phones()
    batch.update_changed_agencies()
    batch.insert_new_children()
    batch.update_changed_children()
    batch.update_search_index(index)


class _Import:
    """One import's transaction: sorts checked records into batches and writes them.

    Records with problems are counted and reported; once the import has
    failed (a problem, unless skipped), nothing more is queued, but reading
    goes on so that every problem is reported.
    """

    def __init__(
        self, summary: ImportSummary, progress: Callable[[int], object] | None, batch_size: int
    ):
        self.summary = summary
        self.progress = progress
        self.batch_size = batch_size
        self.provinces = ProvinceResolver()
        self.writers = _Writers()
        self.known_phones = _PhoneIds()
        self.shared = _Shared()
        self.index = search_index.IndexWriter()
        self.bulk_switch = _BulkSwitch(self.index, self.known_phones, batch_size)
        # Wrote enough to refresh the planner's statistics (and, once
        # committed, to VACUUM on PostgreSQL).
        self.large = False
        self.batch: list[CleanRecord] = []
        # Records handled since progress() was last called.
        self.unreported = 0

    def take(self, item: CleanRecord | Problem) -> None:
        if isinstance(item, Problem):
            self._note_file_problem(item)
            return
        self.unreported += 1
        self._queue_or_report(item)
        if self.unreported >= self.batch_size:
            self._write_queued()
            self._report_progress()

    def finish(self) -> None:
        """Write what is left; then roll back (failed, or a dry run), or build again
        what a bulk load put off."""
        if self.batch and not self.summary.failed:
            self._write(self.batch)
        self._report_progress()
        if self.summary.failed or self.summary.dry_run:
            transaction.set_rollback(True)
        else:
            self.bulk_switch.finish()
            changed = self.summary.created + self.summary.updated
            if self.bulk_switch.on or changed >= ANALYZE_MIN_CHANGED:
                dbindexes.analyze(_ANALYZED_MODELS)
                self.large = True
            # In the same transaction, so readers see the new rows, the counts
            # pages show and the new data version together, or none of them.
            figures.refresh()
            bump()

    def _note_file_problem(self, problem: Problem) -> None:
        self.summary.problems.append(problem)
        self.summary.file_errors += 1
        self.batch.clear()

    def _queue_or_report(self, record: CleanRecord) -> None:
        summary = self.summary
        self.provinces.resolve(record)
        if record.problems:
            summary.problems.extend(record.problems)
            summary.invalid += 1
            if summary.skip_invalid:
                summary.skipped += 1
            else:
                # Nothing will be written; reading on only reports every problem.
                self.batch.clear()
        elif not summary.failed:
            self.batch.append(record)

    def _write_queued(self) -> None:
        if self.batch:
            self._write(self.batch)
            self.bulk_switch.check(self.summary.created)
            self.batch = []

    def _write(self, records: list[CleanRecord]) -> None:
        _write_batch(
            records, self.summary, self.writers, self.index, self.known_phones, self.shared
        )

    def _report_progress(self) -> None:
        if self.progress and self.unreported:
            self.progress(self.unreported)
        self.unreported = 0


def _run(
    checked: Iterable[CleanRecord | Problem],
    *,
    dry_run: bool,
    skip_invalid: bool,
    progress: Callable[[int], object] | None,
    batch_size: int,
) -> ImportSummary:
    summary = ImportSummary(dry_run=dry_run, skip_invalid=skip_invalid)
    with transaction.atomic():
        load = _Import(summary, progress, batch_size)
        for item in checked:
            load.take(item)
        load.finish()
    if load.large:
        # The data is committed by now: a VACUUM that fails or is cut short
        # (Ctrl-C, SIGTERM) costs speed until autovacuum gets there, never
        # data, and must not make the import look failed.
        try:
            dbindexes.vacuum(_ANALYZED_MODELS)
        except (DatabaseError, Interrupted, KeyboardInterrupt) as error:
            logger.warning("VACUUM after the import did not finish (%s); the data is saved.", error)
    if summary.failed:
        summary.created = summary.updated = summary.unchanged = summary.suppressed = 0
        summary.fields_changed.clear()
        summary.details.clear()
    return summary


# A load that creates at least this many agencies, and at least as many as the
# directory had when it started, builds the gram index once at the end instead
# of inserting into it (search_index.IndexWriter.go_bulk()).
BULK_MIN_CREATED = 50_000
# A directory with fewer agencies than this (empty, or the sample data) is
# being loaded for the first time: such a load goes bulk as soon as it has
# created one full batch. Nobody relies on reading it yet, and every index
# is cheaper built once (a 100,000-row first load: 15% less time on SQLite).
BULK_NEARLY_EMPTY = 1000


# An import that creates or changes at least this many agencies ends by
# refreshing the planner's statistics of the tables it writes
# (dbindexes.analyze): a tenth of a large directory, or all of a new one, is
# enough to turn an index lookup into a scan of the whole table.
ANALYZE_MIN_CHANGED = 10_000
_ANALYZED_MODELS = [
    Agency,
    AgencyName,
    Phone,
    AgencyPhone,
    Client,
    RegulatoryAction,
    AgencyChange,
    SearchEntry,
    SearchToken,
    SearchGramCount,
    TradeNameKey,
]


# Tables whose foreign keys a bulk load drops and adds back (PostgreSQL; see
# dbindexes.drop_foreign_keys). Not the agency's own key to its province:
# dropping it would lock the province table, which every page reads, and 34
# rows are cheap to check against.
_DEFERRED_KEY_MODELS = [AgencyName, AgencyPhone, Client, RegulatoryAction, SearchEntry]


class _BulkSwitch:
    """Turns a load into a bulk load once it has created enough agencies (see
    BULK_MIN_CREATED), and puts back at the end what that took away."""

    def __init__(self, index: search_index.IndexWriter, known_phones: _PhoneIds, batch_size: int):
        self.index = index
        self.known_phones = known_phones
        self.batch_size = batch_size
        self.existing: int | None = None
        self.on = False
        self.dropped_indexes: list[str] = []
        self.dropped_keys: list = []

    def check(self, created: int) -> None:
        if self.on or created < min(BULK_MIN_CREATED, self.batch_size):
            return
        if self.existing is None:
            # Counted once, and late: rows this import created are not "existing".
            self.existing = Agency.objects.count() - created
        large = created >= BULK_MIN_CREATED and created >= self.existing
        first = created >= self.batch_size and self.existing < BULK_NEARLY_EMPTY
        if large or first:
            self.on = True
            self.known_phones.load_all()
            self.index.go_bulk()
            # Every agency index is one only the public pages read (province
            # pages, the home page): build them at the end too, since
            # (province, name) takes inserts at random places. Unique
            # constraints stay: the import looks rows up by them.
            self.dropped_indexes = [index.name for index in Agency._meta.indexes]
            for name in self.dropped_indexes:
                dbindexes.drop(Agency, name)
            self.dropped_keys = dbindexes.drop_foreign_keys(_DEFERRED_KEY_MODELS)

    def finish(self) -> None:
        for name in self.dropped_indexes:
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


@contextmanager
def _roomy_sqlite_cache():
    """SQLite's page cache is 2 MB per connection by default; the gram index's
    B-tree alone outgrows that a few thousand agencies in, and every insert
    then rereads pages from the OS. A gigabyte (a limit, not an allocation)
    while the import runs; the connection's own value afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -1000000")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _import(items_factory: Callable[[], Iterable[RawRecord | Problem]], *, parallel, **options):
    with _fewer_collections(), _roomy_sqlite_cache():
        if parallel and can_fork():
            with checked_in_child(items_factory, options["batch_size"]) as checked:
                return _run(checked, **options)
        return _run(check_each(items_factory()), **options)


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
                message = f"记录应是一个对象（dict），这里是{json_type_name(data)}。"
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
    columns=None,
    ignore_columns: Iterable[str] = (),
    sheet: str | None = None,
    defaults: dict | None = None,
) -> ImportSummary:
    """Import JSON Lines, CSV and .xlsx files, in order, in one transaction.

    Every file is checked (exists, type, encoding) before anything is read, so a
    typo in the last file name costs nothing; so are the options. Files of
    PARALLEL_MIN_BYTES or more (a workbook counts its XML) are read and checked
    in a child process unless `parallel=False`.

    `columns`: a YAML file mapping other headers to fields; `ignore_columns`:
    headers to leave out; `sheet`: a workbook's sheet (name or number from 1,
    default the first); `defaults`: {"source", "source_url", "retrieved_on"}
    for the records that lack them.
    """
    column_map, problems = ColumnMap.build(columns, ignore_columns)
    defaults, default_problems = check_defaults(defaults or {})
    problems += default_problems
    opened = [(path, check_file(path)) for path in paths]
    problems += [checked for _, checked in opened if isinstance(checked, Problem)]
    if problems:
        return ImportSummary(
            problems=problems,
            file_errors=len(problems),
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
    options = ReadOptions(columns=column_map, sheet=sheet, defaults=defaults)
    if parallel is None:
        parallel = sum(input_size(path, fmt) for path, (fmt, _) in opened) >= PARALLEL_MIN_BYTES

    def items():
        for path, (fmt, encoding) in opened:
            yield from read_checked_file(path, fmt, encoding, options)

    return _import(
        items,
        parallel=parallel,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        progress=progress,
        batch_size=batch_size,
    )
