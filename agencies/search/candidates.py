"""Step 2 of a query: the agencies whose names match folded text.

Name search runs on the gram index described in agencies/search/models.py.
`matching()` turns a folded query into a *plan* (alternatives of gram
conditions, each with an optional LIKE verification) and the plan into one
queryset over `SearchToken`:

- one exact gram and nothing to verify (any two-character query — the
  commonest kind): read straight from the (gram, rank, …) index, which is
  already in result order and carries province and status for the facets;
- otherwise: candidate agencies are the rows of the rarest gram that also
  have the other grams (primary-key probes), verified with LIKE against
  `SearchEntry`, unioned over the alternatives (text, pinyin, initials) and
  ranked (agencies.search.rank) on the agency's own row in the same table.

The same statements run on SQLite and PostgreSQL and give the same results.
"""

from dataclasses import dataclass
from itertools import pairwise

from django.db import connection
from django.db.models import Case, Exists, F, IntegerField, OuterRef, QuerySet, Value, When

from . import rank, textnorm
from .index import PINYIN_PREFIX, pinyin_gram
from .models import SearchEntry, SearchToken
from .rank import Tier

# Grams intersected per alternative: more only cost probes, the LIKE check
# makes the answer exact anyway.
_MAX_CONDS = 6
# A query whose rarest gram has more rows than this (石家庄, 资产管理 or the
# initials cs in a million-agency directory) is *broad*: verifying every
# candidate would take far longer than a search may, so only this many
# candidates, the best-ranked rows of that gram, are checked; the answer says
# so (NameResults.partial). Narrower queries are answered exactly.
SCAN_LIMIT = 3000
# Initials people actually type: a short name (cs, hncs, bjhrcs).
_MAX_INITIALS = 6


@dataclass(frozen=True)
class Cond:
    gram: str
    prefix: bool = False

    def filter(self, queryset):
        return queryset.gram_prefix(self.gram) if self.prefix else queryset.gram(self.gram)


@dataclass
class Alternative:
    """Agencies having all `conds`, and (if set) an entry whose `verify` lookup holds."""

    conds: list[Cond]
    verify: tuple[str, str] | None = None
    # None: the text alternative, whose tier comes from the entries; else fixed.
    tier: Tier | None = None


def _windows(text: str, prefix: str = "") -> list[Cond]:
    """Bigrams that cover `text`: non-overlapping from the start, plus the last one."""
    starts = list(range(0, len(text) - 1, 2))
    if (len(text) - 2) not in starts:
        starts.append(len(text) - 2)
    grams = list(dict.fromkeys(text[i : i + 2] for i in starts))
    if len(grams) > _MAX_CONDS:
        grams = grams[: _MAX_CONDS - 1] + grams[-1:]
    return [Cond(prefix + gram) for gram in grams]


def plan(folded: str) -> list[Alternative]:
    if not folded:
        return []
    if len(folded) == 1:
        alternatives = [Alternative([Cond(folded, prefix=True)])]
    elif len(folded) == 2:
        alternatives = [Alternative([Cond(folded)])]
    else:
        alternatives = [Alternative(_windows(folded), ("folded__contains", folded))]
    if textnorm.looks_like_pinyin(folded) and len(folded) >= 2:
        alternatives.extend(_pinyin_alternatives(folded))
    return alternatives


def _pinyin_alternatives(folded: str) -> list[Alternative]:
    result = []
    if len(folded) <= _MAX_INITIALS:
        # Initials: every adjacent pair of letters is the prefix of the pinyin
        # grams whose syllables start with them. Longer strings of letters are
        # pinyin, not initials, and each pair would be a wide range to probe.
        pairs = list(dict.fromkeys(folded[i : i + 2] for i in range(len(folded) - 1)))
        if len(pairs) > _MAX_CONDS:
            pairs = pairs[: _MAX_CONDS - 1] + pairs[-1:]
        conds = [Cond(f"{PINYIN_PREFIX}{pair}:", prefix=True) for pair in pairs]
        verify = ("initials__contains", folded) if len(folded) > 2 else None
        result.append(Alternative(conds, verify, tier=Tier.PINYIN))
    segmentations, partial = textnorm.segment_pinyin(folded)
    for seg in segmentations:
        if len(seg) < 2:
            # One syllable alone ("chang") would be a range over every gram
            # starting with its initial: far too many rows, far too vague.
            continue
        conds = [Cond(pinyin_gram(a, b)) for a, b in pairwise(seg)]
        needle = " " + " ".join(seg)
        if partial:
            conds[-1] = Cond(conds[-1].gram, prefix=True)
        else:
            needle += " "
        if len(conds) > _MAX_CONDS:
            conds = conds[: _MAX_CONDS - 1] + conds[-1:]
        verify = ("pinyin__contains", needle) if len(conds) > 1 or partial else None
        result.append(Alternative(conds, verify, tier=Tier.PINYIN))
    return result


