"""Checking one record: field parsers, check_record() and ProvinceResolver."""

import dataclasses
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from .. import phones as phones_lib
from .. import uscc as uscc_lib
from ..enums import ActionKind, ChangeField, ChangeVia, NameKind, Status
from ..models import (
    Agency,
    AgencyChange,
    AgencyName,
    AgencyPhone,
    Client,
    Province,
    RegulatoryAction,
)
from ..search import index as search_index
from ..search import textnorm
from .columns import ACTION_FIELDS, CLIENT_FIELDS, FIELDS, HISTORY_FIELDS, PHONE_FIELDS
from .problems import InvalidInput, Problem
from .reading import RawRecord, json_type_name

# Plain agency text columns; max lengths come from the model so they cannot drift.
_AGENCY_TEXT = (
    "name",
    "city",
    "entity_type",
    "legal_representative",
    "registered_capital",
    "registration_authority",
    "address",
    "business_scope",
    "source",
)


def _max_length(model, name: str) -> int | None:
    return model._meta.get_field(name).max_length


# business_scope is a TextField: no limit.
_AGENCY_MAX = {name: _max_length(Agency, name) or sys.maxsize for name in _AGENCY_TEXT}
_NAME_MAX = _max_length(AgencyName, "name")
_URL_MAX = _max_length(Agency, "source_url")
_PHONE_MAX = {
    "number": _max_length(AgencyPhone, "number_as_reported"),
    "label": _max_length(AgencyPhone, "label"),
    "source": _max_length(AgencyPhone, "source"),
}
_CLIENT_NAME_MAX = _max_length(Client, "name")
_ACTION_MAX = {
    "authority": _max_length(RegulatoryAction, "authority"),
    "document_number": _max_length(RegulatoryAction, "document_number"),
}


