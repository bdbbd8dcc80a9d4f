"""Reading, checking and writing agency records (JSON Lines or CSV); see docs/import-format.md.

The pipeline streams: records are read one at a time, checked, and written in
batches of BATCH_SIZE with a fixed number of queries per batch, so memory stays
flat and a million-record file runs at thousands of records a second. The whole
import is one transaction: a bad record (unless skipped), a dry run, an error
or a signal rolls everything back.

Every problem is a `Problem` whose text reads `FILE:LINE: field: message`, in
plain Chinese, because the people fixing the files are not programmers.
"""

import codecs
import csv
import errno
import gc
import json
import marshal
import multiprocessing
import os
import re
import signal
import sys
import threading
import traceback
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, connections, transaction
from django.utils import timezone

from . import dbindexes, search_index
from . import phones as phones_lib
from . import uscc as uscc_lib
from .enums import ActionKind, NameKind, Status
from .models import Agency, AgencyName, AgencyPhone, Client, Phone, Province, RegulatoryAction
from .search_models import SearchEntry

BATCH_SIZE = 2000

# The keys of one record, in the order exports write them.
FIELDS = (
    "uscc",
    "name",
    "former_names",
    "aliases",
    "province",
    "city",
    "entity_type",
    "legal_representative",
    "registered_capital",
    "established_on",
    "status",
    "registration_authority",
    "address",
    "business_scope",
    "source",
    "source_url",
    "retrieved_on",
    "phones",
    "clients",
    "actions",
    "is_sample",
)
# clients and actions are lists of objects, which a CSV cell cannot hold.
CSV_FIELDS = tuple(key for key in FIELDS if key not in ("clients", "actions"))
PHONE_FIELDS = ("number", "label", "source", "source_url", "reported_on")
CLIENT_FIELDS = ("name", "since", "until", "source_url")
ACTION_FIELDS = ("kind", "authority", "decided_on", "document_number", "summary", "source_url")
LIST_SEPARATOR = "|"

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)

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
_AGENCY_DATES = ("established_on", "retrieved_on")


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


class Problem(NamedTuple):
    """One thing wrong with one record (line > 0) or with a whole file (line 0)."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    skip_invalid: bool = False
    # Records with at least one problem, and problems that concern a whole file.
    invalid: int = 0
    file_errors: int = 0

    @property
    def failed(self) -> bool:
        """True when nothing was (or, in a dry run, would be) written because of problems."""
        return bool(self.file_errors or (self.invalid and not self.skip_invalid))

    @property
    def written(self) -> bool:
        return not self.failed and not self.dry_run

    def counts(self) -> str:
        return (
            f"新增 {self.created} 条，更新 {self.updated} 条，"
            f"未变 {self.unchanged} 条，跳过 {self.skipped} 条"
        )

    def __str__(self):
        if self.failed:
            text = f"发现 {len(self.problems)} 个问题"
            if self.invalid:
                text += f"（{self.invalid} 条记录有误）"
            text += "，没有写入任何数据。"
            if self.invalid and not self.file_errors:
                text += "请改正后重新导入，或用 --skip-invalid 只导入没有问题的记录。"
            return text
        if self.dry_run:
            return f"试运行，没有写入数据库。正式导入将会：{self.counts()}。"
        return f"导入完成：{self.counts()}。"


class Interrupted(BaseException):
    """SIGTERM arrived. A BaseException, like KeyboardInterrupt, so that no
    `except Exception` on the way up can swallow it before the transaction rolls back."""


@contextmanager
def stop_on_sigterm():
    """Turn SIGTERM into an exception, so `kill` rolls the import back rather than
    ending the process in the middle of it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- Reading files -----------------------------------------------------------------------------


@dataclass(slots=True)
class RawRecord:
    origin: str
    line: int
    data: dict | None
    # Set when the line could not even be read as a record (bad JSON, wrong column count).
    problems: list[Problem] | None = None
    # False when the reader already knows no string holds a control character.
    scan: bool = True


class _Invalid(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Bytes below 0x80 mean ASCII in both UTF-8 and GB18030, so control bytes in the
# raw file are control characters in the text.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def file_format(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise _Invalid(
        f"不支持的文件类型“{suffix or '（没有扩展名）'}”：请用 .jsonl（JSON Lines）或 .csv 文件"
        "（Excel 里选“另存为 → CSV UTF-8”）。"
    )


