"""Reading files: formats, encodings, the JSON Lines and CSV readers, and the records
and problems they yield."""

import codecs
import csv
import errno
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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


@dataclass(slots=True)
class RawRecord:
    origin: str
    line: int
    data: dict | None
    # Set when the line could not even be read as a record (bad JSON, wrong column count).
    problems: list[Problem] | None = None
    # False when the reader already knows no string holds a control character.
    scan: bool = True


class InvalidInput(Exception):
    """A file or a value that can't be taken; `message` says why, for the person who wrote it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def json_type_name(value) -> str:
    """What kind of JSON value this is, in the words the problem messages use."""
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


# Bytes below 0x80 mean ASCII in both UTF-8 and GB18030, so control bytes in the
# raw file are control characters in the text.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def file_format(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise InvalidInput(
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
                        raise InvalidInput(
                            f"第 {line} 行有控制字符（如 NUL），这不像文本格式的"
                            " JSON Lines 或 CSV 文件。"
                        )
                    line += chunk.count(b"\n")
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise InvalidInput(
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
    except InvalidInput as exc:
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
                message = f"每行应是一个 JSON 对象 {{…}}，这里是{json_type_name(data)}。"
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


def read_checked_file(path, fmt: str, encoding: str) -> Iterator[RawRecord | Problem]:
    """Stream the records of a file that check_file() has passed, as (fmt, encoding)."""
    reader = _read_jsonl if fmt == "jsonl" else _read_csv
    yield from reader(path, encoding)


def read_file(path) -> Iterator[RawRecord | Problem]:
    """Stream a file's records; problems with the file as a whole come as Problem items."""
    checked = check_file(path)
    if isinstance(checked, Problem):
        yield checked
        return
    yield from read_checked_file(path, *checked)


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
