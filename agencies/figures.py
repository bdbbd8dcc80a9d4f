"""Figures computed when data changes, so no page counts over a whole table.

- `AgencyTally`: agencies per (province, city, status, sample flag);
- `RegistryTotal`: whole-table counts of phones, phone links, clients, actions;
- `SourceTally`: agencies per cited source.

Two ways they stay true, both inside the writer's transaction:
- bulk writers (`import_agencies`, `load_sample`) call `refresh()`, which
  recounts everything (a few grouped scans, once per import);
- single saves and deletes (the admin, the shell, cascades) adjust them by
  signals (`connect()`), one small upsert per change.
A QuerySet.update() of an agency's province, city, status, sample flag or
source bypasses both; nothing in the code does that, and `manage.py
refresh_figures` recounts if anything ever does.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F
from django.db.models.signals import post_delete, post_save, pre_save

from portal.caching import kept

from .enums import Status
from .models import (
    Agency,
    AgencyPhone,
    AgencyTally,
    Client,
    Phone,
    RegistryTotal,
    RegulatoryAction,
    SourceTally,
)
from .search import textnorm

TOTALS = {
    "phones": Phone,
    "phone_links": AgencyPhone,
    "clients": Client,
    "actions": RegulatoryAction,
}
_TALLIED = ("province_id", "city", "status", "is_sample", "source")


def refresh() -> None:
    """Recount everything from the tables: after a bulk write, in its transaction."""
    with transaction.atomic():
        AgencyTally.objects.all().delete()
        AgencyTally.objects.bulk_create(
            AgencyTally(province_id=province, city=city, status=status, is_sample=sample, n=n)
            for province, city, status, sample, n in Agency.objects.order_by()
            .values_list("province_id", "city", "status", "is_sample")
            .annotate(n=Count("*"))
        )
        SourceTally.objects.all().delete()
        SourceTally.objects.bulk_create(
            SourceTally(source=source, n=n)
            for source, n in Agency.objects.exclude(source="")
            .order_by()
            .values_list("source")
            .annotate(n=Count("*"))
        )
        RegistryTotal.objects.all().delete()
        RegistryTotal.objects.bulk_create(
            RegistryTotal(name=name, n=model.objects.count()) for name, model in TOTALS.items()
        )


def totals() -> dict[str, int]:
    found = dict(RegistryTotal.objects.values_list("name", "n"))
    return {name: found.get(name, 0) for name in TOTALS}


# --- Single changes, by signal ----------------------------------------------------------------


def _add(model, key: dict, delta: int) -> None:
    """n += delta for the row `key`, creating it at delta, deleting it at zero."""
    rows = model.objects.filter(**key)
    if delta > 0 and not rows.update(n=F("n") + delta):
        model.objects.create(**key, n=delta)
    elif delta < 0:
        rows.update(n=F("n") + delta)
        rows.filter(n=0).delete()


def _tally_key(values: dict) -> dict:
    return {
        "province_id": values["province_id"],
        "city": values["city"],
        "status": values["status"],
        "is_sample": values["is_sample"],
    }


def _count_agency(values: dict, delta: int) -> None:
    _add(AgencyTally, _tally_key(values), delta)
    if values["source"]:
        _add(SourceTally, {"source": values["source"]}, delta)


def _remember_old(sender, instance, raw=False, **kwargs):
    # What the row was before this save, to take it off its old tallies.
    instance._tallied = None
    if not raw and not instance._state.adding:
        instance._tallied = Agency.objects.filter(pk=instance.pk).values(*_TALLIED).first()


def _agency_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    new = {name: getattr(instance, name) for name in _TALLIED}
    old = getattr(instance, "_tallied", None)
    if old == new:
        return
    if old is not None:
        _count_agency(old, -1)
    _count_agency(new, +1)


def _agency_deleted(sender, instance, **kwargs):
    _count_agency({name: getattr(instance, name) for name in _TALLIED}, -1)


def _total_changed(name):
    def receiver(sender, instance, created=True, raw=False, **kwargs):
        if raw or not created:
            return
        delta = -1 if kwargs.get("signal") is post_delete else +1
        _add(RegistryTotal, {"name": name}, delta)

    return receiver


_RECEIVERS = {name: _total_changed(name) for name in TOTALS}


def connect() -> None:
    """Called once from AgenciesConfig.ready()."""
    pre_save.connect(_remember_old, sender=Agency, dispatch_uid="figures.agency.pre")
    post_save.connect(_agency_saved, sender=Agency, dispatch_uid="figures.agency.save")
    post_delete.connect(_agency_deleted, sender=Agency, dispatch_uid="figures.agency.delete")
    for name, model in TOTALS.items():
        post_save.connect(_RECEIVERS[name], sender=model, dispatch_uid=f"figures.{name}.save")
        post_delete.connect(_RECEIVERS[name], sender=model, dispatch_uid=f"figures.{name}.delete")


# --- Reading them -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvinceFigures:
    """A province's tallies (one query) and the counts its page shows."""

    rows: tuple[tuple[str, str, int], ...]  # (city, status, n)

    @classmethod
    def of(cls, province) -> "ProvinceFigures":
        rows = AgencyTally.objects.filter(province=province).values_list("city", "status", "n")
        return cls(tuple(rows))

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.rows)

    def count(self, city: str = "", statuses=()) -> int:
        """Agencies in `city` (any if "") with one of `statuses` (any if empty)."""
        return sum(
            n
            for row_city, status, n in self.rows
            if (not city or row_city == city) and (not statuses or status in statuses)
        )

    def by_status(self) -> list[dict]:
        counts: dict[str, int] = {}
        for _, status, n in self.rows:
            counts[status] = counts.get(status, 0) + n
        ordered = sorted(counts.items(), key=lambda i: -i[1])
        # `label`: the status as the page's language names it (Status's labels).
        return [{"status": s, "label": _status_label(s), "n": n} for s, n in ordered]

    def by_city(self, limit: int) -> list[dict]:
        """The `limit` cities with the most agencies, in pinyin order (长沙 before 郴州
        before 株洲), the order a reader looks for a name in."""
        counts: dict[str, int] = {}
        for city, _, n in self.rows:
            if city:
                counts[city] = counts.get(city, 0) + n
        in_pinyin = sorted(counts, key=lambda city: (textnorm.sort_key(city), city))
        # sorted() is stable: among equal counts the first in pinyin is kept.
        largest = set(sorted(in_pinyin, key=counts.__getitem__, reverse=True)[:limit])
        return [{"city": city, "n": counts[city]} for city in in_pinyin if city in largest]