def detect_encoding(path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else GB18030,
    which also covers GBK files saved by Excel on Chinese Windows.

    Also refuses files with control characters: binary files, and text that the
    database could not store anyway.
    """
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        line = 1
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    control = _CONTROL_BYTES.search(chunk)
                    if control:
                        line += chunk.count(b"\n", 0, control.start())
                        raise _Invalid(
                            f"第 {line} 行有控制字符（如 NUL），这不像文本格式的"
                            " JSON Lines 或 CSV 文件。"
                        )
                    line += chunk.count(b"\n")
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise _Invalid(
        "无法识别文件编码：既不是 UTF-8，也不是 GB18030/GBK。请用 UTF-8 编码保存"
        "（Excel 里选“另存为 → CSV UTF-8”）。"
    )


_OS_ERRORS = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个目录",
    errno.ENOSPC: "磁盘空间不足",
}


def os_error_text(exc: OSError) -> str:
    """The operating system's complaint in Chinese where it is a common one."""
    return _OS_ERRORS.get(exc.errno) or exc.strerror or str(exc)


def check_file(path) -> tuple[str, str] | Problem:
    """(format, encoding) for a readable file, or the one Problem that stops it."""
    name = str(path)
    p = Path(path)
    try:
        if not p.exists():
            return Problem(name, 0, "", "找不到这个文件。")
        if p.is_dir():
            return Problem(name, 0, "", "这是一个目录，不是文件。")
        fmt = file_format(p)
        if p.stat().st_size == 0:
            return Problem(name, 0, "", "文件是空的。")
        return fmt, detect_encoding(p)
    except _Invalid as exc:
        return Problem(name, 0, "", exc.message)
    except OSError as exc:
        return Problem(name, 0, "", f"无法读取文件：{os_error_text(exc)}。")


def _read_jsonl(path, encoding: str) -> Iterator[RawRecord | Problem]:
    name = str(path)
    count = 0
    with open(path, encoding=encoding, newline="") as fh:
        for line_no, line in enumerate(fh, 1):
            text = line.strip()
            if not text:
                continue
            if count == 0 and text.startswith("["):
                yield Problem(
                    name,
                    line_no,
                    "",
                    "文件内容是一个 JSON 数组；导入格式要求每行一个 JSON 对象（JSON Lines）。",
                )
                return
            count += 1
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                message = f"不是有效的 JSON（第 {exc.colno} 个字符附近有语法错误）。"
                yield RawRecord(name, line_no, None, [Problem(name, line_no, "", message)])
                continue
            if not isinstance(data, dict):
                message = f"每行应是一个 JSON 对象 {{…}}，这里是{_type_name(data)}。"
                yield RawRecord(name, line_no, None, [Problem(name, line_no, "", message)])
                continue
            # JSON strings cannot hold raw control characters, only \u escapes.
            yield RawRecord(name, line_no, data, scan="\\u" in text)
    if count == 0:
        yield Problem(name, 0, "", "文件里没有任何记录。")


def _check_header(name: str, columns: list[str]) -> list[Problem]:
    problems = []
    unknown = [c for c in columns if c not in CSV_FIELDS]
    nested = [c for c in unknown if c in FIELDS]
    unknown = [c for c in unknown if c not in FIELDS]
    if nested:
        problems.append(
            Problem(
                name,
                1,
                "",
                "CSV 不支持这些列："
                + "、".join(nested)
                + "（它们是对象列表，请改用 JSON Lines）。",
            )
        )
    if unknown:
        problems.append(
            Problem(
                name,
                1,
                "",
                "表头里有不认识的列：“"
                + "”、“".join(c or "（空）" for c in unknown)
                + "”。第一行应是列名，可用的列有："
                + ", ".join(CSV_FIELDS)
                + "。",
            )
        )
    missing = [c for c in ("uscc", "name") if c not in columns]
    if missing:
        problems.append(Problem(name, 1, "", "表头缺少必需的列：" + "、".join(missing) + "。"))
    seen = set()
    for column in columns:
        if column in seen:
            problems.append(Problem(name, 1, "", f"表头里“{column}”出现了不止一次。"))
        seen.add(column)
    return problems


def _csv_record(columns: list[str], row: list[str]) -> dict:
    record = {}
    for key, cell in zip(columns, row, strict=True):
        cell = cell.strip()
        if not cell:
            # An empty cell means "not given": CSV cannot tell empty from absent,
            # and a sparse spreadsheet must not wipe stored values.
            continue
        if key in ("former_names", "aliases"):
            record[key] = cell.split(LIST_SEPARATOR)
        elif key == "phones":
            record[key] = [{"number": part} for part in cell.split(LIST_SEPARATOR) if part.strip()]
        else:
            record[key] = cell
    return record


def _read_csv(path, encoding: str) -> Iterator[RawRecord | Problem]:
    name = str(path)
    count = 0
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                yield Problem(name, 0, "", "文件是空的。")
                return
            columns = [column.strip() for column in header]
            header_problems = _check_header(name, columns)
            if header_problems:
                yield from header_problems
                return
            previous_line = reader.line_num
            for row in reader:
                # A quoted cell may span lines; a record starts right after the last one.
                line_no, previous_line = previous_line + 1, reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                count += 1
                if len(row) != len(columns):
                    message = f"这一行有 {len(row)} 列，表头有 {len(columns)} 列。"
                    yield RawRecord(name, line_no, None, [Problem(name, line_no, "", message)])
                    continue
                # check_file() refused control characters, so no cell holds one.
                yield RawRecord(name, line_no, _csv_record(columns, row), scan=False)
        except csv.Error:
            yield Problem(
                name,
                reader.line_num,
                "",
                "CSV 格式有误（多半是引号没有配对），无法继续读取这个文件。",
            )
            return
    if count == 0:
        yield Problem(name, 0, "", "只有表头，没有任何记录。")


def _read_checked(path, fmt: str, encoding: str) -> Iterator[RawRecord | Problem]:
    reader = _read_jsonl if fmt == "jsonl" else _read_csv
    yield from reader(path, encoding)


def read_file(path) -> Iterator[RawRecord | Problem]:
    """Stream a file's records; problems with the file as a whole come as Problem items."""
    checked = check_file(path)
    if isinstance(checked, Problem):
        yield checked
        return
    yield from _read_checked(path, *checked)


def estimate_records(paths) -> int:
    """Roughly how many records the files hold (their newlines), for a progress bar."""
    total = 0
    for path in paths:
        try:
            with open(path, "rb") as fh:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        except OSError:
            continue
        if Path(path).suffix.lower() in CSV_SUFFIXES:
            total -= 1
    return max(total, 0)


# --- Checking one record -----------------------------------------------------------------------


def _type_name(value) -> str:
    if value is None:
        return " null"
    if isinstance(value, bool):
        return "真假值"
    if isinstance(value, int | float):
        return "数字"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "对象"
    return "文本"


def _show(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def _text(value, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif not isinstance(value, str):
        raise _Invalid(f"应为文本，这里是{_type_name(value)}。")
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise _Invalid(f"太长了：最多 {max_length} 个字符，这里有 {len(value)} 个。")
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


def parse_date(value) -> str | None:
    """The date as ISO text, checked. Dates stay text through the pipeline: that is what
    SQLite stores and COPY reads, and text crosses the process boundary for free."""
    text = _text(value)
    if not text:
        return None
    if not _ISO_DATE.fullmatch(text):
        raise _Invalid(f"日期格式应为 YYYY-MM-DD，这里是“{_show(text)}”。")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise _Invalid(f"没有这一天：“{text}”。") from None
    return text


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
            raise _Invalid(problem)
    return text


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
    raise _Invalid(f"应为 true 或 false，这里是“{_show(str(value))}”。")


# The parsers fold case and width and build translated labels on every call;
# files repeat a handful of spellings, so remember them.
_parse_status = lru_cache(maxsize=256)(Status.parse)
_parse_action_kind = lru_cache(maxsize=256)(ActionKind.parse)

_CAPITAL_NOISE = re.compile(r"[\s,()]")
_CAPITAL = re.compile(r"(\d+(?:\.\d+)?)(亿|万)?(元)?(人民币)?(元)?")
_WAN_LIMIT = Decimal(10) ** 12  # max_digits=16 with decimal_places=4 leaves 12 integer digits
_FOUR_PLACES = Decimal("0.0001")


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
    derived_province: str = ""  # from the USCC; used only when the agency is new
    # (name, status, search_index.build(...)) for a clean record: the search
    # index rows of the agency it creates, computed in the checking process.
    search: tuple | None = None


_ALLOWED = frozenset(FIELDS)
_PHONE_ALLOWED = frozenset(PHONE_FIELDS)
_CLIENT_ALLOWED = frozenset(CLIENT_FIELDS)
_ACTION_ALLOWED = frozenset(ACTION_FIELDS)


def check_record(raw: RawRecord) -> CleanRecord:
    """Everything about a record that needs no database; see ProvinceResolver for the rest.

    The result carries its problems; with any, it must not be written.
    """
    origin, line, data = raw.origin, raw.line, raw.data
    problems: list[Problem] = list(raw.problems or ())
    if data is None:
        return CleanRecord(origin, line, "", {}, "", [], [], [], [], problems)

    def report(field_name: str, message: str) -> None:
        problems.append(Problem(origin, line, field_name, message))

    if raw.scan:
        _scan_unstorable(data, "", report)
    for key in data.keys() - _ALLOWED:
        report(str(key), "不认识的字段（可用的字段见 docs/import-format.md）。")

    code = ""
    if "uscc" not in data:
        report("uscc", "缺少统一社会信用代码。")
    else:
        try:
            code = uscc_lib.validate(_text(data["uscc"]))
        except (_Invalid, uscc_lib.UsccError) as exc:
            report("uscc", exc.message)

    values: dict = {}
    if "name" not in data:
        report("name", "缺少机构名称。")
    for key in _AGENCY_TEXT:
        if key in data:
            value = data[key]
            # The common case inline: this runs for every field of every record.
            if type(value) is str and len(value) <= _AGENCY_MAX[key]:
                values[key] = value.strip()
                continue
            try:
                values[key] = _text(value, _AGENCY_MAX[key])
            except _Invalid as exc:
                report(key, exc.message)
    if values.get("name") == "":
        report("name", "机构名称不能为空。")
    if "registered_capital" in values:
        wan = capital_in_wan(values["registered_capital"])
        values["registered_capital_wan"] = None if wan is None else str(wan)
    for key in _AGENCY_DATES:
        if key in data:
            try:
                values[key] = parse_date(data[key])
            except _Invalid as exc:
                report(key, exc.message)
    if "source_url" in data:
        try:
            values["source_url"] = parse_url(data["source_url"])
        except _Invalid as exc:
            report("source_url", exc.message)
    if "status" in data:
        try:
            text = _text(data["status"])
        except _Invalid as exc:
            report("status", exc.message)
        else:
            status = _parse_status(text) if text else Status.OTHER
            if status is None:
                allowed = "、".join(Status.values)
                report("status", f"不认识的登记状态“{_show(text)}”，可用：{allowed}。")
            else:
                values["status"] = status.value
    if "is_sample" in data:
        try:
            values["is_sample"] = parse_bool(data["is_sample"])
        except _Invalid as exc:
            report("is_sample", exc.message)
    province_text = ""
    try:
        province_text = _text(data.get("province"))
    except _Invalid as exc:
        report("province", exc.message)

    names = []
    for key, kind in (("former_names", NameKind.FORMER), ("aliases", NameKind.ALIAS)):
        for index, item in _items(data, key, report):
            try:
                text = _text(item, _NAME_MAX)
            except _Invalid as exc:
                report(f"{key}[{index}]", exc.message)
                continue
            if text and (kind.value, text) not in names:
                names.append((kind.value, text))

    phones, seen_keys = [], set()
    for index, item in _items(data, "phones", report):
        entry = _phone(item, f"phones[{index}]", report)
        if entry and entry.key not in seen_keys:
            seen_keys.add(entry.key)
            phones.append(entry)

    clients, seen_clients = [], set()
    for index, item in _items(data, "clients", report):
        entry = _client(item, f"clients[{index}]", report)
        if entry and entry.name not in seen_clients:
            seen_clients.add(entry.name)
            clients.append(entry)

    actions, seen_actions = [], set()
    for index, item in _items(data, "actions", report):
        entry = _action(item, f"actions[{index}]", report)
        if entry and entry.identity not in seen_actions:
            seen_actions.add(entry.identity)
            actions.append(entry)

    search = None
    if not problems:
        # Only used if the record creates its agency, when the row's name and
        # status are exactly these; otherwise the writer reindexes from the
        # database. Folding and pinyin are a large part of an import's work.
        status = values.get("status", Status.OTHER.value)
        search = (values["name"], status, search_index.build(values["name"], status, names))
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
        search=search,
    )


class ProvinceResolver:
    """Settles a record's province, the one check that needs the database.

    Remembers what each spelling resolved to, so an import asks the database
    once per distinct spelling rather than once per record.
    """

    def __init__(self):
        self._codes: set[str] | None = None
        self._lookup: dict[str, str | _Invalid] = {}

    def code(self, text: str) -> str:
        """The code of the province a file names ("43", "湖南省", "湖南", "湘", "hunan")."""
        found = self._lookup.get(text)
        if found is None:
            found = self._lookup[text] = self._find(text)
        if isinstance(found, _Invalid):
            raise found
        return found

    @staticmethod
    def _find(text: str) -> str | _Invalid:
        matches = list(Province.objects.by_code_or_name(text))
        if len(matches) > 1:
            exact = [p for p in matches if text in (p.name, p.short_name, p.short_name_alt, p.slug)]
            if len(exact) != 1:
                names = "、".join(p.name for p in matches)
                return _Invalid(f"“{_show(text)}”可能是多个省份（{names}），请写全称或代码。")
            matches = exact
        if not matches:
            return _Invalid(
                f"不认识的省份“{_show(text)}”：请写省级行政区名称或两位代码，如“湖南省”或“43”。"
            )
        return matches[0].code

    def resolve(self, record: CleanRecord) -> None:
        """Set the record's province, or add a problem to it."""
        if record.province_text:
            try:
                # Given wins over the USCC's region: agencies move, codes stay.
                record.values["province_id"] = self.code(record.province_text)
            except _Invalid as exc:
                record.problems.append(Problem(record.origin, record.line, "province", exc.message))
        elif record.uscc:
            derived = uscc_lib.province_code(record.uscc)
            if self._codes is None:
                self._codes = set(Province.objects.values_list("code", flat=True))
            if derived in self._codes:
                record.derived_province = derived
            else:
                record.problems.append(
                    Problem(
                        record.origin,
                        record.line,
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
        report(key, f"应为列表，这里是{_type_name(value)}。")
        return ()
    return enumerate(value, 1)


def _object(item, where: str, allowed: frozenset, report) -> dict | None:
    if not isinstance(item, dict):
        report(where, f"应为对象 {{…}}，这里是{_type_name(item)}。")
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
            except _Invalid as exc:
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
    except _Invalid as exc:
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
    except _Invalid as exc:
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
    except _Invalid as exc:
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
        except _Invalid as exc:
            report(f"{where}.{key}", exc.message)
            ok = False
    given = _given(item, where, _ACTION_GIVEN, report)
    if not ok or given is None:
        return None
    return ActionEntry(
        (kind.value, identity["authority"], identity["decided_on"], identity["document_number"]),
        given,
    )


# --- Checking in a second process ---------------------------------------------------------------

# Reading and checking take about half as long as writing; for big inputs a
# forked child does them while this process writes. Records cross the pipe as
# marshal data: they hold only plain types (dates and amounts as text), which
# makes that several times cheaper than pickling objects.
PARALLEL_MIN_BYTES = 8 << 20
PARALLEL_MIN_RECORDS = 10_000


def _pack(item: CleanRecord | Problem) -> tuple:
    if isinstance(item, Problem):
        return (1, *item)
    return (
        0,
        item.origin,
        item.line,
        item.uscc,
        item.values,
        item.province_text,
        item.names,
        [tuple(entry) for entry in item.phones],
        [tuple(entry) for entry in item.clients],
        [tuple(entry) for entry in item.actions],
        [tuple(problem) for problem in item.problems],
        item.search,
    )


def _unpack(packed: tuple) -> CleanRecord | Problem:
    if packed[0] == 1:
        return Problem(*packed[1:])
    (_, origin, line, code, values, province, names, phones, clients, actions, problems, search) = (
        packed
    )
    return CleanRecord(
        origin,
        line,
        code,
        values,
        province,
        names,
        [PhoneEntry._make(entry) for entry in phones],
        [ClientEntry._make(entry) for entry in clients],
        [ActionEntry._make(entry) for entry in actions],
        [Problem._make(problem) for problem in problems],
        search=search,
    )


def _checked(items: Iterable[RawRecord | Problem]) -> Iterator[CleanRecord | Problem]:
    for item in items:
        yield item if isinstance(item, Problem) else check_record(item)


def _single_threaded() -> bool:
    """fork() is only safe (and free of DeprecationWarning) without other threads."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


def _can_fork() -> bool:
    # Linux only: macOS system libraries are not fork-safe, Windows has no fork.
    return sys.platform.startswith("linux") and _single_threaded()


def _child_main(items_factory, batch_size: int, sender) -> None:
    # Stopping is the parent's business: it ends this process when it stops, so
    # Ctrl-C (sent to the whole process group) must not race it here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The inherited database connections are the parent's: never use them, and keep
    # them referenced, because closing one would end the parent's session too. Should
    # the records' source query the database, it gets a connection of its own.
    inherited = [(c, c.connection) for c in connections.all(initialized_only=True)]
    for wrapper, _ in inherited:
        wrapper.connection = None
    try:
        batch = []
        for item in _checked(items_factory()):
            batch.append(_pack(item))
            if len(batch) >= batch_size:
                sender.send_bytes(marshal.dumps(batch))
                batch = []
        if batch:
            sender.send_bytes(marshal.dumps(batch))
        sender.send_bytes(b"")
    except BrokenPipeError:
        pass  # the parent stopped reading: it is stopping
    except BaseException:
        with suppress(OSError):
            sender.send_bytes(marshal.dumps(traceback.format_exc()))
    finally:
        sender.close()


def _receive(receiver) -> Iterator[CleanRecord | Problem]:
    while True:
        try:
            data = receiver.recv_bytes()
        except EOFError:
            raise RuntimeError("检查记录的子进程意外退出。") from None
        if not data:
            return
        batch = marshal.loads(data)
        if isinstance(batch, str):
            raise RuntimeError("检查记录的子进程出错：\n" + batch)
        for packed in batch:
            yield _unpack(packed)


@contextmanager
def _checked_in_child(items_factory, batch_size: int):
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main, args=(items_factory, batch_size, sender), daemon=True
    )
    child.start()
    sender.close()
    try:
        yield _receive(receiver)
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


# --- Writing -----------------------------------------------------------------------------------


def _adapter(model_field) -> Callable | None:
    """The conversion the ORM applies before handing such a value to the driver."""
    ops = connection.ops
    kind = model_field.get_internal_type()
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "DateTimeField":
        # A batch stamps every row with the same `now`: convert it once.
        last = [None, None]

        def adapt_datetime(value):
            if value is not last[0]:
                last[0], last[1] = value, ops.adapt_datetimefield_value(value)
            return last[1]

        return adapt_datetime
    if kind == "DecimalField":
        digits, places = model_field.max_digits, model_field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    return None


def _preallocates_ids() -> bool:
    return connection.vendor in ("postgresql", "sqlite")


class _Inserter:
    """INSERTs of plain rows (dicts keyed by attname): COPY on PostgreSQL, executemany
    elsewhere.

    bulk_create compiles every value of every row through the field machinery,
    several µs each for ~50 values a record: that was most of an import's time.
    The values here go through the same backend adapters the ORM uses.
    """

    def __init__(self, model, with_ids: bool = False):
        self.model = model
        meta = model._meta
        fields = [f for f in meta.concrete_fields if with_ids or not f.primary_key]
        quote = connection.ops.quote_name
        table, columns = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
        self.copy = connection.vendor == "postgresql"
        if self.copy:
            self.sql = f"COPY {table} ({columns}) FROM STDIN"
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            self.sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.values = itemgetter(*(f.attname for f in fields))
        self.adapters = [(i, fn) for i, f in enumerate(fields) if (fn := _adapter(f))]

    def row(self, **values) -> dict:
        return {**self.defaults, **values}

    def insert(self, rows: list[dict]) -> None:
        if not rows:
            return
        values, adapters = self.values, self.adapters
        params = []
        for row in rows:
            row_values = list(values(row))
            for index, adapt in adapters:
                if row_values[index] is not None:
                    row_values[index] = adapt(row_values[index])
            params.append(row_values)
        with connection.cursor() as cursor:
            if self.copy:
                with cursor.cursor.copy(self.sql) as copy:
                    for row_values in params:
                        copy.write_row(row_values)
            else:
                cursor.executemany(self.sql, params)

    def allocate_ids(self, rows: list[dict]) -> None:
        """Give rows their ids before inserting them, so that children can point at them
        without a query to look the ids up afterwards."""
        meta = self.model._meta
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, meta.pk.column, len(rows)],
                )
                ids = [found for (found,) in cursor.fetchall()]
            else:
                # SQLite: the import holds the write lock, so nobody else takes these.
                # AUTOINCREMENT never reuses ids, hence sqlite_sequence as well as max().
                quote = connection.ops.quote_name
                cursor.execute(f"SELECT max({quote(meta.pk.column)}) FROM {quote(meta.db_table)}")
                (highest,) = cursor.fetchone()
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
                sequence = cursor.fetchone()
                start = max(highest or 0, sequence[0] if sequence else 0) + 1
                ids = range(start, start + len(rows))
        for row, pk in zip(rows, ids, strict=True):
            row[meta.pk.attname] = pk


class _Inserters:
    def __init__(self):
        with_ids = _preallocates_ids()
        self.agency = _Inserter(Agency, with_ids)
        self.phone = _Inserter(Phone, with_ids)
        self.link = _Inserter(AgencyPhone)
        self.name = _Inserter(AgencyName)
        self.client = _Inserter(Client)
        self.action = _Inserter(RegulatoryAction)


def _ids(model, attname: str, values) -> dict:
    """{value: id} for the rows whose `attname` is among `values`."""
    meta = model._meta
    quote = connection.ops.quote_name
    column = quote(meta.get_field(attname).column)
    select = f"SELECT {column}, {quote(meta.pk.column)} FROM {quote(meta.db_table)} WHERE {column}"
    values = list(values)
    found = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter: psycopg's client-side binding parses a query with
            # thousands of placeholders slowly.
            cursor.execute(f"{select} = ANY(%s)", [values])
            found.update(cursor.fetchall())
            return found
        for start in range(0, len(values), 5000):
            chunk = values[start : start + 5000]
            cursor.execute(f"{select} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(cursor.fetchall())
    return found


def _insert_with_ids(inserter: _Inserter, rows: list[dict], key: str) -> dict:
    """Insert rows; {row[key]: id}."""
    if _preallocates_ids():
        inserter.allocate_ids(rows)
        inserter.insert(rows)
        return {row[key]: row["id"] for row in rows}
    inserter.insert(rows)
    return _ids(inserter.model, key, [row[key] for row in rows])


class _PhoneIds:
    """Phone key → id for every number this import has created or found.

    Batches keep meeting the same numbers (a 400 line shared by many agencies):
    each is looked up once. After `load_all()`, which a bulk load calls (see
    _BulkSwitch), the map holds every number in the table and a key missing
    from it is new without asking. Those lookups are random probes into an
    index that a large load has pushed out of the cache: at a million
    agencies they were a fifth of the import's time on PostgreSQL. The cost
    is memory: about 110 bytes a number, 300 MB for three million.
    """

    def __init__(self):
        self.ids: dict[str, int] = {}
        self.complete = False
        if connection.vendor == "postgresql":
            # Remembered ids must stay true until commit: hold off other writers
            # of numbers (readers are not affected). SQLite lets one writer in at
            # a time anyway.
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(Phone._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")

    def find(self, keys: set[str]) -> dict[str, int]:
        """{key: id} for those of `keys` the table has."""
        ids = self.ids
        unknown = [key for key in keys if key not in ids]
        if unknown and not self.complete:
            ids.update(_ids(Phone, "key", unknown))
        return {key: ids[key] for key in keys if key in ids}

    def add(self, found: dict[str, int]) -> None:
        self.ids.update(found)

    def load_all(self) -> None:
        self.ids = dict(Phone.objects.values_list("key", "id").iterator(chunk_size=50_000))
        self.complete = True


class _AgencyState:
    """One agency the batch touches: its row (stored or to insert) and its children."""

    __slots__ = (
        "actions",
        "clients",
        "dirty",
        "fields",
        "names",
        "new",
        "phones",
        "pk",
        "row",
        "search",
    )

    def __init__(self, row: dict, new: bool):
        self.row = row
        self.new = new
        self.pk = None if new else row["id"]
        self.dirty = False
        self.fields: set[str] = set()
        self.phones: dict[str, dict] = {}
        self.names: set[tuple[str, str]] = set()
        self.clients: dict[str, dict] = {}
        self.actions: dict[tuple, dict] = {}
        self.search: tuple | None = None


def _update_given(row: dict, given: dict, changed: dict) -> bool:
    """Overwrite the fields the file gave; stored rows (with an id) are noted for UPDATE."""
    touched = False
    for attr, value in given.items():
        if row[attr] != value:
            row[attr] = value
            touched = True
            if row.get("id") is not None:
                changed.setdefault(row["id"], (row, set()))[1].add(attr)
    return touched


def _bulk_update(model, changed: dict) -> None:
    if not changed:
        return
    fields = sorted(set().union(*(attrs for _, attrs in changed.values())))
    objs = [model(id=pk, **{f: row[f] for f in fields}) for pk, (row, _) in changed.items()]
    model.objects.bulk_update(objs, fields)


def _as_imported(row: dict, dates: tuple = (), amounts: tuple = ()) -> dict:
    """A stored row with dates and amounts as text, the way checked records hold them,
    so that comparing the two says whether anything changed."""
    for key in dates:
        if row[key] is not None:
            row[key] = row[key].isoformat()
    for key in amounts:
        if row[key] is not None:
            row[key] = str(row[key].quantize(_FOUR_PLACES))
    return row


def _stored(records: list[CleanRecord]):
    """What the database holds for a batch's agencies, as dicts, in one query per table."""
    # Cheap existence check first: on a fresh import nothing more is needed.
    existing = _ids(Agency, "uscc", {r.uscc for r in records})
    agencies = {}
    if existing:
        for row in Agency.objects.filter(id__in=existing.values()).values():
            agencies[row["uscc"]] = _as_imported(
                row, ("established_on", "retrieved_on"), ("registered_capital_wan",)
            )
    wanted = defaultdict(set)
    if agencies:
        for record in records:
            row = agencies.get(record.uscc)
            if row is not None:
                for kind in ("phones", "names", "clients", "actions"):
                    if getattr(record, kind):
                        wanted[kind].add(row["id"])
    children = {kind: defaultdict(dict) for kind in ("phones", "clients", "actions")}
    names = defaultdict(set)
    if wanted["phones"]:
        query = AgencyPhone.objects.filter(agency_id__in=wanted["phones"]).values(
            "id", "agency_id", "phone__key", "label", "source", "source_url", "reported_on"
        )
        for row in query:
            children["phones"][row["agency_id"]][row["phone__key"]] = _as_imported(
                row, ("reported_on",)
            )
    if wanted["names"]:
        query = AgencyName.objects.filter(agency_id__in=wanted["names"])
        for agency_id, kind, name in query.values_list("agency_id", "kind", "name"):
            names[agency_id].add((kind, name))
    if wanted["clients"]:
        for row in Client.objects.filter(agency_id__in=wanted["clients"]).values():
            children["clients"][row["agency_id"]][row["name"]] = _as_imported(
                row, ("since", "until")
            )
    if wanted["actions"]:
        for row in RegulatoryAction.objects.filter(agency_id__in=wanted["actions"]).values():
            _as_imported(row, ("decided_on",))
            identity = (row["kind"], row["authority"], row["decided_on"], row["document_number"])
            children["actions"][row["agency_id"]][identity] = row
    return agencies, children, names


def _write_batch(
    records: list[CleanRecord],
    summary: ImportSummary,
    sql: _Inserters,
    index: search_index.IndexWriter,
    known_phones: _PhoneIds,
) -> None:
    """Apply one batch with a fixed number of queries, whatever its size."""
    now = timezone.now()
    stored, children, stored_names = _stored(records)
    keys = {entry.key for record in records for entry in record.phones}
    phone_ids = known_phones.find(keys)
    new_phones: dict[str, dict] = {}

    states: dict[str, _AgencyState] = {}
    new_agencies: list[dict] = []
    # Child rows wait for their agency's (and phone's) id: (state, row) pairs.
    new_links, new_names, new_clients, new_actions = [], [], [], []
    changed_links, changed_clients, changed_actions = {}, {}, {}

    for record in records:
        state = states.get(record.uscc)
        created = False
        if state is not None:
            # A second record for the same agency in this batch: reindex from
            # the database rather than from either record alone.
            state.search = None
        else:
            row = stored.get(record.uscc)
            if row is None:
                row = sql.agency.row(
                    uscc=record.uscc,
                    province_id=record.derived_province,
                    created_at=now,
                    updated_at=now,
                )
                row.update(record.values)
                new_agencies.append(row)
                state = states[record.uscc] = _AgencyState(row, new=True)
                state.search = record.search
                created = True
            else:
                state = states[record.uscc] = _AgencyState(row, new=False)
                state.phones = children["phones"].get(row["id"], {})
                state.names = stored_names.get(row["id"], set())
                state.clients = children["clients"].get(row["id"], {})
                state.actions = children["actions"].get(row["id"], {})
        row = state.row
        changed = False
        if not created:
            for attr, value in record.values.items():
                if row[attr] != value:
                    row[attr] = value
                    state.fields.add(attr)
                    changed = True

        for entry in record.phones:
            link = state.phones.get(entry.key)
            if link is not None:
                changed |= _update_given(link, entry.given, changed_links)
                continue
            if entry.key not in phone_ids and entry.key not in new_phones:
                new_phones[entry.key] = sql.phone.row(key=entry.key, kind=entry.kind)
            given = entry.given
            link = sql.link.row(
                phone_id=entry.key,  # the key until the phone's id is known
                number_as_reported=entry.number,
                label=given.get("label", ""),
                # Evidence not stated per number is the record's own.
                source=given.get("source", row["source"]),
                source_url=given.get("source_url", row["source_url"]),
                reported_on=given.get("reported_on", row["retrieved_on"]),
            )
            state.phones[entry.key] = link
            new_links.append((state, link))
            changed = True

        for kind, name in record.names:
            if (kind, name) not in state.names:
                state.names.add((kind, name))
                new_names.append((state, sql.name.row(kind=kind, name=name)))
                changed = True

        for entry in record.clients:
            client = state.clients.get(entry.name)
            if client is not None:
                changed |= _update_given(client, entry.given, changed_clients)
                continue
            client = state.clients[entry.name] = sql.client.row(name=entry.name, **entry.given)
            new_clients.append((state, client))
            changed = True

        for entry in record.actions:
            action = state.actions.get(entry.identity)
            if action is not None:
                changed |= _update_given(action, entry.given, changed_actions)
                continue
            kind, authority, decided_on, document_number = entry.identity
            action = state.actions[entry.identity] = sql.action.row(
                kind=kind,
                authority=authority,
                decided_on=decided_on,
                document_number=document_number,
                **entry.given,
            )
            new_actions.append((state, action))
            changed = True

        if created:
            summary.created += 1
        elif changed:
            state.dirty = True
            summary.updated += 1
        else:
            summary.unchanged += 1

    if new_agencies:
        ids = _insert_with_ids(sql.agency, new_agencies, "uscc")
        for state in states.values():
            if state.new:
                state.pk = ids[state.row["uscc"]]
    if new_phones:
        created_phones = _insert_with_ids(sql.phone, list(new_phones.values()), "key")
        known_phones.add(created_phones)
        phone_ids.update(created_phones)

    dirty = [state for state in states.values() if state.dirty and not state.new]
    if dirty:
        # Set by hand: bulk_update skips auto_now, and unchanged rows must keep theirs.
        fields = sorted(set().union(*(state.fields for state in dirty)) | {"updated_at"})
        objs = []
        for state in dirty:
            state.row["updated_at"] = now
            objs.append(Agency(**state.row))
        Agency.objects.bulk_update(objs, fields)

    for state, link in new_links:
        link["agency_id"] = state.pk
        link["phone_id"] = phone_ids[link["phone_id"]]
    for pending in (new_names, new_clients, new_actions):
        for state, child in pending:
            child["agency_id"] = state.pk
    sql.link.insert([link for _, link in new_links])
    sql.name.insert([child for _, child in new_names])
    sql.client.insert([child for _, child in new_clients])
    sql.action.insert([child for _, child in new_actions])
    _bulk_update(AgencyPhone, changed_links)
    _bulk_update(Client, changed_clients)
    _bulk_update(RegulatoryAction, changed_actions)

    built, touched = [], []
    for state in states.values():
        search = state.search
        if search is not None and search[:2] == (state.row["name"], state.row["status"]):
            built.append((state.pk, state.row["province_id"], search[1], search[2]))
        elif state.new or state.dirty:
            touched.append(state.pk)
    index.add(built)
    index.refresh(touched)


def _run(
    checked: Iterable[CleanRecord | Problem],
    *,
    dry_run: bool,
    skip_invalid: bool,
    progress: Callable[[int], object] | None,
    batch_size: int,
) -> ImportSummary:
    summary = ImportSummary(dry_run=dry_run, skip_invalid=skip_invalid)
    provinces = ProvinceResolver()
    batch: list[CleanRecord] = []
    unreported = 0
    with transaction.atomic():
        inserters = _Inserters()
        known_phones = _PhoneIds()
        index = search_index.IndexWriter()
        bulk = _BulkSwitch(index, known_phones)
        for item in checked:
            if isinstance(item, Problem):
                summary.problems.append(item)
                summary.file_errors += 1
                batch.clear()
                continue
            unreported += 1
            provinces.resolve(item)
            if item.problems:
                summary.problems.extend(item.problems)
                summary.invalid += 1
                if skip_invalid:
                    summary.skipped += 1
                else:
                    # Nothing will be written; reading on only reports every problem.
                    batch.clear()
            elif not summary.failed:
                batch.append(item)
            if unreported >= batch_size:
                if batch:
                    _write_batch(batch, summary, inserters, index, known_phones)
                    bulk.check(summary.created)
                    batch = []
                if progress:
                    progress(unreported)
                unreported = 0
        if batch and not summary.failed:
            _write_batch(batch, summary, inserters, index, known_phones)
        if progress and unreported:
            progress(unreported)
        if summary.failed or dry_run:
            transaction.set_rollback(True)
        else:
            bulk.finish()
    if summary.failed:
        summary.created = summary.updated = summary.unchanged = 0
    return summary


# A load that creates at least this many agencies, and at least as many as the
# directory had when it started, builds the gram index once at the end instead
# of inserting into it (search_index.IndexWriter.go_bulk()).
BULK_MIN_CREATED = 50_000


# Agency indexes only the public pages read (province pages, the home page):
# a bulk load builds them at the end too, since (province, name) takes inserts
# at random places. Unique constraints stay: the import looks rows up by them.
_DEFERRED_AGENCY_INDEXES = [index.name for index in Agency._meta.indexes]


# Tables whose foreign keys a bulk load drops and adds back (PostgreSQL; see
# dbindexes.drop_foreign_keys). Not the agency's own key to its province:
# dropping it would lock the province table, which every page reads, and 34
# rows are cheap to check against.
_DEFERRED_KEY_MODELS = [AgencyName, AgencyPhone, Client, RegulatoryAction, SearchEntry]


class _BulkSwitch:
    def __init__(self, index: search_index.IndexWriter, known_phones: _PhoneIds):
        self.index = index
        self.known_phones = known_phones
        self.existing: int | None = None
        self.on = False
        self.dropped_keys: list = []

    def check(self, created: int) -> None:
        if self.on or created < BULK_MIN_CREATED:
            return
        if self.existing is None:
            # Counted once, and late: rows this import created are not "existing".
            self.existing = Agency.objects.count() - created
        if created >= self.existing:
            self.on = True
            self.known_phones.load_all()
            self.index.go_bulk()
            for name in _DEFERRED_AGENCY_INDEXES:
                dbindexes.drop(Agency, name)
            self.dropped_keys = dbindexes.drop_foreign_keys(_DEFERRED_KEY_MODELS)

    def finish(self) -> None:
        if self.on:
            for name in _DEFERRED_AGENCY_INDEXES:
                dbindexes.create(Agency, name)
        self.index.finish()
        # Last: the search rows written by finish() are checked with the rest.
        dbindexes.restore_foreign_keys(self.dropped_keys)


@contextmanager
def _fewer_collections():
    """An import allocates millions of small containers that reference counting frees;
    at the default thresholds the cyclic collector would also scan the live batch, and
    everything Django has loaded, thousands of times. That cost a fifth of the time."""
    thresholds = gc.get_threshold()
    freeze = gc.get_freeze_count() == 0  # someone else's freeze is theirs to undo
    if freeze:
        gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if freeze:
            gc.unfreeze()


def _import(items_factory: Callable[[], Iterable[RawRecord | Problem]], *, parallel, **options):
    with _fewer_collections():
        if parallel and _can_fork():
            with _checked_in_child(items_factory, options["batch_size"]) as checked:
                return _run(checked, **options)
        return _run(_checked(items_factory()), **options)


def import_records(
    records: Iterable[dict],
    *,
    origin: str = "<records>",
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], object] | None = None,
    batch_size: int = BATCH_SIZE,
    parallel: bool | None = None,
) -> ImportSummary:
    """Import dicts shaped like JSON Lines records, in one transaction.

    Problems name `origin` and the record's position (from 1) as file and line.
    `progress(n)` is called with the number of records handled since its last call.
    `parallel=True` checks the records in a forked child process while this one
    writes: only for iterables that do not use the database. By default a list
    of at least PARALLEL_MIN_RECORDS is checked that way, anything else here.
    """
    if parallel is None:
        parallel = isinstance(records, list | tuple) and len(records) >= PARALLEL_MIN_RECORDS

    def items():
        for line, data in enumerate(records, 1):
            if isinstance(data, dict):
                yield RawRecord(origin, line, data)
            else:
                message = f"记录应是一个对象（dict），这里是{_type_name(data)}。"
                yield RawRecord(origin, line, None, [Problem(origin, line, "", message)])

    return _import(
        items,
        parallel=parallel,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        progress=progress,
        batch_size=batch_size,
    )


def import_files(
    paths: Iterable,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], object] | None = None,
    batch_size: int = BATCH_SIZE,
    parallel: bool | None = None,
) -> ImportSummary:
    """Import JSON Lines and CSV files, in order, in one transaction.

    Every file is checked (exists, type, encoding) before anything is read, so a
    typo in the last file name costs nothing. Files of PARALLEL_MIN_BYTES or more
    are read and checked in a child process unless `parallel=False`.
    """
    opened = [(path, check_file(path)) for path in paths]
    problems = [checked for _, checked in opened if isinstance(checked, Problem)]
    if problems:
        return ImportSummary(
            problems=problems,
            file_errors=len(problems),
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
    if parallel is None:
        parallel = sum(os.path.getsize(path) for path, _ in opened) >= PARALLEL_MIN_BYTES

    def items():
        for path, (fmt, encoding) in opened:
            yield from _read_checked(path, fmt, encoding)

    return _import(
        items,
        parallel=parallel,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        progress=progress,
        batch_size=batch_size,
    )
