"""The name-search index: derived rows, kept in step by `agencies.search.index`.

Why not pg_trgm or FTS5 alone: both index trigrams, and neither can answer a
one- or two-character query (长沙, 催收) from its index; SQLite's FTS5 and
PostgreSQL's pg_trgm would also give two different engines with two sets of
edge cases. Instead every searchable string is cut into *grams* stored in one
plain B-tree-indexed table, identical on both databases (PostgreSQL adds a
pg_trgm index on `SearchEntry.folded` for phrases of three characters or
more, migration 0013: agencies.search.candidates._trigram_needles()):

- every two-character window of the folded name, plus its last character
  (``长沙鑫达`` → 长沙, 沙鑫, 鑫达, 达), so a two-character query is one index
  seek, a one-character query a prefix range, longer queries an intersection;
- adjacent pinyin syllables with their initials in front (``:p:cs:chang
  sha``), so full pinyin is an exact lookup and initials (``cs``) a prefix
  range. The ``:`` can never occur in a folded name, so the kinds never collide;
- one empty gram per agency: the row a multi-gram query ranks and counts.

Each gram row carries the agency's province and status and a precomputed
rank, so the common query — one gram — is counted, faceted and paged from
the index alone without touching the agency table. Candidates of longer
queries are verified with LIKE against `SearchEntry`, so the grams only have
to be a superset.
"""

from django.db import connections, models
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from portal.sql import one_of

# The first characters of every folded name that `searchentry_head` indexes.
NAME_HEAD = 4


class EntryKind(models.TextChoices):
    NAME = "name", _("名称")
    FORMER = "former", _("曾用名")
    ALIAS = "alias", _("对外使用的名称")


class SearchEntryQuerySet(models.QuerySet):
    def occurring_in(self, text: str, heads: list[str]) -> list[tuple[int, str, str]]:
        """(agency id, kind, folded name) of every entry whose folded name occurs in
        `text` (folded), given `heads`: the text's NAME_HEAD-character windows.

        Each head is a probe of `searchentry_head`; the database keeps the names
        the text holds whole. Written out, one statement whatever the text: the
        ORM spent more building it (an IN of hundreds of windows, StrIndex)
        than either database took to answer (agencies.check.names).
        """
        connection = connections[self.db]
        quote = connection.ops.quote_name
        head = f"SUBSTRING({quote('folded')}, 1, {NAME_HEAD})"
        position = f"STRPOS(%s, {quote('folded')})"
        if connection.vendor != "postgresql":
            # The index's own spelling on SQLite (it matches expressions exactly).
            head = f"SUBSTR({quote('folded')}, 1, {NAME_HEAD})"
            position = f"INSTR(%s, {quote('folded')})"
        among, params = one_of(connection, head, heads, "text")
        sql = (
            f"SELECT {quote('agency_id')}, {quote('kind')}, {quote('folded')} "
            f"FROM {quote(self.model._meta.db_table)} WHERE {among} AND {position} > 0"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, text])
            return cursor.fetchall()


