"""The whole check of one message: who is behind it, what it claims, what to do.

Queries: one for the agencies behind the numbers, one for the registered
names in the text, one for its trade names (tradenames.py), one for the
agencies found by name or credit code — whatever the length of the text or
the size of the directory (tests/test_check.py, tests/test_check_names.py).
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q

from .. import phones as phones_lib
from .. import uscc as uscc_lib
from ..models import Agency, AgencyPhone
from . import names, signals, tradenames

MAX_TEXT = 5000  # characters; longer is refused (413), not cut without a word
# Surest first: a registered name before a place and trade name (岳阳鼎盛) before
# a trade name alone (鼎盛).
FOUND_BY_ORDER = ("phone", "credit_code", "name", "place_and_trade_name", "trade_name")


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
    # When only the check character disagrees: the first 17 characters with the
    # one they give. Not the correction: one wrong character anywhere changes
    # the check character, and this code is usually another company's.
    expected: str
    uscc: str = ""  # the directory agency with this very code (a valid code)
    # A directory agency whose code is `expected`: a different company with a
    # similar code, shown with its name; the text never leads to it.
    similar: str = ""
    similar_name: str = ""


@dataclass
class FoundAgency:
    agency: Agency
    found_by: list[str] = field(default_factory=list)
    # The name as it stands in the text, when found by name or trade name: the
    # registered name when there is one, else the first.
    matched_text: str = ""
    matched: dict[str, str] = field(default_factory=dict)  # found_by value -> text

    @property
    def reasons(self) -> list[tuple[str, str]]:
        """(found_by value, the text it matched, or "") in FOUND_BY_ORDER."""
        return [(how, self.matched.get(how, "")) for how in self.found_by]


@dataclass
class SharedName:
    """A trade name in the text that several agencies carry: which one is meant, the
    text does not say (agencies.check.tradenames)."""

    matched_text: str  # as it stands in the text: 恒信, 常德恒信
    agencies: list[Agency]  # the first tradenames.SHOWN of them
    count: int  # how many agencies in the directory carry it


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
    # Trade names the text uses that several agencies share: listed, nobody named.
    candidates: list[SharedName] = field(default_factory=list)

    @property
    def passages(self) -> list[signals.Passage]:
        return signals.passages(self.signals)

    @property
    def found_anything(self) -> bool:
        return bool(
            self.phones or self.credit_codes or self.agencies or self.candidates or self.signals
        )


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
        if matched:
            found.matched.setdefault(how, matched)
        return found

    # Which agencies use the numbers, as ids: their records are read below with
    # everything else the text leads to, in one query.
    by_number = AgencyPhone.objects.agency_ids_for([n.key for n in numbers]) if numbers else []
    folded = names.FoldedText(text)
    hits = names.find(folded)
    known = {*(agency_id for _key, agency_id in by_number), *(hit.agency_id for hit in hits)}
    short = tradenames.find(folded, hits, known)
    wanted_codes = {c.expected or c.code for c in codes if c.valid or c.expected}
    candidates: list[SharedName] = []
    if by_number or hits or short.hits or short.shared or wanted_codes:
        ids = [agency_id for _key, agency_id in by_number]
        ids += [hit.agency_id for hit in hits] + short.agency_ids
        rows = Agency.objects.for_listing().filter(Q(id__in=ids) | Q(uscc__in=wanted_codes))
        by_id = {agency.id: agency for agency in rows}
        by_code = {agency.uscc: agency for agency in rows}
        # The numbers' agencies first, in credit-code order (the same on every database).
        by_key = {number.key: found for number, found in zip(numbers, found_phones, strict=True)}
        linked = [(by_id[agency_id], key) for key, agency_id in by_number if agency_id in by_id]
        for agency, key in sorted(linked, key=lambda pair: (pair[0].uscc, pair[1])):
            note(agency, "phone")
            by_key[key].agencies.append(agency.uscc)
        for code in codes:
            agency = by_code.get(code.expected or code.code)
            if agency is None:
                continue
            if code.valid:
                code.uscc = agency.uscc
                note(agency, "credit_code")
            else:
                code.similar, code.similar_name = agency.uscc, agency.name
        for hit in hits:
            if hit.agency_id in by_id:
                note(by_id[hit.agency_id], "name", hit.matched_text)
        for hit in short.hits:
            if hit.agency_id in by_id:
                note(by_id[hit.agency_id], hit.how, hit.matched_text)
        candidates = _candidates(short.shared, by_id, by_agency, note)

    for found in by_agency.values():
        found.found_by.sort(key=FOUND_BY_ORDER.index)
        found.matched_text = next((text for _, text in found.reasons if text), "")
    found_signals = signals.find(text, called_at)
    return Reading(
        text_length=len(text),
        phones=found_phones,
        credit_codes=codes,
        agencies=list(by_agency.values()),
        signals=found_signals,
        steps=_steps(found_signals),
        truncated=len(numbers) >= phones_lib.FIND_LIMIT,
        candidates=candidates,
    )


def _candidates(shared: list[tradenames.Shared], by_id: dict, by_agency: dict, note):
    """Shared trade names as candidates; one the text led to otherwise (here: by
    its credit code) is that agency's instead."""
    candidates = []
    for each in shared:
        agencies = [by_id[i] for i in each.agency_ids if i in by_id]
        already = [agency for agency in agencies if agency.id in by_agency]
        for agency in already:
            note(agency, each.how, each.matched_text)
        if agencies and not already:
            agencies.sort(key=lambda agency: (not agency.is_live, agency.name_sort, agency.uscc))
            candidates.append(SharedName(each.matched_text, agencies, each.count))
    return candidates


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
    return [rules.step_text(key) for key in keys if key in rules.steps]
