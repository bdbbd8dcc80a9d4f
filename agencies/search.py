"""One search box, three kinds of answer: classify the input, then look it up.

`classify()` decides whether the text is a phone number, a credit code (USCC)
or a name. Name search runs on the gram index described in
agencies/search_models.py; this module turns a folded query into a *plan*
(alternatives of gram conditions, each with an optional LIKE verification)
and the plan into querysets over `SearchToken`:

- one exact gram and nothing to verify (any two-character query — the
  commonest kind): read straight from the (gram, rank, …) index, which is
  already in result order and carries province and status for the facets;
- otherwise: candidate agencies are the rows of the rarest gram that also
  have the other grams (primary-key probes), verified with LIKE against
  `SearchEntry`, unioned over the alternatives (text, pinyin, initials) and
  ranked on the agency's own row in the same table.

The same statements run on SQLite and PostgreSQL and give the same results.
"""

from dataclasses import dataclass, field
from itertools import pairwise

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)

from . import phones, textnorm
from . import uscc as uscc_lib
from .enums import Status
from .search_index import PINYIN_PREFIX, pinyin_gram
from .search_models import EntryKind, MatchTier, SearchEntry, SearchGramCount, SearchToken

MAX_INPUT = 200
# Grams intersected per alternative: more only cost probes, the LIKE check
# makes the answer exact anyway.
_MAX_CONDS = 6
# A query whose rarest gram has more rows than this (石家庄, 资产管理 or the
# initials cs in a million-agency directory) is *broad*: verifying every
# candidate would take far longer than a search may, so only this many
# candidates, the best-ranked rows of that gram, are checked; the answer says
# so (NameResults.partial). Narrower queries are answered exactly.
SCAN_LIMIT = 3000
# "How common is this gram" stops counting here: enough to know it is broad.
_COUNT_CAP = SCAN_LIMIT + 1
# Initials people actually type: a short name (cs, hncs, bjhrcs).
_MAX_INITIALS = 6

KIND_EMPTY, KIND_PHONE, KIND_USCC, KIND_NAME = "empty", "phone", "uscc", "name"


# --- Classification ----------------------------------------------------------------------------


@dataclass
class Classified:
    """What the box understood. `text` is the input as echoed back (cleaned)."""

    text: str
    kind: str
    phone: phones.Phone | None = None
    uscc: str = ""
    uscc_error: uscc_lib.UsccError | None = None
    folded: str = ""
    # Digits that are not a number we recognise: searched as a name, with a note.
    not_a_number: bool = False

    @property
    def uscc_expected(self) -> str:
        """The whole code with the check character it should have, for a likely typo."""
        if self.uscc_error and self.uscc_error.expected_check:
            return self.uscc[:17] + self.uscc_error.expected_check
        return ""


def looks_like_uscc(code: str) -> bool:
    """18 letters/digits with at least six digits (the division code): a credit
    code, perhaps mistyped — not an 18-letter pinyin string."""
    return (
        len(code) == 18
        and code.isascii()
        and code.isalnum()
        and sum(char.isdigit() for char in code) >= 6
    )


def classify(raw: str | None) -> Classified:
    text = textnorm.clean_input(raw or "", MAX_INPUT)
    if not textnorm.basic_fold(text):
        return Classified(text, KIND_EMPTY)
    code = uscc_lib.normalize(text)
    if looks_like_uscc(code):
        try:
            return Classified(text, KIND_USCC, uscc=uscc_lib.validate(code))
        except uscc_lib.UsccError as error:
            return Classified(text, KIND_USCC, uscc=code, uscc_error=error)
    if phones.looks_like_phone(text):
        number = phones.normalize(text)
        if number is not None:
            return Classified(text, KIND_PHONE, phone=number)
        return Classified(text, KIND_NAME, folded=textnorm.fold_query(text), not_a_number=True)
    return Classified(text, KIND_NAME, folded=textnorm.fold_query(text))


# --- Name-search plan --------------------------------------------------------------------------


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
    tier: int | None = None


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
        result.append(Alternative(conds, verify, tier=MatchTier.PINYIN))
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
        result.append(Alternative(conds, verify, tier=MatchTier.PINYIN))
    return result