def directory_figures() -> dict:
    """What /about/data/ shows, from the figures: a handful of small queries."""
    tallies = list(AgencyTally.objects.values_list("province_id", "is_sample", "n"))
    return {
        "agencies": sum(n for _, _, n in tallies),
        "sample_agencies": sum(n for _, sample, n in tallies if sample),
        "provinces_covered": len({province for province, _, n in tallies if n}),
        **totals(),
    }


SAMPLE_DATA_TIMEOUT = 3600  # seconds; a new data version is a new key anyway


def has_sample_data(version: int | None = None) -> bool:
    """Whether the directory holds sample records (the banner on every page).

    Read from the tally, a table of a few hundred rows, never the agency table:
    right after an import PostgreSQL may not have analysed it yet, and an
    EXISTS on it was a sequential scan of a million rows (issue 22). Given the
    data version the request already read (portal.caching), the answer is kept
    in the shared cache until the data changes, so most pages ask no query.
    """
    # A function, not the bound `exists` of a queryset: building the queryset
    # (its filter) cost more than the cache read that usually answers.
    return kept(
        "portal:has-sample",
        version,
        lambda: AgencyTally.objects.filter(is_sample=True, n__gt=0).exists(),
        SAMPLE_DATA_TIMEOUT,
    )


def largest_sources(limit: int) -> list[dict]:
    return list(SourceTally.objects.order_by("-n", "source").values("source", "n")[:limit])


def _status_label(value: str) -> str:
    try:
        return str(Status(value).label)
    except ValueError:  # a value the vocabulary no longer has: shown as stored
        return value
