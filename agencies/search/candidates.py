"""Step 2 of a query: the agencies whose names match folded text.

Name search runs on the gram index described in agencies/search/models.py.
`matching()` turns a folded query into a *plan* (alternatives of gram
conditions, each with an optional LIKE verification) and the plan into one
queryset over `SearchToken`:

- one exact gram and nothing to verify (any two-character query — the
  commonest kind): read straight from the (gram, rank, …) index, which is
  already in result order and carries province and status for the facets;
- one keyword's text of three characters or more (鑫达资产) that is not
  broad: one statement written out (`_phrase_sql()`), whose names come from
  pg_trgm's GIN index on PostgreSQL and from the rarest gram elsewhere;
- otherwise: candidate agencies are the rows of the rarest gram that also
  have the other grams (primary-key probes), verified with LIKE against
  `SearchEntry`, unioned over the alternatives (text, pinyin, initials) and
  ranked (agencies.search.rank) on the agency's own row in the same table.

Several keywords (``常德 商务``, textnorm.fold_query()) are one alternative
per way of reading them together: the grams of every keyword, and one name
of the agency that contains every keyword, in any order.

The same statements run on SQLite and PostgreSQL and give the same results,
but for where a phrase's names are read from (see `_trigram_needles()`).
"""

from dataclasses import dataclass
from itertools import islice, pairwise, product

from django.db import connections, router
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    Lookup,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from . import rank, textnorm
from .index import AGENCY_GRAM, PINYIN_PREFIX, pinyin_gram
from .models import SearchEntry, SearchGramCount, SearchToken
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
# Ways of reading several keywords together (text or pinyin for each): the
# first is always all text.
_MAX_COMBINATIONS = 4
# The shortest text pg_trgm can look up (one trigram): see _trigram_needles().
TRIGRAM_MIN = 3


def reading():
    """The connection this search reads: a public request's replica, else the
    primary (portal.routers), as the ORM's queries would. The statements written
    out here must run on it too, so that a page reads one snapshot."""
    return connections[router.db_for_read(SearchToken)]


class PerCandidate(Exists):
    """EXISTS kept a check per candidate row on PostgreSQL.

    candidate_ids() starts from the rarest gram (exact counts from
    SearchGramCount) and checks the other grams, and the LIKE verification,
    on each of its rows. PostgreSQL turns a plain EXISTS into a semi-join and
    then picks the join order from its own estimates, which for grams are
    guesses: after an import of 1,000,000 agencies it put the two grams of
    哈尔滨 (25,000 agencies each, estimated at 1,300) first and probed the
    rare trade name for every one of them, 100 ms for a query the rare gram
    answers in 10 (`鑫达 哈尔滨`); and it guesses that `folded LIKE
    '%长沙信瑞%'` matches a handful of rows, so it would read every name to
    find them. `OFFSET 0` is PostgreSQL's documented way to keep a subquery as
    written (no pull-up); the rows are the same. SQLite already checks an
    EXISTS per candidate row.
    """

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="EXISTS(%(subquery)s OFFSET 0)", **extra_context
        )


class Like(Lookup):
    """`lhs LIKE pattern`, the pattern as given: `_` stands for any one character.

    Django's `contains` escapes `_`; the spelling suggestions (agencies.search.suggest)
    need it as a wildcard. Folded text holds only letters and digits, so no
    pattern built from it has a wildcard it did not mean.
    """

    lookup_name = "like"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", (*lhs_params, *rhs_params)


@dataclass(frozen=True)
class Cond:
    gram: str
    prefix: bool = False

    def filter(self, queryset):
        return queryset.gram_prefix(self.gram) if self.prefix else queryset.gram(self.gram)


