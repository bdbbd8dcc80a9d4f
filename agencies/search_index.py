"""Keeps the name-search index (agencies.search_models) in step with the registry.

Writers (the import pipeline, the admin, sample data) call `refresh(agency_ids)`
after changing agencies, names or aliases, inside the same transaction.
`rebuild()` recomputes everything, e.g. after a change to agencies.textnorm.

Rows are written with plain INSERT (executemany) or COPY rather than
bulk_create: about 25 gram rows per agency make this the largest write of an
import, and the ORM's per-value compilation would cost more than the database.
"""

from collections.abc import Iterable, Iterator
from itertools import islice, pairwise

from django.db import connection

from . import textnorm
from .enums import NameKind, Status
from .search_models import (
    EntryKind,
    MatchTier,
    SearchEntry,
    SearchToken,
    rank_value,
)

PINYIN_PREFIX = ":p:"
# Per-agency row: ranked and counted for multi-gram queries.
AGENCY_GRAM = ""

_BATCH = 5000
_KIND_OF_NAME = {NameKind.FORMER: EntryKind.FORMER, NameKind.ALIAS: EntryKind.ALIAS}
_LIVE = frozenset(Status.live_values())


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
    agency_id: int, name: str, status: str, names: Iterable[tuple[str, str]]
) -> tuple[list[tuple], dict[str, int]]:
    """(entry rows, {gram: rank}) for one agency. Pure: tested without a database."""
    entries: list[tuple] = []
    tokens: dict[str, int] = {}
    is_live = status in _LIVE
    base = rank_value(0, is_live, name)
    tokens[AGENCY_GRAM] = base
    variants = [(EntryKind.NAME, name)]
    variants.extend((_KIND_OF_NAME.get(kind, EntryKind.ALIAS), other) for kind, other in names)
    seen = set()
    for kind, text in variants:
        folded = textnorm.fold_name(text)
        if not folded or (kind, folded) in seen:
            continue
        seen.add((kind, folded))
        sylls = textnorm.syllables(folded)
        letters = textnorm.initials(folded, sylls)
        entries.append(
            (agency_id, str(kind), folded[:200], f" {' '.join(sylls)} "[:1200], letters[:200])
        )
        is_name = kind == EntryKind.NAME
        for i, gram in enumerate(text_grams(folded)):
            if not is_name:
                tier = MatchTier.OTHER_NAME
            elif gram == folded:
                tier = MatchTier.EXACT
            elif i == 0:
                tier = MatchTier.PREFIX
            else:
                tier = MatchTier.SUBSTRING
            rank = base + tier * 512
            if tokens.get(gram, rank + 1) > rank:
                tokens[gram] = rank
        pinyin_rank = base + MatchTier.PINYIN * 512
        for gram in pinyin_grams(sylls):
            gram = _gram_limit(gram)
            if gram not in tokens:
                tokens[gram] = pinyin_rank
    return entries, tokens


def refresh(agency_ids: Iterable[int]) -> None:
    """Rebuild the search entries and grams of these agencies (and drop deleted ones)."""
    ids = sorted(set(agency_ids))
    for start in range(0, len(ids), _BATCH):
        _refresh_batch(ids[start : start + _BATCH])


def rebuild(progress=None) -> int:
    """Recompute the whole index; returns the number of agencies indexed."""
    from .models import Agency

    SearchToken.objects.all().delete()
    SearchEntry.objects.all().delete()
    done = 0
    ids = Agency.objects.order_by("id").values_list("id", flat=True).iterator(chunk_size=_BATCH)
    for chunk in _chunks(ids, _BATCH):
        _refresh_batch(chunk, fresh=True)
        done += len(chunk)
        if progress:
            progress(len(chunk))
    return done


def _chunks(iterable, size) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _refresh_batch(ids: list[int], fresh: bool = False) -> None:
    from .models import Agency, AgencyName

    if not fresh:
        SearchToken.objects.filter(agency_id__in=ids).delete()
        SearchEntry.objects.filter(agency_id__in=ids).delete()
    rows = Agency.objects.filter(id__in=ids).values_list("id", "name", "status", "province_id")
    other_names: dict[int, list[tuple[str, str]]] = {}
    for agency_id, kind, name in AgencyName.objects.filter(agency_id__in=ids).values_list(
        "agency_id", "kind", "name"
    ):
        other_names.setdefault(agency_id, []).append((kind, name))

    entries: list[tuple] = []
    tokens: list[tuple] = []
    for agency_id, name, status, province in rows:
        agency_entries, agency_tokens = build(
            agency_id, name, status, other_names.get(agency_id, ())
        )
        entries.extend(agency_entries)
        tokens.extend(
            (agency_id, gram, province, status, rank) for gram, rank in agency_tokens.items()
        )
    # Sorted by gram, inserts walk the gram index in order instead of jumping
    # around it: noticeably faster once the index outgrows the page cache.
    tokens.sort(key=lambda row: row[1])
    _insert(SearchEntry, ("agency_id", "kind", "folded", "pinyin", "initials"), entries)
    _insert(SearchToken, ("agency_id", "gram", "province_code", "status", "rank"), tokens)


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_sql = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})", rows)