class SearchEntry(models.Model):
    """One searchable name of an agency (current, former or alias), folded."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="search_entries"
    )
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    # agencies.search.textnorm.fold_name(): what LIKE '%query%' verification runs on.
    folded = models.CharField(max_length=200)
    # " hu nan chang sha " — spaces at both ends so a syllable-aligned match is
    # LIKE '% chang sha %'.
    pinyin = models.CharField(max_length=1200)
    initials = models.CharField(max_length=200)

    objects = SearchEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("搜索条目")
        verbose_name_plural = _("搜索条目")
        indexes = [
            # The message check (agencies.check.names): which names could start
            # at each place of a pasted text, looked up by their first four
            # characters; the same expression on both databases.
            models.Index(Substr("folded", 1, NAME_HEAD), name="searchentry_head"),
        ]

    def __str__(self):
        return self.folded


class SearchTokenQuerySet(models.QuerySet):
    def gram(self, gram: str):
        return self.filter(gram=gram)

    def gram_prefix(self, prefix: str):
        # A range rather than LIKE 'x%' so that both databases use the B-tree:
        # SQLite compares UTF-8 bytes, and the PostgreSQL column is COLLATE "C"
        # (migration 0003), so every string starting with `prefix` sorts below
        # prefix + U+10FFFF.
        return self.filter(gram__gte=prefix, gram__lt=prefix + "\U0010ffff")

    def agencies(self):
        """The per-agency rows (empty gram) — what a result list is made of."""
        return self.filter(gram="")

    def in_province(self, code: str):
        return self.filter(province_code=code)

    def with_status(self, statuses):
        return self.filter(status__in=list(statuses))


class SearchToken(models.Model):
    pk = models.CompositePrimaryKey("agency", "gram")
    # Derived rows, rewritten by refresh(): a database foreign-key check on
    # ~25 rows per agency would dominate import time, and the ORM still
    # cascades deletes. db_index off: the primary key starts with agency_id.
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.CASCADE,
        related_name="search_tokens",
        db_constraint=False,
        db_index=False,
    )
    gram = models.CharField(max_length=64)
    province_code = models.CharField(max_length=2)
    status = models.CharField(max_length=4)
    # The result order for this gram: see agencies.search.rank.
    rank = models.PositiveIntegerField()

    objects = SearchTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("搜索词元")
        verbose_name_plural = _("搜索词元")
        indexes = [
            # Serves every gram lookup: seek to a gram (or a gram prefix),
            # read rows in rank order for the first page, and count/facet by
            # province and status without visiting the table.
            models.Index(
                fields=["gram", "rank", "agency", "province_code", "status"],
                name="searchtoken_gram_rank",
            ),
        ]

    def __str__(self):
        return self.gram


class TradeNameKeyQuerySet(models.QuerySet):
    def first_of_each(
        self, keys: list[str], preferred: set[int], shown: int
    ) -> list[tuple[str, int, int, int]]:
        """(key, place length, agency id, agencies with that key) for the first `shown`
        agencies of each of `keys` the directory has, `preferred` ones first, then
        by id: one range of `tradenamekey_key` per key, read without the table.

        Written out, one statement whatever the number of keys (a message has a
        few hundred words to look up): the ORM's window-function query took
        longer to build than to run (agencies.check.tradenames).
        """
        connection = connections[self.db]
        quote = connection.ops.quote_name
        key, place_length, agency = quote("key"), quote("place_length"), quote("agency_id")
        among, key_params = one_of(connection, key, keys, "text")
        first, first_params = one_of(connection, agency, preferred, "bigint")
        partition = f"PARTITION BY {key}, {place_length}"
        sql = (
            f"SELECT {key}, {place_length}, {agency}, n FROM ("
            f"SELECT {key}, {place_length}, {agency}, COUNT(*) OVER ({partition}) AS n, "
            f"ROW_NUMBER() OVER ({partition} ORDER BY CASE WHEN {first} THEN 0 ELSE 1 END, "
            f"{agency}) AS nth FROM {quote(self.model._meta.db_table)} WHERE {among}"
            f") AS keyed WHERE nth <= %s ORDER BY {key}, {place_length}, nth"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*first_params, *key_params, shown])
            return cursor.fetchall()


class TradeNameKey(models.Model):
    """One way to name an agency short of its registered name (agencies.search.tradename):
    its trade name alone (鼎盛, `place_length` 0) or after a place it is known by
    (岳阳鼎盛, 湖南鼎盛: `place_length` 2). The message check looks up the words
    of a pasted text here, exactly (agencies.check.tradenames).

    Derived rows, like SearchToken: rewritten by agencies.search.index wherever
    SearchEntry is, in the same transaction.
    """

    pk = models.CompositePrimaryKey("agency", "key")
    # No database foreign-key check and no index of its own: the primary key
    # starts with agency_id, and the ORM still cascades deletes.
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.CASCADE,
        related_name="trade_name_keys",
        db_constraint=False,
        db_index=False,
    )
    key = models.CharField(max_length=16)
    place_length = models.PositiveSmallIntegerField()

    objects = TradeNameKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("字号键")
        verbose_name_plural = _("字号键")
        indexes = [
            # The message check: which agencies a word of the text names, how
            # many share it — an index range per word, read without the table.
            models.Index(fields=["key", "place_length", "agency"], name="tradenamekey_key"),
        ]

    def __str__(self):
        return self.key


class SearchGramCount(models.Model):
    """How many agencies have a gram, per province and status.

    A one-gram query (every two-character query, a whole pinyin word such as
    ``changsha``) takes its total and both facets from here: a few dozen rows
    instead of counting the gram's index entries, which for 资产 or 咨询 in a
    million-agency directory are hundreds of thousands. Kept in step with
    `SearchToken` by agencies.search.index, in the same transaction.
    """

    pk = models.CompositePrimaryKey("gram", "province_code", "status")
    gram = models.CharField(max_length=64)
    province_code = models.CharField(max_length=2)
    status = models.CharField(max_length=4)
    n = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("词元计数")
        verbose_name_plural = _("词元计数")

    def __str__(self):
        return f"{self.gram} {self.province_code} {self.status}: {self.n}"
