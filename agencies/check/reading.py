"""The whole check of one message: who is behind it, what it claims, what to do.

Queries: one for the agencies behind the numbers, one for the names in the
text, one for the agencies found by name or credit code — whatever the
length of the text or the size of the directory (tests/test_check.py).
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q

from .. import phones as phones_lib
from .. import uscc as uscc_lib
from ..models import Agency, AgencyPhone
from . import names, signals

MAX_TEXT = 5000  # characters; longer is refused (413), not cut without a word
FOUND_BY_ORDER = ("phone", "credit_code", "name")


class TextTooLong(ValueError):
    pass


@dataclass
class FoundPhone:
    number: phones_lib.Phone
    agencies: list[str] = field(default_factory=list)  # credit codes, in order


@dataclass
class FoundCode:
    code: str
    valid: bool
    message: str  # why it is wrong, when it is
    expected: str  # the code with the right check character, when only that is wrong
    uscc: str = ""  # the agency in the directory it leads to (the code, or the expected one)


@dataclass
class FoundAgency:
    agency: Agency
    found_by: list[str] = field(default_factory=list)
    matched_text: str = ""  # the name as it stands in the text, when found by name


@dataclass
class Reading:
    text_length: int
    phones: list[FoundPhone]
    credit_codes: list[FoundCode]
    agencies: list[FoundAgency]
    signals: list[signals.Signal]
    steps: list[str]
    # More numbers than phones.FIND_LIMIT: the rest were not read.
    truncated: bool = False

    @property
    def found_anything(self) -> bool:
        return bool(self.phones or self.credit_codes or self.agencies or self.signals)


def read(text: str, called_at: datetime.time | None = None) -> Reading:
    if len(text) > MAX_TEXT:
        raise TextTooLong(len(text))
    numbers = phones_lib.find_in_text(text)
    found_phones = [FoundPhone(number) for number in numbers]
    codes = [_code(code) for code in uscc_lib.find_in_text(text)]
    by_agency: dict[int, FoundAgency] = {}

    def note(agency, how: str, matched: str = "") -> FoundAgency:
        found = by_agency.setdefault(agency.id, FoundAgency(agency))
        if how not in found.found_by:
            found.found_by.append(how)
        found.matched_text = found.matched_text or matched
        return found

    if numbers:
        links = AgencyPhone.objects.filter(phone__key__in=[n.key for n in numbers]).select_related(
            "agency__province", "phone"
        )
        by_key = {number.key: found for number, found in zip(numbers, found_phones, strict=True)}
        for link in links.order_by("agency__uscc"):
            note(link.agency, "phone")
            by_key[link.phone.key].agencies.append(link.agency.uscc)

    hits = names.find(text)
    wanted_codes = {c.expected or c.code for c in codes if c.valid or c.expected}
    if hits or wanted_codes:
        rows = Agency.objects.for_listing().filter(
            Q(id__in=[hit.agency_id for hit in hits]) | Q(uscc__in=wanted_codes)
        )
        by_id = {agency.id: agency for agency in rows}
        by_code = {agency.uscc: agency for agency in rows}
        for code in codes:
            agency = by_code.get(code.expected or code.code)
            if agency is not None:
                code.uscc = agency.uscc
                note(agency, "credit_code")
        for hit in hits:
            if hit.agency_id in by_id:
                note(by_id[hit.agency_id], "name", hit.matched_text)

    for found in by_agency.values():
        found.found_by.sort(key=FOUND_BY_ORDER.index)
    found_signals = signals.find(text, called_at)
    return Reading(
        text_length=len(text),
        phones=found_phones,
        credit_codes=codes,
        agencies=list(by_agency.values()),
        signals=found_signals,
        steps=_steps(found_signals),
        truncated=len(numbers) >= phones_lib.FIND_LIMIT,
    )


def _code(code: str) -> FoundCode:
    try:
        return FoundCode(uscc_lib.validate(code), True, "", "")
    except uscc_lib.UsccError as error:
        expected = code[:17] + error.expected_check if error.expected_check else ""
        return FoundCode(code, False, error.message, expected)


def _steps(found: list[signals.Signal]) -> list[str]:
    """The signals' steps, most urgent signal first, each once; without any
    signal, the two that always apply (verify the company, keep evidence)."""
    rules = signals.rules()
    keys: list[str] = []
    for signal in found:
        keys.extend(key for key in signal.rule.steps if key not in keys)
    if not keys:
        keys = ["verify_company", "evidence"]
    return [rules.steps[key] for key in keys if key in rules.steps]