def _capped_counts(
    conds: list[Cond], province: str = "", statuses=()
) -> tuple[dict[Cond, int], dict[Cond, int]]:
    """How many rows each gram has, counting no further than SCAN_LIMIT + 1 (enough
    to know it is broad): one query.

    Two counts per gram: in the whole index, and within `province` and
    `statuses` (the same numbers when there are no filters).
    """
    table = connection.ops.quote_name(SearchToken._meta.db_table)
    narrowed, narrowed_params = "", []
    if province:
        narrowed += " AND province_code = %s"
        narrowed_params.append(province)
    if statuses:
        narrowed += f" AND status IN ({', '.join(['%s'] * len(statuses))})"
        narrowed_params.extend(statuses)
    # Scope 0 is the whole index; scope 1, when there are filters, is within them.
    scopes = [("", [])] + ([(narrowed, narrowed_params)] if narrowed else [])
    parts, params = [], []
    for scope, (extra, extra_params) in enumerate(scopes):
        for index, cond in enumerate(conds):
            where = "gram >= %s AND gram < %s" if cond.prefix else "gram = %s"
            i = scope * len(conds) + index
            parts.append(
                f"SELECT {i} AS i, COUNT(*) AS n FROM "
                f"(SELECT 1 FROM {table} WHERE {where}{extra} LIMIT {SCAN_LIMIT + 1}) AS c{i}"
            )
            params.extend([cond.gram, cond.gram + "\U0010ffff"] if cond.prefix else [cond.gram])
            params.extend(extra_params)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        counts = dict(cursor.fetchall())
    whole, within = (
        {cond: counts.get(scope * len(conds) + index, 0) for index, cond in enumerate(conds)}
        for scope in (0, len(scopes) - 1)
    )
    return whole, within


def _candidates(alternative: Alternative, counts: dict[Cond, int], narrow=None):
    """agency_id rows of the agencies that satisfy one alternative.

    `narrow`: for a broad query, a function that filters the driver's rows
    (province, status) before the best SCAN_LIMIT of them are taken.
    """
    conds = sorted(alternative.conds, key=lambda cond: (counts.get(cond, 0), cond.prefix))
    driver, others = conds[0], conds[1:]
    queryset = driver.filter(SearchToken.objects.all())
    if narrow is not None:
        best = narrow(queryset).order_by("rank", "agency_id").values("agency_id")[:SCAN_LIMIT]
        # Each agency's own row, so a prefix driver with several rows per
        # agency still gives each agency once.
        queryset = SearchToken.objects.agencies().filter(agency_id__in=best)
        others = conds
    for cond in others:
        probe = cond.filter(SearchToken.objects.filter(agency_id=OuterRef("agency_id")))
        queryset = queryset.filter(Exists(probe))
    if alternative.verify:
        lookup, needle = alternative.verify
        entries = SearchEntry.objects.filter(agency_id=OuterRef("agency_id"), **{lookup: needle})
        queryset = queryset.filter(Exists(entries))
    return queryset.values("agency_id")


def _single_gram(alternatives: list[Alternative]) -> str | None:
    if len(alternatives) == 1 and len(alternatives[0].conds) == 1 and not alternatives[0].verify:
        cond = alternatives[0].conds[0]
        if not cond.prefix:
            return cond.gram
    return None


@dataclass(frozen=True)
class Matches:
    """The agencies matching a query, and how `search_names()` may count them.

    `queryset`: SearchToken rows, one per agency, annotated with `search_rank`;
    order with `.order_by("search_rank", "agency_id")`, filter with the
    queryset's `in_province()` / `with_status()`.
    """

    queryset: QuerySet
    # The answer is this gram's rows: totals and facets come from SearchGramCount.
    tally_gram: str | None = None
    # Too many candidates to check them all (see SCAN_LIMIT): the province and
    # status filters were applied while scanning, so the rows hold only what is
    # within them, and other facets can't be counted.
    broad: bool = False
    # Broad even within the filters: only the best SCAN_LIMIT candidates were
    # checked, so what is found is a lower bound.
    partial: bool = False


# No match, with the annotation every Matches.queryset has.
_NOTHING = SearchToken.objects.none().annotate(search_rank=F("rank"))


def matching(folded: str, province: str = "", statuses=()) -> Matches:
    """The agencies whose names match `folded` (see the module docstring)."""
    alternatives = plan(folded)
    if not alternatives:
        return Matches(_NOTHING)
    gram = _single_gram(alternatives)
    if gram is None:
        conds = [cond for alt in alternatives for cond in alt.conds]
        counts, filtered = _capped_counts(list(dict.fromkeys(conds)), province, statuses)
        # A gram nobody has rules its alternative out: "changsha" as Chinese
        # text, or initials no name has. What is left is often one pinyin gram.
        alternatives = [a for a in alternatives if all(counts[c] for c in a.conds)]
        if not alternatives:
            return Matches(_NOTHING)
        gram = _single_gram(alternatives)
    if gram is not None:
        # The fast path: the gram's own rows are one per agency and carry the
        # rank for exactly this match (text tier, or pinyin).
        return Matches(SearchToken.objects.gram(gram).annotate(search_rank=F("rank")), gram)
    broad = any(min(counts[c] for c in alt.conds) > SCAN_LIMIT for alt in alternatives)
    partial = broad and any(
        min(filtered[c] for c in alt.conds) > SCAN_LIMIT for alt in alternatives
    )
    narrow = None
    if broad:

        def narrow(queryset):
            if province:
                queryset = queryset.in_province(province)
            if statuses:
                queryset = queryset.with_status(statuses)
            return queryset

    subqueries = [_candidates(alt, counts, narrow) for alt in alternatives]
    # One IN over a UNION: SQLite plans an OR of several IN lists as a scan.
    union = subqueries[0].union(*subqueries[1:]) if len(subqueries) > 1 else subqueries[0]
    hits = SearchToken.objects.agencies().filter(agency_id__in=union)
    text_tier = rank.text_tier(folded)
    if alternatives[0].tier is not None:
        tier = alternatives[0].tier
    elif len(alternatives) > 1:
        # Only agencies found by the text alternative pay for the tier subquery.
        tier = Case(
            When(agency_id__in=subqueries[0], then=text_tier),
            default=Value(Tier.PINYIN),
            output_field=IntegerField(),
        )
    else:
        tier = text_tier
    return Matches(hits.annotate(search_rank=rank.ranked(tier)), broad=broad, partial=partial)