def _capped_counts(
    conds: list[Cond], province: str = "", statuses=()
) -> tuple[dict[Cond, int], dict[Cond, int]]:
    """How many rows each gram has, counting no further than _COUNT_CAP: one query.

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
                f"(SELECT 1 FROM {table} WHERE {where}{extra} LIMIT {_COUNT_CAP}) AS c{i}"
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


def _text_tier(folded: str):
    """Best tier of the agency's entries that contain `folded` (NULL when none)."""
    tier = Case(
        When(kind=EntryKind.NAME, folded=folded, then=Value(MatchTier.EXACT)),
        When(kind=EntryKind.NAME, folded__startswith=folded, then=Value(MatchTier.PREFIX)),
        When(kind=EntryKind.NAME, then=Value(MatchTier.SUBSTRING)),
        default=Value(MatchTier.OTHER_NAME),
        output_field=IntegerField(),
    )
    entries = (
        SearchEntry.objects.filter(agency_id=OuterRef("agency_id"), folded__contains=folded)
        .annotate(tier=tier)
        .order_by("tier")
        .values("tier")[:1]
    )
    return Subquery(entries, output_field=IntegerField())


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

    queryset: object
    # The answer is this gram's rows: totals and facets come from SearchGramCount.
    tally_gram: str | None = None
    # Too many candidates to check them all (see SCAN_LIMIT): the province and
    # status filters were applied while scanning, so the rows hold only what is
    # within them, and other facets can't be counted.
    broad: bool = False
    # Broad even within the filters: only the best SCAN_LIMIT candidates were
    # checked, so what is found is a lower bound.
    partial: bool = False


