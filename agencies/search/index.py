"""Keeps the name-search index (agencies.search.models) in step with the registry.

Writers (the admin, sample data) call `refresh(agency_ids)` after changing
agencies, names or aliases, inside the same transaction. The index is three
kinds of rows per agency: its folded names (`SearchEntry`), their grams
(`SearchToken`, counted in `SearchGramCount`) and the short ways to name it
that the message check looks up (`TradeNameKey`, agencies.search.tradename). The import keeps one
`IndexWriter` for its whole transaction: it adds the rows of new agencies
from `build()` output computed while checking, refreshes changed ones, and
on a large load drops the gram index and builds it once at the end.
`rebuild()` recomputes everything, e.g. after a change to agencies.search.textnorm.

Rows are written through agencies.bulk (COPY or executemany) rather than
bulk_create: about 25 gram rows per agency make this the largest write of an
import, and the ORM's per-value compilation would cost more than the database.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice, pairwise, repeat

from django.db import connection
from django.db.models import Count

from .. import bulk, dbindexes
from ..enums import NameKind, Status
from ..models import Agency, AgencyName
from . import textnorm, tradename
from .models import EntryKind, SearchEntry, SearchGramCount, SearchToken, TradeNameKey
from .rank import Tier, rank_value, with_tier

PINYIN_PREFIX = ":p:"
# Per-agency row: ranked and counted for multi-gram queries.
AGENCY_GRAM = ""

_BATCH = 5000
GRAM_INDEX = "searchtoken_gram_rank"
TRADE_INDEX = "tradenamekey_key"
# PostgreSQL only (migration 0013, which holds the same statement): pg_trgm's
# GIN index on the folded names, through which agencies.search.candidates finds
# the names containing a text of three characters or more. Not in
# SearchEntry.Meta.indexes: SQLite has no such index.
TRIGRAM_INDEX = "searchentry_folded_trgm"
TRIGRAM_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} "
    "ON agencies_searchentry USING gin (folded gin_trgm_ops)"
)
_KIND_OF_NAME = {NameKind.FORMER: EntryKind.FORMER, NameKind.ALIAS: EntryKind.ALIAS}
_LIVE = frozenset(Status.live_values())
# The order of the values in the rows IndexWriter.add() writes.
_ENTRY_FIELDS = ("agency_id", "kind", "folded", "pinyin", "initials")
_TOKEN_FIELDS = ("agency_id", "gram", "province_code", "status", "rank")
_TRADE_FIELDS = ("agency_id", "key", "place_length")


def text_grams(folded: str) -> list[str]:
    """Every two-character window plus the last character: 长沙鑫达 → 长沙 沙鑫 鑫达 达."""
    if not folded:
        return []
    return [folded[i : i + 2] for i in range(len(folded))]


def pinyin_gram(first: str, second: str = "") -> str:
    """``:p:cs:chang sha`` — the initials of a syllable pair, then the pair.

    One row serves both kinds of pinyin query: full pinyin looks the gram up
    exactly, initials (``cs``) look up the prefix ``:p:cs:``. Separate rows for
    initials would add a third of the index for no better answers.
    """
    if not second:
        return f"{PINYIN_PREFIX}{first[:1]}:{first}"
    return f"{PINYIN_PREFIX}{first[:1]}{second[:1]}:{first} {second}"


def pinyin_grams(sylls: list[str]) -> list[str]:
    """Adjacent syllable pairs plus the last syllable alone."""
    grams = [pinyin_gram(a, b) for a, b in pairwise(sylls)]
    if sylls:
        grams.append(pinyin_gram(sylls[-1]))
    return grams


def _gram_limit(gram: str) -> str:
    # Latin runs can make a syllable long; the column holds 64 characters.
    return gram[:64]


def build(
    name: str, status: str, names: Iterable[tuple[str, str]]
) -> tuple[list[tuple], dict[str, int]]:
    """(entries, {gram: rank}) for one agency; an entry is (kind, folded, pinyin, initials).

    Pure, so the import computes it while checking records, in its second process.
    """
    entries: list[tuple] = []
    tokens: dict[str, int] = {}
    is_live = status in _LIVE
    base = rank_value(Tier.EXACT, is_live, name)
    tokens[AGENCY_GRAM] = base
    variants = [(EntryKind.NAME, name)]
    variants.extend((_KIND_OF_NAME.get(kind, EntryKind.ALIAS), other) for kind, other in names)
    seen = set()
    for kind, text in variants:
        folded, sylls = textnorm.read_name(text)
        if not folded or (kind, folded) in seen:
            continue
        seen.add((kind, folded))
        letters = textnorm.initials(folded, sylls)
        entries.append((str(kind), folded[:200], f" {' '.join(sylls)} "[:1200], letters[:200]))
        is_name = kind == EntryKind.NAME
        for i, gram in enumerate(text_grams(folded)):
            if not is_name:
                tier = Tier.OTHER_NAME
            elif gram == folded:
                tier = Tier.EXACT
            elif i == 0:
                tier = Tier.PREFIX
            else:
                tier = Tier.SUBSTRING
            rank = with_tier(base, tier)
            if tokens.get(gram, rank + 1) > rank:
                tokens[gram] = rank
        pinyin_rank = with_tier(base, Tier.PINYIN)
        for gram in pinyin_grams(sylls):
            gram = _gram_limit(gram)
            if gram not in tokens:
                tokens[gram] = pinyin_rank
    return entries, tokens


def refresh(agency_ids: Iterable[int]) -> None:
    """Rebuild the search entries and grams of these agencies (and drop deleted ones)."""
    writer = IndexWriter()
    writer.refresh(agency_ids)
    writer.finish()


def remove(agency_ids: Iterable[int]) -> None:
    """Drop these agencies from the index; called before they are deleted."""
    writer = IndexWriter()
    writer.forget(sorted(set(agency_ids)))
    writer.finish()


def rebuild(progress=None) -> int:
    """Recompute the whole index; returns the number of agencies indexed.

    Run inside a transaction: the gram index is dropped while the rows are
    written and created again at the end (see IndexWriter.go_bulk()).
    """
    SearchToken.objects.all().delete()
    SearchEntry.objects.all().delete()
    SearchGramCount.objects.all().delete()
    TradeNameKey.objects.all().delete()
    writer = IndexWriter()
    writer.go_bulk()
    done = 0
    ids = Agency.objects.order_by("id").values_list("id", flat=True).iterator(chunk_size=_BATCH)
    for chunk in _chunks(ids, _BATCH):
        writer.refresh(chunk, fresh=True)
        done += len(chunk)
        if progress:
            progress(len(chunk))
    writer.finish()
    return done


def _chunks(iterable, size) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


class IndexWriter:
    """Writes the index for one transaction: an import's batches, or one refresh().

    Gram counts (`SearchGramCount`) are added up here and written once by
    `finish()`: an import touches the same (gram, province, status) keys in
    every batch, so one upsert per key at the end is far cheaper than one per
    batch. Call `finish()` before the transaction commits.
    """

    def __init__(self):
        self.counts: Counter = Counter()
        self.gram_index_dropped = False
        self.entries = bulk.Inserter(SearchEntry, _ENTRY_FIELDS)
        self.tokens = bulk.Inserter(SearchToken, _TOKEN_FIELDS)
        self.trade_names = bulk.Inserter(TradeNameKey, _TRADE_FIELDS)
        self._places: tradename.Places | None = None

    def trade_keys(
        self, name: str, names: Iterable[tuple[str, str]], city: str, province: str
    ) -> dict[str, int]:
        """The `TradeNameKey` rows of one agency, {key: place length}: `names` are its
        (kind, name) pairs. Places are the Province table and the directory's cities
        as this writer first needed them, plus each agency's own city."""
        if self._places is None:
            self._places = tradename.Places.load()
        former = [other for kind, other in names if kind == NameKind.FORMER]
        return tradename.agency_keys(name, former, self._places, city, province)

    def add(self, built: Iterable[tuple]) -> None:
        """Index new agencies (no index rows yet) from `build()` and `trade_keys()` output.

        `built` holds (agency_id, province, status, (entries, tokens), trade keys).
        """
        entries: list[tuple] = []
        tokens: list[tuple] = []
        trade_names: list[tuple] = []
        counts = self.counts
        for agency_id, province, status, (agency_entries, agency_tokens), keys in built:
            entries.extend((agency_id, *entry) for entry in agency_entries)
            tokens.extend(
                (agency_id, gram, province, status, rank) for gram, rank in agency_tokens.items()
            )
            counts.update(zip(agency_tokens, repeat(province), repeat(status)))
            trade_names.extend((agency_id, key, length) for key, length in keys.items())
        # Sorted by gram, inserts walk the gram index in order instead of jumping
        # around it: noticeably faster once the index outgrows the page cache.
        if not self.gram_index_dropped:
            tokens.sort(key=lambda row: row[1])
            trade_names.sort(key=lambda row: row[1])
        self.entries.insert_tuples(entries)
        self.tokens.insert_tuples(tokens)
        self.trade_names.insert_tuples(trade_names)

    def refresh(self, agency_ids: Iterable[int], fresh: bool = False) -> None:
        """Recompute these agencies' rows from the database; `fresh`: they have none yet."""
        ids = sorted(set(agency_ids))
        for start in range(0, len(ids), _BATCH):
            self._refresh_batch(ids[start : start + _BATCH], fresh)

    def _refresh_batch(self, ids: list[int], fresh: bool) -> None:
        if not fresh:
            self.forget(ids)
        rows = Agency.objects.filter(id__in=ids).values_list(
            "id", "name", "status", "province_id", "city"
        )
        other_names: dict[int, list[tuple[str, str]]] = {}
        for agency_id, kind, name in AgencyName.objects.filter(agency_id__in=ids).values_list(
            "agency_id", "kind", "name"
        ):
            other_names.setdefault(agency_id, []).append((kind, name))
        self.add(
            (
                agency_id,
                province,
                status,
                build(name, status, other_names.get(agency_id, ())),
                self.trade_keys(name, other_names.get(agency_id, ()), city, province),
            )
            for agency_id, name, status, province, city in rows
        )

    def forget(self, ids: list[int]) -> None:
        """Delete these agencies' rows and take them off the gram counts."""
        old = (
            SearchToken.objects.filter(agency_id__in=ids)
            .values_list("gram", "province_code", "status")
            .annotate(n=Count("*"))
            .order_by()
        )
        for gram, province, status, n in old:
            self.counts[gram, province, status] -= n
        SearchToken.objects.filter(agency_id__in=ids).delete()
        SearchEntry.objects.filter(agency_id__in=ids).delete()
        TradeNameKey.objects.filter(agency_id__in=ids).delete()

    def go_bulk(self) -> None:
        """Drop the gram and trade-name indexes until `finish()`: for loads that add
        much of the table.

        Inserting ~20 grams per agency at random places in a B-tree that has
        outgrown the cache is what slows a big load down; building the index
        once at the end is one sort. Readers are not affected on SQLite (WAL:
        they keep the last committed snapshot); on PostgreSQL the dropped
        index holds a lock that makes name searches wait until the import
        commits — acceptable for the loads this is for (see docs/import-format.md).
        """
        if self.gram_index_dropped:
            return
        dbindexes.drop(SearchToken, GRAM_INDEX)
        dbindexes.drop(TradeNameKey, TRADE_INDEX)
        if connection.vendor == "postgresql":
            # Each name adds about ten trigrams to the GIN index: built once at
            # the end, it is one sort instead of a growing pending list.
            dbindexes.drop_by_name(TRIGRAM_INDEX)
        self.gram_index_dropped = True

    def finish(self) -> None:
        """Create the indexes again (after go_bulk()) and write the gram counts."""
        if self.gram_index_dropped:
            dbindexes.create(SearchToken, GRAM_INDEX)
            dbindexes.create(TradeNameKey, TRADE_INDEX)
            if connection.vendor == "postgresql":
                dbindexes.create_from_sql(TRIGRAM_INDEX_SQL)
            self.gram_index_dropped = False
        _add_counts(self.counts)
        self.counts = Counter()


