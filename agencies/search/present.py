"""Step 4 of a query: what a results page (or the API) shows.

`search_names()` runs a name query for one page: the total, the province and
status facets, and the page's hits with how each matched. The number page's
and the credit-code answer's queries live on the models' querysets
(`AgencyPhone.objects.for_number()`, `Agency.objects.for_listing()`).
"""

from collections import Counter
from dataclasses import dataclass, field

from django.core.paginator import Page

from portal.paging import CappedPaginator, CountedRows

from ..enums import Status
from ..models import AgencyName
from ..rows import ListedAgency, listed_agencies, province_names
from . import rank, suggest, textnorm
from .candidates import Matches, matching, reading
from .models import SearchGramCount
from .rank import Tier


@dataclass
class Hit:
    agency: ListedAgency
    tier: Tier
    # The former name or alias that matched, when the current name did not.
    matched_name: str = ""

    @property
    def tier_label(self) -> str:
        return str(self.tier.label)

    @property
    def by_pinyin(self) -> bool:
        return self.tier == Tier.PINYIN


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
    count: int = 0
    # One page of Hits (portal.paging), or None when nothing matched.
    page: Page | None = None
    provinces: list[Facet] = field(default_factory=list)
    statuses: list[Facet] = field(default_factory=list)
    # A broad query (see candidates.SCAN_LIMIT): facets list what the filters
    # allow but carry no counts; partial: `count` covers only the candidates
    # checked, so it is a lower bound.
    broad: bool = False
    partial: bool = False
    # The query as typed found nothing; these are the results of `folded`, a
    # correction of it (agencies.search.suggest). `other_suggestions`: more
    # corrections to offer as links.
    searched: str = ""
    other_suggestions: list[str] = field(default_factory=list)

    @property
    def suggested(self) -> bool:
        return bool(self.searched)

    @property
    def hits(self) -> list[Hit]:
        return list(self.page.object_list) if self.page else []


def search_names(
    folded: str,
    filterset,
    *,
    page=1,
    page_size: int = 20,
    suggest_corrections: bool = False,
    version: int | None = None,
) -> NameResults:
    """Count, facets and one page of the agencies matching `folded`.

    `suggest_corrections`: when nothing matches, the results of the first
    correction that finds something (`suggest.corrections()`: the same pinyin,
    one character edited), with `searched` saying what was typed. A fixed
    number of queries more, and only for a query that found nothing.
    `version`: the request's data version, which lets the province names of
    the facets come from memory (agencies.rows.province_names).
    """
    results = _search(folded, filterset, page=page, page_size=page_size, version=version)
    if results.count or results.broad or not suggest_corrections:
        return results
    if any(f.count for f in (*results.provinces, *results.statuses)):
        # Found, only not within the filters (each facet counts with the other
        # filter alone): the query is right, there is nothing to correct.
        return results
    corrections = suggest.corrections(folded)
    # Each try is a whole search; a correction of one keyword of several may
    # still find nothing together with the others.
    for tried, correction in enumerate(corrections):
        found = _search(correction, filterset, page=page, page_size=page_size, version=version)
        if found.count:
            found.searched = folded
            found.other_suggestions = corrections[tried + 1 :]
            return found
    return results


def _search(
    folded: str, filterset, *, page=1, page_size: int = 20, version: int | None = None
) -> NameResults:
    """Count, facets and one page of the agencies matching `folded`.

    `filterset`: a SearchHitFilter over the request's parameters; its valid
    province and status narrow the hits (invalid ones are ignored). `page`: a
    number as typed; one that is not a number or past the end gives the
    nearest real page (`results.page.number` says which). A fixed number of
    queries whatever the data: the gram counts, the matches with their province
    and status (for a one-gram query: its tallies, and the page's rows), province
    names (none with the data version), the page's agencies, and former names
    when needed.
    """
    results = NameResults(folded)
    if not folded:
        return results
    selected = filterset.province
    province = selected.code if selected else ""
    statuses = filterset.statuses
    # The filters go into matching(): a broad query applies them while scanning.
    found = matching(folded, province, statuses)
    results.broad, results.partial = found.broad, found.partial
    if found.tally_gram is not None:
        # One gram's rows: counted in SearchGramCount, paged straight off its index.
        grouped = SearchGramCount.objects.filter(gram=found.tally_gram).values_list(
            "province_code", "status", "n"
        )
        rows = filterset.apply(found.queryset).order_by("search_rank", "agency_id")

        def ranked(offset: int, limit: int) -> list[tuple[int, int]]:
            return list(rows.values_list("agency_id", "search_rank")[offset : offset + limit])

    else:
        grouped, in_order = _matched(found, province, statuses)

        def ranked(offset: int, limit: int) -> list[tuple[int, int]]:
            return in_order[offset : offset + limit]

    results.count, results.provinces, results.statuses = _tally(
        grouped, province, statuses, province_names(version)
    )
    if results.count:

        def fetch(offset: int, limit: int) -> list[Hit]:
            return _hits(folded, ranked(offset, limit))

        paginator = CappedPaginator(CountedRows(results.count, fetch), page_size)
        results.page = paginator.get_page(page)
    return results