@dataclass
class Alternative:
    """Agencies having all `conds`, and (if any) one entry for which every `verify`
    check holds: (lookup, value) pairs such as ("folded__contains", "长沙资产")."""

    conds: list[Cond]
    verify: tuple[tuple[str, str], ...] = ()
    # None: the text alternative, whose tier comes from the entries; else fixed.
    tier: Tier | None = None

    def entry_filter(self) -> list:
        """The checks as filter() arguments for SearchEntry rows."""
        return [
            Like(F("folded"), Value(needle)) if lookup == "folded__like" else Q(**{lookup: needle})
            for lookup, needle in self.verify
        ]


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
    keywords = textnorm.query_keywords(folded)
    if len(keywords) > 1:
        return _all_keywords(keywords)
    if len(folded) == 1:
        alternatives = [Alternative([Cond(folded, prefix=True)])]
    elif len(folded) == 2:
        alternatives = [Alternative([Cond(folded)])]
    else:
        alternatives = [Alternative(_windows(folded), (("folded__contains", folded),))]
    if textnorm.looks_like_pinyin(folded) and len(folded) >= 2:
        alternatives.extend(_pinyin_alternatives(folded))
    return alternatives


def text_conds(text: str) -> list[Cond]:
    """The grams every name containing `text` has."""
    if len(text) == 1:
        return [Cond(text, prefix=True)]
    return _windows(text)


def _all_keywords(keywords: list[str]) -> list[Alternative]:
    """Agencies with a name that contains every keyword, in any order: for each
    keyword its text, or (Latin letters) its pinyin or initials."""
    options = []
    for keyword in keywords:
        found = [Alternative(text_conds(keyword), (("folded__contains", keyword),))]
        if textnorm.looks_like_pinyin(keyword) and len(keyword) >= 2:
            found.extend(_pinyin_alternatives(keyword, always_verify=True))
        options.append(found)
    alternatives = []
    for combination in islice(product(*options), _MAX_COMBINATIONS):
        # A few grams of each keyword: the rarest drives, the others are probes,
        # and the checks on the entry make the answer exact anyway.
        per_keyword = [option.conds for option in combination]
        conds: list[Cond] = []
        for rank_in_keyword in range(max(len(c) for c in per_keyword)):
            for keyword_conds in per_keyword:
                if rank_in_keyword < len(keyword_conds):
                    conds.append(keyword_conds[rank_in_keyword])
        conds = list(dict.fromkeys(conds))[:_MAX_CONDS]
        verify = tuple(check for option in combination for check in option.verify)
        by_pinyin = any(option.tier == Tier.PINYIN for option in combination)
        alternatives.append(Alternative(conds, verify, Tier.PINYIN if by_pinyin else None))
    return alternatives


def _pinyin_alternatives(folded: str, *, always_verify: bool = False) -> list[Alternative]:
    """`always_verify`: check the pinyin on the entry even when the grams prove it
    (one keyword among several must hold on the same name as the others)."""
    result = []
    if len(folded) <= _MAX_INITIALS:
        # Initials: every adjacent pair of letters is the prefix of the pinyin
        # grams whose syllables start with them. Longer strings of letters are
        # pinyin, not initials, and each pair would be a wide range to probe.
        pairs = list(dict.fromkeys(folded[i : i + 2] for i in range(len(folded) - 1)))
        if len(pairs) > _MAX_CONDS:
            pairs = pairs[: _MAX_CONDS - 1] + pairs[-1:]
        conds = [Cond(f"{PINYIN_PREFIX}{pair}:", prefix=True) for pair in pairs]
        verify = (("initials__contains", folded),) if len(folded) > 2 or always_verify else ()
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
        checked = len(conds) > 1 or partial or always_verify
        verify = (("pinyin__contains", needle),) if checked else ()
        result.append(Alternative(conds, verify, tier=Tier.PINYIN))
    return result


def capped_counts(
    conds: list[Cond], province: str = "", statuses=()
) -> tuple[dict[Cond, int], dict[Cond, int]]:
    """How many agencies have each gram: one query.

    Two counts per gram: in the whole index, and within `province` and
    `statuses` (the same numbers when there are no filters). A whole gram is
    counted in `SearchGramCount`, exactly: a sum over its (province, status)
    rows, at most a few hundred however common the gram (资产 in a
    million-agency directory: ~170 rows, where counting its index entries up
    to the cap read 3,001). A prefix (one character, initials) has no such
    rows; its entries in the gram index are counted no further than
    SCAN_LIMIT + 1, enough to know it is broad.
    """
    connection = reading()
    quote = connection.ops.quote_name
    tokens = quote(SearchToken._meta.db_table)
    tallies = quote(SearchGramCount._meta.db_table)
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
            i = scope * len(conds) + index
            if cond.prefix:
                parts.append(
                    f"SELECT {i} AS i, COUNT(*) AS n FROM (SELECT 1 FROM {tokens} "
                    f"WHERE gram >= %s AND gram < %s{extra} LIMIT {SCAN_LIMIT + 1}) AS c{i}"
                )
                params.extend([cond.gram, cond.gram + "\U0010ffff"])
            else:
                parts.append(
                    f"SELECT {i} AS i, COALESCE(SUM(n), 0) AS n FROM {tallies} "
                    f"WHERE gram = %s{extra}"
                )
                params.append(cond.gram)
            params.extend(extra_params)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        counts = dict(cursor.fetchall())
    whole, within = (
        {cond: counts.get(scope * len(conds) + index, 0) for index, cond in enumerate(conds)}
        for scope in (0, len(scopes) - 1)
    )
    return whole, within


