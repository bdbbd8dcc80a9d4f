"""Step 3 of a query: how well each agency matches, and how that is stored.

Every search-index row carries a precomputed integer `rank`; ordering by it
gives the result order. The encoding is private to this module: the index
writer asks `rank_value()` and `with_tier()`, the query asks `text_tier()`
and `ranked()`, and results are read back with `tier_of()`. Nothing else
knows how the number is built:

    rank = tier * _TIER_UNIT + (_DEAD if the agency is not live) + min(len(name), _MAX_LENGTH)

so results come best tier first (exact, prefix, substring, other names,
pinyin, then every keyword of a several-keyword query somewhere in a name),
live agencies before dead ones within a tier, and shorter — closer — names
first.
"""

from django.db import models
from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .models import EntryKind, SearchEntry

_MAX_LENGTH = 255
_DEAD = _MAX_LENGTH + 1
_TIER_UNIT = 2 * _DEAD


class Tier(models.IntegerChoices):
    """How an agency matched; lower is better."""

    EXACT = 0, _("名称完全一致")
    PREFIX = 1, _("名称开头一致")
    SUBSTRING = 2, _("名称包含")
    OTHER_NAME = 3, _("曾用名或别名包含")
    PINYIN = 4, _("拼音一致")
    # Several keywords, each somewhere in one name but not as typed together.
    # Last, and not stored in the index (whose rows hold tiers up to PINYIN),
    # so adding it needed no rebuild.
    ALL_WORDS = 5, _("包含全部关键词")


def rank_value(tier: Tier, is_live: bool, name: str) -> int:
    """The rank of an agency called `name` matched at `tier`."""
    return tier * _TIER_UNIT + (0 if is_live else _DEAD) + min(len(name), _MAX_LENGTH)


def with_tier(base: int, tier: Tier) -> int:
    """`base` (a rank at Tier.EXACT) moved to `tier`: cheaper than rank_value() per gram."""
    return base + tier * _TIER_UNIT


def tier_of(rank: int) -> Tier:
    return Tier(rank // _TIER_UNIT)


def text_tier(folded: str):
    """Best tier of the agency's names that contain `folded`, as a subquery (NULL if none).

    Evaluated per candidate agency (OuterRef("agency_id")). For several
    keywords (``常德 商务``) the tier of the keywords typed together (常德商务),
    and ALL_WORDS for an agency whose names hold them only apart.
    """
    keywords = folded.split()
    phrase = "".join(keywords)
    tier = Case(
        When(kind=EntryKind.NAME, folded=phrase, then=Value(Tier.EXACT)),
        When(kind=EntryKind.NAME, folded__startswith=phrase, then=Value(Tier.PREFIX)),
        When(kind=EntryKind.NAME, then=Value(Tier.SUBSTRING)),
        default=Value(Tier.OTHER_NAME),
        output_field=IntegerField(),
    )
    entries = (
        SearchEntry.objects.filter(agency_id=OuterRef("agency_id"), folded__contains=phrase)
        .annotate(tier=tier)
        .order_by("tier")
        .values("tier")[:1]
    )
    best = Subquery(entries, output_field=IntegerField())
    if len(keywords) > 1:
        return Coalesce(best, Value(Tier.ALL_WORDS), output_field=IntegerField())
    return best


def text_tier_sql(entry: str, phrase: str) -> tuple[str, list]:
    """text_tier() of one SearchEntry row, as SQL: `entry` is the row's alias in a
    query that has already checked that it contains `phrase` (one keyword).

    For the raw statements of agencies.search.candidates (`_phrase_sql()`), which
    take the best tier with MIN() over an agency's matching rows instead of a
    subquery per agency. `phrase` is folded text (letters and digits only), so
    the LIKE pattern has no wildcard it did not mean.
    """
    name = str(EntryKind.NAME)
    sql = (
        f"CASE WHEN {entry}.kind = %s AND {entry}.folded = %s THEN {int(Tier.EXACT)} "
        f"WHEN {entry}.kind = %s AND {entry}.folded LIKE %s THEN {int(Tier.PREFIX)} "
        f"WHEN {entry}.kind = %s THEN {int(Tier.SUBSTRING)} "
        f"ELSE {int(Tier.OTHER_NAME)} END"
    )
    return sql, [name, phrase, name, phrase + "%", name]


def ranked_sql(tier_sql: str, rank_column: str) -> str:
    """ranked() as SQL: `tier_sql` gives a Tier, `rank_column` is an agency row's rank."""
    return f"({tier_sql}) * {_TIER_UNIT} + {rank_column}"


def ranked(tier):
    """The rank expression for per-agency index rows (whose own rank is at Tier.EXACT).

    `tier`: a Tier, or an expression giving one per row (e.g. text_tier()).
    """
    if not hasattr(tier, "resolve_expression"):
        tier = Value(int(tier))
    return tier * Value(_TIER_UNIT) + F("rank")