def _matched(found: Matches, province: str, statuses) -> tuple[list, list[tuple[int, int]]]:
    """Every match of a query checked candidate by candidate, in one query: the
    (province, status, n) groups for the facets, and (agency_id, rank) within the
    filters in result order.

    There are at most candidates.SCAN_LIMIT candidates per alternative, so the
    rows are few; verifying them once here, rather than once for the counts and
    again for the page, halves the cost of a broad query (石家庄 in pinyin at a
    million agencies).
    """
    if found.sql is not None:
        with reading().cursor() as cursor:
            cursor.execute(*found.sql)
            rows = cursor.fetchall()
    else:
        rows = found.queryset.order_by().values_list(
            "agency_id", "province_code", "status", "search_rank"
        )
    groups: Counter = Counter()
    in_order = []
    for agency_id, code, status, search_rank in rows:
        groups[code, status] += 1
        if (not province or code == province) and (not statuses or status in statuses):
            in_order.append((search_rank, agency_id))
    in_order.sort()
    grouped = [(code, status, n) for (code, status), n in groups.items()]
    return grouped, [(agency_id, search_rank) for search_rank, agency_id in in_order]


def _tally(
    grouped, province: str, statuses, names: dict[str, str]
) -> tuple[int, list[Facet], list[Facet]]:
    """The total within the filters, and the province and status facets, from
    (province, status, n) groups.

    Each facet counts with the *other* filter applied, so after choosing a
    province the page still shows how many results every other province has.
    """
    province_counts: dict[str, int] = {}
    status_counts: dict[str, int] = {}
    total = 0
    for code, status, n in grouped:
        if not statuses or status in statuses:
            province_counts[code] = province_counts.get(code, 0) + n
        if not province or code == province:
            status_counts[status] = status_counts.get(status, 0) + n
            if not statuses or status in statuses:
                total += n
    province_facets = sorted(
        (
            Facet("province", code, names.get(code, code), n, code == province)
            for code, n in province_counts.items()
        ),
        key=lambda facet: (-facet.count, facet.value),
    )
    status_facets = [
        Facet("status", status.value, str(status.label), status_counts[status], status in statuses)
        for status in Status
        if status.value in status_counts
    ]
    return total, province_facets, status_facets


def _hits(folded: str, page: list[tuple[int, int]]) -> list[Hit]:
    """One page of (agency_id, search_rank) as Hits, with the matching former name
    where that matched."""
    ids = [agency_id for agency_id, _ in page]
    agencies = listed_agencies(ids)
    tiers = {agency_id: rank.tier_of(value) for agency_id, value in page}
    keywords = textnorm.query_keywords(folded)
    phrase = "".join(keywords)

    def names_it(name: str, tier: Tier) -> bool:
        # The keywords typed together (OTHER_NAME), or each of them (ALL_WORDS).
        folded_name = textnorm.fold_name(name)
        if tier == Tier.ALL_WORDS:
            return all(keyword in folded_name for keyword in keywords)
        return phrase in folded_name

    other_names: dict[int, list[str]] = {}
    wanted = [
        i
        for i in ids
        if tiers[i] == Tier.OTHER_NAME
        or (
            tiers[i] == Tier.ALL_WORDS
            and i in agencies
            and not names_it(agencies[i].name, tiers[i])
        )
    ]
    if wanted:
        for agency_id, name in AgencyName.objects.filter(agency_id__in=wanted).values_list(
            "agency_id", "name"
        ):
            if names_it(name, tiers[agency_id]):
                other_names.setdefault(agency_id, []).append(name)
    return [
        Hit(agencies[i], tiers[i], (other_names.get(i) or [""])[0]) for i in ids if i in agencies
    ]