def _trigram_needles(alternative: Alternative) -> list[str]:
    """The texts one name must contain, when PostgreSQL's trigram index can find it.

    On PostgreSQL a GIN index of pg_trgm (migration 0013,
    index.TRIGRAM_INDEX) answers `folded LIKE '%鑫达资产%'` by intersecting
    the entries of the text's trigrams (鑫达资, 达资产): the matching names
    at once, about as many as match. The gram path reads every agency of the
    rarest bigram (鑫达: ~250 at a million agencies) and checks each against
    SearchEntry by primary key, which is what the database spent its time on.
    A trigram needs three characters: two-character keywords, pinyin,
    initials and the suggestions' `_` patterns stay on the grams (so does
    SQLite, which has no such index).
    """
    if reading().vendor != "postgresql" or not alternative.verify:
        return []
    if all(
        lookup == "folded__contains" and len(needle) >= TRIGRAM_MIN
        for lookup, needle in alternative.verify
    ):
        return [needle for _lookup, needle in alternative.verify]
    return []


def candidate_ids(
    alternative: Alternative, counts: dict[Cond, int], narrow=None, limit: int | None = None
):
    """agency_id rows of the agencies that satisfy one alternative.

    `narrow`: for a broad query, a function that filters the driver's rows
    (province, status) before the best `limit` (SCAN_LIMIT) of them are taken.
    """
    limit = SCAN_LIMIT if limit is None else limit
    if narrow is None and (needles := _trigram_needles(alternative)):
        # Not broad (at most SCAN_LIMIT agencies have the rarest gram, so at
        # most that many names match): the names themselves, through the index.
        entries = SearchEntry.objects.all()
        for needle in needles:
            entries = entries.filter(folded__contains=needle)
        return entries.values("agency_id")
    conds = sorted(alternative.conds, key=lambda cond: (counts.get(cond, 0), cond.prefix))
    driver, others = conds[0], conds[1:]
    queryset = driver.filter(SearchToken.objects.all())
    if narrow is not None:
        best = narrow(queryset).order_by("rank", "agency_id").values("agency_id")[:limit]
        # Each agency's own row, so a prefix driver with several rows per
        # agency still gives each agency once.
        queryset = SearchToken.objects.agencies().filter(agency_id__in=best)
        others = conds
    # The rarest gram's rows, each checked for the others (PerCandidate); a
    # broad query's best `limit` rows are a LIMIT subquery the planner keeps
    # as written anyway, and there the plain semi-joins let PostgreSQL plan
    # the suggestions' outer query (agencies.search.suggest) from the rows
    # rather than scan every name (measured, docs/benchmarks.md).
    check = Exists if narrow is not None else PerCandidate
    for cond in others:
        probe = cond.filter(SearchToken.objects.filter(agency_id=OuterRef("agency_id")))
        queryset = queryset.filter(check(probe))
    if alternative.verify:
        entries = SearchEntry.objects.filter(agency_id=OuterRef("agency_id")).filter(
            *alternative.entry_filter()
        )
        queryset = queryset.filter(PerCandidate(entries))
    return queryset.values("agency_id")


def _single_gram(alternatives: list[Alternative]) -> str | None:
    if len(alternatives) == 1 and len(alternatives[0].conds) == 1 and not alternatives[0].verify:
        cond = alternatives[0].conds[0]
        if not cond.prefix:
            return cond.gram
    return None