def _show(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def _text(value, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif not isinstance(value, str):
        raise InvalidInput(f"应为文本，这里是{json_type_name(value)}。")
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(f"太长了：最多 {max_length} 个字符，这里有 {len(value)} 个。")
    return value


# Control characters are never meant, NUL breaks PostgreSQL, and lone surrogates
# (possible through JSON "\ud800" escapes) cannot be stored as UTF-8 at all.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _scan_unstorable(value, where: str, report) -> None:
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            report(where, "含有不可见的控制字符，请删去。")
    elif isinstance(value, list):
        for index, item in enumerate(value, 1):
            _scan_unstorable(item, f"{where}[{index}]", report)
    elif isinstance(value, dict):
        for key, item in value.items():
            _scan_unstorable(item, f"{where}.{key}" if where else str(key), report)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The other ways people write a date: 2019/3/5, 2019.3.5, 2019-3-5, 2019年3月5日.
_OTHER_DATE = re.compile(
    r"(\d{4})\s*(?:([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?)"
)
DATE_FORMS = "YYYY-MM-DD（也可以写 2019/3/5、2019.3.5 或 2019年3月5日）"


def parse_date(value) -> str | None:
    """The date as ISO text, checked. Dates stay text through the pipeline: that is what
    SQLite stores and COPY reads, and text crosses the process boundary for free."""
    text = _text(value)
    if not text:
        return None
    if _ISO_DATE.fullmatch(text):
        iso = text
    else:
        # Full-width digits and punctuation (２０１９／３／５) are the same date.
        match = _OTHER_DATE.fullmatch(unicodedata.normalize("NFKC", text))
        if not match:
            raise InvalidInput(f"日期格式应为 {DATE_FORMS}，这里是“{_show(text)}”。")
        year, _, month, day, month_zh, day_zh = match.groups()
        iso = f"{year}-{int(month or month_zh):02d}-{int(day or day_zh):02d}"
    try:
        date.fromisoformat(iso)
    except ValueError:
        raise InvalidInput(f"没有这一天：“{text}”。") from None
    return iso


_url_validator = URLValidator(schemes=["http", "https"])


@lru_cache(maxsize=4096)
def _url_problem(text: str) -> str:
    if not text.lower().startswith(("http://", "https://")):
        return f"网址应以 http:// 或 https:// 开头，这里是“{_show(text)}”。"
    try:
        _url_validator(text)
    except ValidationError:
        return f"不是有效的网址：“{_show(text)}”。"
    return ""


def parse_url(value) -> str:
    text = _text(value, _URL_MAX)
    if text:
        problem = _url_problem(text)
        if problem:
            raise InvalidInput(problem)
    return text


def check_defaults(defaults: dict) -> tuple[dict, list[Problem]]:
    """The command's --source, --source-url and --retrieved-on, checked once, as the
    fields they stand in for; empty ones left out."""
    parsers = {
        "source": lambda value: _text(value, _AGENCY_MAX["source"]),
        "source_url": parse_url,
        "retrieved_on": parse_date,
    }
    clean, problems = {}, []
    for key, value in defaults.items():
        if value is None:
            continue
        option = "--" + key.replace("_", "-")
        if isinstance(value, str) and _UNSTORABLE.search(value):
            problems.append(Problem(option, 0, "", "含有不可见的控制字符，请删去。"))
            continue
        try:
            value = parsers[key](value)
        except InvalidInput as exc:
            problems.append(Problem(option, 0, "", exc.message))
            continue
        if value:
            clean[key] = value
    return clean, problems


_TRUE = {"true", "1", "yes", "y", "是", "真"}
_FALSE = {"false", "0", "no", "n", "否", "假", ""}


def parse_bool(value) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    raise InvalidInput(f"应为 true 或 false，这里是“{_show(str(value))}”。")


# The parsers fold case and width and build translated labels on every call;
# files repeat a handful of spellings, so remember them.
_parse_status = lru_cache(maxsize=256)(Status.parse)
_parse_action_kind = lru_cache(maxsize=256)(ActionKind.parse)

_CAPITAL_NOISE = re.compile(r"[\s,()]")
_CAPITAL = re.compile(r"(\d+(?:\.\d+)?)(亿|万)?(元)?(人民币)?(元)?")
_WAN_LIMIT = Decimal(10) ** 12  # max_digits=16 with decimal_places=4 leaves 12 integer digits
_FOUR_PLACES = Decimal("0.0001")


def wan_text(amount: Decimal) -> str:
    """An amount in 万元 as checked records carry it: text with the column's four places."""
    return str(amount.quantize(_FOUR_PLACES))


@lru_cache(maxsize=8192)
def capital_in_wan(text: str) -> Decimal | None:
    """The registered capital in 万元 when the text states a renminbi amount with a unit.

    "1000万人民币" → 1000, "500万元" → 500, "1亿元" → 10000, "5000000元" → 500.
    Foreign currencies ("300万美元") and bare numbers (unit unknown) give None:
    a wrong figure would be worse than none.
    """
    cleaned = _CAPITAL_NOISE.sub("", unicodedata.normalize("NFKC", text or ""))
    match = _CAPITAL.fullmatch(cleaned.removeprefix("人民币"))
    if not match:
        return None
    number, unit, yuan, rmb, yuan_after = match.groups()
    if not (unit or yuan or rmb or yuan_after):
        return None
    amount = Decimal(number)
    if unit == "亿":
        amount *= 10000
    elif unit is None:
        amount /= 10000
    amount = amount.quantize(_FOUR_PLACES)
    return amount if amount < _WAN_LIMIT else None


@lru_cache(maxsize=65536)
def phone_key(raw: str) -> tuple[str, str] | None:
    """(key, kind) exactly as agencies.phones.normalize gives them, without the
    region and carrier look-ups the importer does not store."""
    return phones_lib.classify(raw)


class PhoneEntry(NamedTuple):
    key: str
    kind: str
    number: str
    # Evidence fields the file gives; the rest fall back to the record's source.
    given: dict


class ClientEntry(NamedTuple):
    name: str
    given: dict


class ActionEntry(NamedTuple):
    identity: tuple  # (kind, authority, decided_on, document_number)
    given: dict


class HistoryEntry(NamedTuple):
    """A history entry as an export wrote it (models.AgencyChange), to be kept as it is."""

    identity: tuple  # (field, old, new, changed_at in UTC ISO text)
    values: dict  # AgencyChange attname -> value, changed_at and retrieved_on as ISO text


@dataclass(slots=True)
class CleanRecord:
    origin: str
    line: int
    uscc: str  # "" when the code is missing or wrong
    values: dict  # Agency attname -> value, only for the keys the record gives
    province_text: str  # as the file wrote it; resolved by ProvinceResolver
    names: list[tuple[str, str]]
    phones: list[PhoneEntry]
    clients: list[ClientEntry]
    actions: list[ActionEntry]
    problems: list[Problem]
    history: list[HistoryEntry] = dataclasses.field(default_factory=list)
    derived_province: str = ""  # from the USCC; used only when the agency is new
    # (name, status, search_index.build(...)) for a clean record: the search
    # index rows of the agency it creates, computed in the checking process.
    search: tuple | None = None
    sheet: str = ""  # a workbook's sheet: `line` is its row

    def problem(self, field_name: str, message: str) -> Problem:
        return Problem(self.origin, self.line, field_name, message, self.sheet)


_ALLOWED = frozenset(FIELDS)
_PHONE_ALLOWED = frozenset(PHONE_FIELDS)
_CLIENT_ALLOWED = frozenset(CLIENT_FIELDS)
_ACTION_ALLOWED = frozenset(ACTION_FIELDS)
_HISTORY_ALLOWED = frozenset(HISTORY_FIELDS)


def check_record(raw: RawRecord) -> CleanRecord:
    """Everything about a record that needs no database; see ProvinceResolver for the rest.

    The result carries its problems; with any, it must not be written.
    Problems come in the order of the steps below, so a record always gives
    the same list.
    """
    origin, line, data, sheet = raw.origin, raw.line, raw.data, raw.sheet
    problems: list[Problem] = list(raw.problems or ())
    if data is None:
        return CleanRecord(origin, line, "", {}, "", [], [], [], [], problems, sheet=sheet)

    def report(field_name: str, message: str) -> None:
        problems.append(Problem(origin, line, field_name, message, sheet))

    if raw.scan:
        _scan_unstorable(data, "", report)
    for key in data.keys() - _ALLOWED:
        report(str(key), "不认识的字段（可用的字段见 docs/import-format.md）。")
    code = _uscc(data, report)
    values = _agency_values(data, report)
    province_text = _province_text(data, report)
    names = _other_names(data, report)
    phones = _entries(data, "phones", _phone, attrgetter("key"), report)
    clients = _entries(data, "clients", _client, attrgetter("name"), report)
    actions = _entries(data, "actions", _action, attrgetter("identity"), report)
    history = _entries(data, "history", _history, attrgetter("identity"), report)
    return CleanRecord(
        origin,
        line,
        code,
        values,
        province_text,
        names,
        phones,
        clients,
        actions,
        problems,
        history,
        search=None if problems else _search_rows(values, names),
        sheet=sheet,
    )


def _uscc(data: dict, report) -> str:
    """The record's credit code, normalised and checked; "" if it has none that is right."""
    if "uscc" not in data:
        report("uscc", "缺少统一社会信用代码。")
        return ""
    try:
        return uscc_lib.validate(_text(data["uscc"]))
    except (InvalidInput, uscc_lib.UsccError) as exc:
        report("uscc", exc.message)
        return ""


def _parse_status_value(value) -> str:
    text = _text(value)
    status = _parse_status(text) if text else Status.OTHER
    if status is None:
        allowed = "、".join(Status.values)
        raise InvalidInput(f"不认识的登记状态“{_show(text)}”，可用：{allowed}。")
    return status.value


# Agency fields that are not plain text, with their parsers, in the format's order.
_AGENCY_PARSED = (
    ("established_on", parse_date),
    ("retrieved_on", parse_date),
    ("source_url", parse_url),
    ("status", _parse_status_value),
    ("is_sample", parse_bool),
)


def _agency_values(data: dict, report) -> dict:
    """The agency's own fields the record gives, by Agency attname, with the two
    derived from them: name_sort and registered_capital_wan."""
    if "name" not in data:
        report("name", "缺少机构名称。")
    values = _agency_texts(data, report)
    if values.get("name") == "":
        report("name", "机构名称不能为空。")
    elif "name" in values:
        values["name_sort"] = textnorm.sort_key(values["name"])
    if "registered_capital" in values:
        wan = capital_in_wan(values["registered_capital"])
        values["registered_capital_wan"] = None if wan is None else wan_text(wan)
    for key, parse in _AGENCY_PARSED:
        if key in data:
            try:
                values[key] = parse(data[key])
            except InvalidInput as exc:
                report(key, exc.message)
    return values


def _agency_texts(data: dict, report) -> dict:
    texts = {}
    for key in _AGENCY_TEXT:
        if key in data:
            value = data[key]
            # The common case inline: this runs for every field of every record.
            if type(value) is str and len(value) <= _AGENCY_MAX[key]:
                texts[key] = value.strip()
                continue
            try:
                texts[key] = _text(value, _AGENCY_MAX[key])
            except InvalidInput as exc:
                report(key, exc.message)
    return texts


def _province_text(data: dict, report) -> str:
    """The province as written; ProvinceResolver settles what it means."""
    try:
        return _text(data.get("province"))
    except InvalidInput as exc:
        report("province", exc.message)
        return ""


def _other_names(data: dict, report) -> list[tuple[str, str]]:
    """(kind, name) for the former names and aliases, each once, in the file's order."""
    names = []
    for key, kind in (("former_names", NameKind.FORMER), ("aliases", NameKind.ALIAS)):
        for index, item in _items(data, key, report):
            try:
                text = _text(item, _NAME_MAX)
            except InvalidInput as exc:
                report(f"{key}[{index}]", exc.message)
                continue
            if text and (kind.value, text) not in names:
                names.append((kind.value, text))
    return names


def _search_rows(values: dict, names: list[tuple[str, str]]) -> tuple:
    """(name, status, search_index.build(...)) for a clean record.

    Only used if the record creates its agency, when the row's name and
    status are exactly these; otherwise the writer reindexes from the
    database. Folding and pinyin are a large part of an import's work, and
    this runs in the checking process.
    """
    status = values.get("status", Status.OTHER.value)
    return (values["name"], status, search_index.build(values["name"], status, names))


class ProvinceResolver:
    """Settles a record's province, the one check that needs the database.

    Remembers what each spelling resolved to, so an import asks the database
    once per distinct spelling rather than once per record.
    """

    def __init__(self):
        self._codes: set[str] | None = None
        self._lookup: dict[str, str | InvalidInput] = {}

    def code(self, text: str) -> str:
        """The code of the province a file names ("43", "湖南省", "湖南", "湘", "hunan")."""
        found = self._lookup.get(text)
        if found is None:
            found = self._lookup[text] = self._find(text)
        if isinstance(found, InvalidInput):
            raise found
        return found

    @staticmethod
    def _find(text: str) -> str | InvalidInput:
        matches = list(Province.objects.by_code_or_name(text))
        if len(matches) > 1:
            exact = [p for p in matches if text in (p.name, p.short_name, p.short_name_alt, p.slug)]
            if len(exact) != 1:
                names = "、".join(p.name for p in matches)
                return InvalidInput(f"“{_show(text)}”可能是多个省份（{names}），请写全称或代码。")
            matches = exact
        if not matches:
            return InvalidInput(
                f"不认识的省份“{_show(text)}”：请写省级行政区名称或两位代码，如“湖南省”或“43”。"
            )
        return matches[0].code

    def resolve(self, record: CleanRecord) -> None:
        """Set the record's province, or add a problem to it."""
        if record.province_text:
            try:
                # Given wins over the USCC's region: agencies move, codes stay.
                record.values["province_id"] = self.code(record.province_text)
            except InvalidInput as exc:
                record.problems.append(record.problem("province", exc.message))
        elif record.uscc:
            derived = uscc_lib.province_code(record.uscc)
            if self._codes is None:
                self._codes = set(Province.objects.values_list("code", flat=True))
            if derived in self._codes:
                record.derived_province = derived
            else:
                record.problems.append(
                    record.problem(
                        "province",
                        f"统一社会信用代码第3–4位“{derived}”不是省级行政区代码，"
                        "无法推出省份，请填写 province。",
                    )
                )


def _items(data: dict, key: str, report) -> Iterable[tuple[int, object]]:
    """A list's items numbered from 1, as a person counts them in the messages."""
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        report(key, f"应为列表，这里是{json_type_name(value)}。")
        return ()
    return enumerate(value, 1)


def _entries(data: dict, key: str, parse, identity, report) -> list:
    """The items of a list that parse, each identity once: the first one wins."""
    found: dict = {}
    for index, item in _items(data, key, report):
        entry = parse(item, f"{key}[{index}]", report)
        if entry is not None:
            found.setdefault(identity(entry), entry)
    return list(found.values())


def _object(item, where: str, allowed: frozenset, report) -> dict | None:
    if not isinstance(item, dict):
        report(where, f"应为对象 {{…}}，这里是{json_type_name(item)}。")
        return None
    for key in item.keys() - allowed:
        report(f"{where}.{key}", "不认识的字段。")
    return item


def _given(item: dict, where: str, parsers: dict, report) -> dict | None:
    """The optional fields an item gives, parsed; None if any is wrong."""
    given, ok = {}, True
    for key, parse in parsers.items():
        if key in item:
            try:
                given[key] = parse(item[key])
            except InvalidInput as exc:
                report(f"{where}.{key}", exc.message)
                ok = False
    return given if ok else None


_PHONE_GIVEN = {
    "label": lambda value: _text(value, _PHONE_MAX["label"]),
    "source": lambda value: _text(value, _PHONE_MAX["source"]),
    "source_url": parse_url,
    "reported_on": parse_date,
}
_CLIENT_GIVEN = {"since": parse_date, "until": parse_date, "source_url": parse_url}
_ACTION_GIVEN = {"summary": _text, "source_url": parse_url}


def _phone(item, where: str, report) -> PhoneEntry | None:
    if isinstance(item, str):
        item = {"number": item}
    if _object(item, where, _PHONE_ALLOWED, report) is None:
        return None
    parsed = None
    try:
        number = _text(item.get("number"), _PHONE_MAX["number"])
    except InvalidInput as exc:
        report(f"{where}.number", exc.message)
    else:
        parsed = phone_key(number) if number else None
        if parsed is None:
            message = f"不是有效的电话号码：“{_show(number)}”。" if number else "缺少电话号码。"
            report(f"{where}.number", message)
    given = _given(item, where, _PHONE_GIVEN, report) if len(item) > 1 else {}
    if parsed is None or given is None:
        return None
    return PhoneEntry(parsed[0], parsed[1], number, given)


def _client(item, where: str, report) -> ClientEntry | None:
    if isinstance(item, str):
        item = {"name": item}
    if _object(item, where, _CLIENT_ALLOWED, report) is None:
        return None
    name = None
    try:
        name = _text(item.get("name"), _CLIENT_NAME_MAX) or None
    except InvalidInput as exc:
        report(f"{where}.name", exc.message)
    else:
        if name is None:
            report(f"{where}.name", "缺少委托方名称。")
    given = _given(item, where, _CLIENT_GIVEN, report)
    if given is not None:
        since, until = given.get("since"), given.get("until")
        if since and until and since > until:
            report(f"{where}.until", f"结束日期 {until} 早于起始日期 {since}。")
            given = None
    if name is None or given is None:
        return None
    return ClientEntry(name, given)


def _action(item, where: str, report) -> ActionEntry | None:
    if _object(item, where, _ACTION_ALLOWED, report) is None:
        return None
    ok = True
    kind = None
    try:
        text = _text(item.get("kind"))
    except InvalidInput as exc:
        report(f"{where}.kind", exc.message)
        ok = False
    else:
        kind = _parse_action_kind(text) if text else None
        if kind is None:
            allowed = "、".join(f"{k.value}（{k.label}）" for k in ActionKind)
            shown = f"不认识的类别“{_show(text)}”" if text else "缺少类别"
            report(f"{where}.kind", f"{shown}，可用：{allowed}。")
            ok = False
    identity = {}
    for key, parse in (
        ("authority", lambda value: _text(value, _ACTION_MAX["authority"])),
        ("decided_on", parse_date),
        ("document_number", lambda value: _text(value, _ACTION_MAX["document_number"])),
    ):
        try:
            identity[key] = parse(item.get(key))
        except InvalidInput as exc:
            report(f"{where}.{key}", exc.message)
            ok = False
    given = _given(item, where, _ACTION_GIVEN, report)
    if not ok or given is None:
        return None
    return ActionEntry(
        (kind.value, identity["authority"], identity["decided_on"], identity["document_number"]),
        given,
    )


_HISTORY_SOURCE_MAX = _max_length(AgencyChange, "source")


def parse_datetime(value) -> str:
    """An ISO 8601 moment, as exports write them, in UTC; one without a zone is the site's
    time. Text, like every value a checked record holds (see parallel: they cross a pipe
    as marshal data)."""
    text = _text(value)
    try:
        moment = datetime.fromisoformat(text)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        # OverflowError: a moment at the edge of the calendar (year 1 east of UTC).
        return moment.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"应为 ISO 8601 时间，如“2026-03-05T09:30:00+08:00”，这里是“{_show(text)}”。"
        ) from None


def _choice(enum, what: str):
    def parse(value) -> str:
        text = _text(value)
        if text not in enum.values:
            raise InvalidInput(f"不认识的{what}“{_show(text)}”，可用：{'、'.join(enum.values)}。")
        return text

    return parse


_HISTORY_PARSERS = {
    "field": _choice(ChangeField, "字段"),
    "old": _text,
    "new": _text,
    "changed_at": parse_datetime,
    "via": _choice(ChangeVia, "方式"),
    "source": lambda value: _text(value, _HISTORY_SOURCE_MAX),
    "source_url": parse_url,
    "retrieved_on": parse_date,
}
_HISTORY_REQUIRED = ("field", "changed_at", "via")


def _history(item, where: str, report) -> HistoryEntry | None:
    """One entry of an exported record's history; every field as the export writes it."""
    if _object(item, where, _HISTORY_ALLOWED, report) is None:
        return None
    for key in _HISTORY_REQUIRED:
        if item.get(key) in (None, ""):
            report(f"{where}.{key}", "缺少这一项。")
            return None
    given = _given(item, where, _HISTORY_PARSERS, report)
    if given is None:
        return None
    if not given.get("old") and not given.get("new"):
        report(where, "原值和新值不能都为空。")
        return None
    values = {
        "field": given["field"],
        "old_value": given.get("old", ""),
        "new_value": given.get("new", ""),
        "changed_at": given["changed_at"],
        "via": given["via"],
        "source": given.get("source", ""),
        "source_url": given.get("source_url", ""),
        "retrieved_on": given.get("retrieved_on"),
    }
    identity = (values["field"], values["old_value"], values["new_value"], values["changed_at"])
    return HistoryEntry(identity, values)