_DELTA_TABLE = "gram_count_delta"
_COUNT_COLUMNS = ("gram", "province_code", "status", "n")


def _add_counts(deltas: Counter) -> None:
    """Add `deltas` to SearchGramCount, deleting rows that fall to zero."""
    added = [(*key, n) for key, n in deltas.items() if n > 0]
    taken = [(n, *key) for key, n in deltas.items() if n < 0]
    quote = connection.ops.quote_name
    table = quote(SearchGramCount._meta.db_table)
    columns = ", ".join(_COUNT_COLUMNS)
    # Decreases are plain UPDATEs: an upsert's proposed row would carry the
    # negative number, which the n >= 0 check rejects before the conflict.
    key = "gram = %s AND province_code = %s AND status = %s"
    upsert = f"ON CONFLICT (gram, province_code, status) DO UPDATE SET n = {table}.n + excluded.n"
    with connection.cursor() as cursor:
        if taken:
            cursor.executemany(f"UPDATE {table} SET n = n + %s WHERE {key}", taken)
            cursor.executemany(f"DELETE FROM {table} WHERE {key} AND n = 0", [t[1:] for t in taken])
        if not added:
            return
        # Written to a scratch table, then one set-based upsert: an import can
        # bring a million distinct keys. Emptied first in case a failure in
        # autocommit mode left one behind on this connection.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_DELTA_TABLE} "
            "(gram varchar(64), province_code varchar(2), status varchar(4), n integer)"
        )
        cursor.execute(f"DELETE FROM {_DELTA_TABLE}")
        bulk.insert_rows(_DELTA_TABLE, _COUNT_COLUMNS, added)
        # WHERE true: SQLite's parser needs it to tell the upsert from a join.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_DELTA_TABLE} WHERE true "
            f"{upsert}"
        )
        cursor.execute(f"DROP TABLE {_DELTA_TABLE}")