def matching(folded: str, province: str = "", statuses=()) -> Matches:
    """The agencies whose names match `folded` (see the module docstring)."""
    alternatives = plan(folded)
    if not alternatives:
        return Matches(SearchToken.objects.none())
    gram = _single_gram(alternatives)
    if gram is None:
        conds = [cond for alt in alternatives for cond in alt.conds]
        counts, filtered = _capped_counts(list(dict.fromkeys(conds)), province, statuses)
        # A gram nobody has rules its alternative out: "changsha" as Chinese
        # text, or initials no name has. What is left is often one pinyin gram.
        alternatives = [a for a in alternatives if all(counts[c] for c in a.conds)]
        if not alternatives:
            return Matches(SearchToken.objects.none())
        gram = _single_gram(alternatives)
    if gram is not None:
        # The fast path: the gram's own rows are one per agency and carry the
        # rank for exactly this match (text tier, or pinyin).
        return Matches(SearchToken.objects.gram(gram).annotate(search_rank=F("rank")), gram)
    broad = any(min(counts[c] for c in alt.conds) >= _COUNT_CAP for alt in alternatives)
    partial = broad and any(
        min(filtered[c] for c in alt.conds) >= _COUNT_CAP for alt in alternatives
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
    text_tier = _text_tier(folded)
    if alternatives[0].tier is not None:
        tier = Value(MatchTier.PINYIN)
    elif len(alternatives) > 1:
        # Only agencies found by the text alternative pay for the tier subquery.
        tier = Case(
            When(agency_id__in=subqueries[0], then=text_tier),
            default=Value(MatchTier.PINYIN),
            output_field=IntegerField(),
        )
    else:
        tier = text_tier
    return Matches(
        hits.annotate(search_rank=tier * Value(512) + F("rank")), broad=broad, partial=partial
    )


# --- Running a search for a page ----------------------------------------------------------------


@dataclass
class Hit:
    agency: object
    tier: int
    matched_name: str = ""

    @property
    def tier_label(self) -> str:
        return str(MatchTier(self.tier).label)


@dataclass
class Facet:
    param: str  # the query parameter it sets: "province" or "status"
    value: str
    label: str
    count: int
    selected: bool = False

    @property
    def choose(self) -> dict:
        """For {% querystring request.GET facet.choose %}: this value, from page 1."""
        return {self.param: self.value, "page": None}

    @property
    def clear(self) -> dict:
        return {self.param: None, "page": None}


@dataclass
class NameResults:
    folded: str
    count: int
    page: int
    page_size: int
    hits: list[Hit] = field(default_factory=list)
    provinces: list[Facet] = field(default_factory=list)
    statuses: list[Facet] = field(default_factory=list)
    # A broad query (see SCAN_LIMIT): facets list what the filters allow but
    # carry no counts; partial: `count` covers only the candidates checked,
    # so it is a lower bound.
    broad: bool = False
    partial: bool = False

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def start_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.count else 0

    @property
    def end_index(self) -> int:
        return min(self.page * self.page_size, self.count)


MAX_PAGE = 500


def search_names(folded: str, filterset, *, page: int = 1, page_size: int = 20) -> NameResults:
    """Count, facets and one page of the agencies matching `folded`.

    `filterset`: a SearchHitFilter over the request's parameters; its valid
    province and status narrow the hits (invalid ones are ignored). A fixed
    number of queries whatever the data: the gram counts, the grouped count,
    province names, the page, its agencies, and former names when needed.
    """
    from .models import Agency, AgencyName, Province

    results = NameResults(folded, 0, page, page_size)
    if not folded:
        return results
    selected = filterset.province
    province = selected.code if selected else ""
    statuses = filterset.statuses
    # The filters go into matching(): a broad query applies them while scanning.
    found = matching(folded, province, statuses)
    results.broad, results.partial = found.broad, found.partial
    # One grouped query gives the total and both facets. Each facet counts
    # with the *other* filter applied, so after choosing a province the page
    # still shows how many results every other province has.
    province_counts: dict[str, int] = {}
    status_counts: dict[str, int] = {}
    gram = found.tally_gram
    if gram is not None:
        grouped = SearchGramCount.objects.filter(gram=gram).values_list(
            "province_code", "status", "n"
        )
    else:
        grouped = (
            found.queryset.order_by()
            .values_list("province_code", "status")
            .annotate(n=Count("agency_id"))
        )
    for code, status, n in grouped:
        if not statuses or status in statuses:
            province_counts[code] = province_counts.get(code, 0) + n
        if not province or code == province:
            status_counts[status] = status_counts.get(status, 0) + n
            if not statuses or status in statuses:
                results.count += n
    names = dict(Province.objects.filter(code__in=province_counts).values_list("code", "name"))
    results.provinces = sorted(
        (
            Facet("province", code, names.get(code, code), n, code == province)
            for code, n in province_counts.items()
        ),
        key=lambda facet: (-facet.count, facet.value),
    )
    results.statuses = [
        Facet(
            "status",
            status.value,
            str(status.label),
            status_counts[status.value],
            status in statuses,
        )
        for status in Status
        if status.value in status_counts
    ]
    if not results.count:
        return results
    results.page = page = max(1, min(page, results.num_pages, MAX_PAGE))
    filtered = filterset.apply(found.queryset)
    offset = (page - 1) * page_size
    rows = list(
        filtered.order_by("search_rank", "agency_id").values_list("agency_id", "search_rank")[
            offset : offset + page_size
        ]
    )
    ids = [agency_id for agency_id, _ in rows]
    agencies = Agency.objects.for_listing().in_bulk(ids)
    other_names: dict[int, list[str]] = {}
    tiers = {agency_id: rank // 512 for agency_id, rank in rows}
    wanted = [i for i in ids if tiers[i] == MatchTier.OTHER_NAME]
    if wanted:
        for agency_id, name in AgencyName.objects.filter(agency_id__in=wanted).values_list(
            "agency_id", "name"
        ):
            if folded in textnorm.fold_name(name):
                other_names.setdefault(agency_id, []).append(name)
    results.hits = [
        Hit(agencies[i], tiers[i], (other_names.get(i) or [""])[0]) for i in ids if i in agencies
    ]
    return results


# --- Numbers and articles -----------------------------------------------------------------------


def phone_links(key: str) -> list:
    """Every agency that uses the number, with the evidence, in one query."""
    from .models import AgencyPhone

    return list(
        AgencyPhone.objects.filter(phone__key=key)
        .select_related("agency__province", "phone")
        # Credit-code order: the same on every database, whatever its collation.
        .order_by("agency__uscc")
    )


ARTICLE_LIMIT = 5


def matching_articles(text: str) -> list:
    """Published articles matching the query, once the articles app provides them."""
    try:
        from articles.models import Article
    except ImportError:
        # The articles app lands separately; until then the section is hidden.
        return []
    published = getattr(Article.objects, "published", None)
    if published is None or not text:
        return []
    return list(published().matching(text)[:ARTICLE_LIMIT])