def _one_phrase(alternative: Alternative) -> bool:
    """The text of one keyword, three characters or more: 鑫达资产, the commonest
    query after two characters."""
    return alternative.tier is None and [lookup for lookup, _ in alternative.verify] == [
        "folded__contains"
    ]


def _phrase_sql(alternative: Alternative, counts: dict[Cond, int]) -> tuple[str, list]:
    """The matches of one phrase (`_one_phrase()`) that is not broad, ranked, as one
    statement written out rather than built with the ORM.

    The same rows as candidate_ids() and rank.text_tier() give, without
    compiling their expressions on every search (several milliseconds of
    Python, more than the database took) and with the tier taken from the
    matching names themselves (MIN over them) rather than a subquery per
    agency. On PostgreSQL the names come from the trigram index
    (_trigram_needles()); elsewhere from the rarest gram's agencies, each
    probed for the other grams before its names are read, as candidate_ids()
    does.
    """
    ((_lookup, phrase),) = alternative.verify
    quote = reading().ops.quote_name
    tokens = quote(SearchToken._meta.db_table)
    entries = quote(SearchEntry._meta.db_table)
    tier, tier_params = rank.text_tier_sql("e", phrase)
    select = (
        f"SELECT t.agency_id, t.province_code, t.status, "
        f"{rank.ranked_sql(f'MIN({tier})', 't.rank')}"
    )
    group = " GROUP BY t.agency_id, t.province_code, t.status, t.rank"
    if _trigram_needles(alternative):
        sql = (
            f"{select} FROM {entries} e JOIN {tokens} t "
            "ON t.agency_id = e.agency_id AND t.gram = %s WHERE e.folded LIKE %s"
        )
        return sql + group, [*tier_params, AGENCY_GRAM, f"%{phrase}%"]
    conds = sorted(alternative.conds, key=lambda cond: (counts.get(cond, 0), cond.prefix))
    driver, others = conds[0], conds[1:]
    if driver.prefix:
        where, params = "d.gram >= %s AND d.gram < %s", [driver.gram, driver.gram + "\U0010ffff"]
    else:
        where, params = "d.gram = %s", [driver.gram]
    for cond in others:
        probe = "p.gram >= %s AND p.gram < %s" if cond.prefix else "p.gram = %s"
        where += f" AND EXISTS (SELECT 1 FROM {tokens} p WHERE p.agency_id = d.agency_id AND "
        where += f"{probe})"
        params += [cond.gram, cond.gram + "\U0010ffff"] if cond.prefix else [cond.gram]
    # CROSS JOIN: SQLite joins in the order written, from the driver's rows.
    sql = (
        f"{select} FROM {tokens} d CROSS JOIN {entries} e CROSS JOIN {tokens} t "
        f"WHERE {where} AND e.agency_id = d.agency_id AND e.folded LIKE %s "
        "AND t.agency_id = d.agency_id AND t.gram = %s"
    )
    return sql + group, [*tier_params, *params, f"%{phrase}%", AGENCY_GRAM]


@dataclass(frozen=True)
class Matches:
    """The agencies matching a query, and how `search_names()` may count them.

    `queryset`: SearchToken rows, one per agency, annotated with `search_rank`;
    order with `.order_by("search_rank", "agency_id")`, filter with the
    queryset's `in_province()` / `with_status()`; None when `sql` gives the
    rows instead.
    """

    queryset: QuerySet | None
    # The answer is this gram's rows: totals and facets come from SearchGramCount.
    tally_gram: str | None = None
    # Too many candidates to check them all (see SCAN_LIMIT): the province and
    # status filters were applied while scanning, so the rows hold only what is
    # within them, and other facets can't be counted.
    broad: bool = False
    # Broad even within the filters: only the best SCAN_LIMIT candidates were
    # checked, so what is found is a lower bound.
    partial: bool = False
    # Instead of `queryset` (see _phrase_sql()): one statement giving the
    # (agency_id, province_code, status, search_rank) rows, and its parameters.
    sql: tuple[str, list] | None = None


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
        counts, filtered = capped_counts(list(dict.fromkeys(conds)), province, statuses)
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

    if not broad and len(alternatives) == 1 and _one_phrase(alternatives[0]):
        return Matches(None, sql=_phrase_sql(alternatives[0], counts))
    subqueries = [candidate_ids(alt, counts, narrow) for alt in alternatives]
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
