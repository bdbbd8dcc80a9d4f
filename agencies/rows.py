"""Light rows for the lists that show many agencies at once.

A province page shows 25 agencies and a shared number (a call centre's 400
line) dozens; building an Agency, its Province and an AgencyPhone for each
was most of those pages' time (issue 22). These read the columns the row
template (agencies/_agency_row.html) shows and nothing else.
"""

import datetime
from dataclasses import dataclass
from typing import ClassVar

from portal.caching import kept_here
from portal.links import reverse_one
from portal.prepared import PreparedRows

from .enums import Status
from .models import Agency, AgencyPhone, Province


@dataclass(slots=True)
class ListedAgency:
    """One row of a list, read with values_list(): what
    agencies/_agency_row.html and the API's AgencySummary show of an Agency,
    without building an Agency and its Province for each of the 20–25 rows
    (three quarters of a province list's reading time, issue 22). The province
    is the page's own, or one Province per province on the page."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "uscc", "name", "city", "status", "is_sample", "established_on",
    )  # fmt: skip
    province: Province
    uscc: str
    name: str
    city: str
    status: str
    is_sample: bool
    established_on: datetime.date | None

    def get_absolute_url(self) -> str:
        return reverse_one("agencies:agency-detail", "uscc", self.uscc)

    @property
    def is_live(self) -> bool:
        return self.status in Status.live_values()


@dataclass(slots=True)
class NumberLink:
    """An agency behind a number and the evidence for it (an AgencyPhone), as the
    number page shows them: `agency` a ListedAgency, the rest the link's own."""

    agency: ListedAgency
    number_as_reported: str
    label: str
    source: str
    source_url: str
    reported_on: datetime.date | None


# AgencyPhone.objects.for_number() as rows, compiled once (portal.prepared):
# a shared number (a call centre's 400 line) has dozens of agencies, and an
# AgencyPhone, an Agency, a Province and a Phone built for each was most of
# the number page's time. The number page (number_links below) and the API's
# answer for a number (agencies.api) read the same statement.
NUMBER_COLUMNS = (
    *(f"agency__{field}" for field in ListedAgency.FIELDS),
    "agency__province__code",
    "agency__province__name",
    "phone__key",
    "phone__kind",
    "number_as_reported",
    "label",
    "source",
    "source_url",
    "reported_on",
)
number_rows = PreparedRows(
    lambda key: AgencyPhone.objects.for_number(key).values_list(*NUMBER_COLUMNS),
    marker="",
)
_AGENCY_COLUMNS = len(ListedAgency.FIELDS)


def number_links(key: str) -> list[NumberLink]:
    """Every agency that uses the number (a phones key) with its evidence, in
    credit-code order: what `AgencyPhone.objects.for_number(key)` reads, as rows."""
    province = _provinces()
    links = []
    for row in number_rows(key):
        agency, (code, province_name, _key, _kind, *evidence) = (
            row[:_AGENCY_COLUMNS],
            row[_AGENCY_COLUMNS:],
        )
        links.append(NumberLink(ListedAgency(province(code, province_name), *agency), *evidence))
    return links


def _provinces():
    """province(code, name): one Province per province of a list, built from
    the row's two columns, not read again."""
    made: dict[str, Province] = {}

    def province(code: str, name: str) -> Province:
        if code not in made:
            made[code] = Province(code=code, name=name)
        return made[code]

    return province


def listed_agencies(ids) -> dict[int, ListedAgency]:
    """The agencies with these primary keys as rows, by primary key: a search
    page's hits (agencies.search.present), from any province. One query."""
    province = _provinces()
    rows = Agency.objects.rows_by_pk(ids, ListedAgency.FIELDS)
    return {
        pk: ListedAgency(province(code, province_name), *agency)
        for pk, *agency, code, province_name in rows
    }


def province_names(version: int | None = None) -> dict[str, str]:
    """Every province's name by code, as the search facets show them. Given the
    request's data version, kept in the process until the data changes (the
    provinces change only through the admin or a migration, both of which bump
    it, portal.apps): one query fewer for every name search."""
    return kept_here(
        "province-names", version, lambda: dict(Province.objects.values_list("code", "name"))
    )
