"""Reading files: formats, encodings, the JSON Lines reader and the table reader that
CSV files and workbooks share, and the records and problems they yield."""

import codecs
import csv
import json
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .columns import (
    LIST_FIELDS,
    ColumnMap,
)
from .problems import InvalidInput, Problem, os_error_text

# What exports write between the values of a list cell.
LIST_SEPARATOR = "|"
# What imports split a list cell on: the export's "|", and what people type
# between names or numbers in a spreadsheet cell. Not "-" or spaces, which are
# part of numbers ("0731-8888 8888").
LIST_SEPARATORS = re.compile(r"[|；;，,、/\r\n]")
# What the lookup sites' exports write in an empty cell; read as an empty cell.
PLACEHOLDERS = frozenset({"-", "--", "—", "——", "－"})

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)
XLSX_SUFFIXES = (".xlsx",)


@dataclass(slots=True)
class RawRecord:
    origin: str
    line: int
    data: dict | None
    # Set when the line could not even be read as a record (bad JSON, wrong column
    # count), or a workbook cell could not be read as its field.
    problems: list[Problem] | None = None
    # False when the reader already knows no string holds a control character.
    scan: bool = True
    # The workbook's sheet; `line` is then the row number.
    sheet: str = ""


@dataclass(frozen=True)
class ReadOptions:
    """What the command says about its files, beyond what they hold."""

    columns: ColumnMap = field(default_factory=lambda: ColumnMap.build()[0])
    # A workbook's sheet, by name or number from 1; None: the first.
    sheet: str | None = None
    # Values, already checked, for the records that lack them (--source,
    # --source-url, --retrieved-on).
    defaults: dict = field(default_factory=dict)


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
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix == ".xls":
        raise InvalidInput(
            "不支持旧版 Excel 文件（.xls）：请在 Excel 里“另存为 → Excel 工作簿（.xlsx）”"
            "或“CSV UTF-8”。"
        )
    raise InvalidInput(
        f"不支持的文件类型“{suffix or '（没有扩展名）'}”：请用 .jsonl（JSON Lines）、.csv "
        "或 .xlsx（Excel 工作簿）文件。"
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


NOT_A_WORKBOOK = (
    "不是有效的 Excel 工作簿（.xlsx）：文件可能已损坏，或者其实是别的格式"
    "（比如把旧版 .xls 或 CSV 文件改了扩展名）。请在 Excel 里打开，另存为 .xlsx 后再导入。"
)


def check_file(path) -> tuple[str, str] | Problem:
    """(format, encoding) for a readable file, or the one Problem that stops it.
    A workbook has no encoding of its own (""): its XML says."""
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
        if fmt == "xlsx":
            # Only the zip container here; what is inside is checked when the
            # workbook is opened (workbook.py).
            if not zipfile.is_zipfile(p):
                return Problem(name, 0, "", NOT_A_WORKBOOK)
            return fmt, ""
        return fmt, detect_encoding(p)
    except InvalidInput as exc:
        return Problem(name, 0, "", exc.message)
    except OSError as exc:
        return Problem(name, 0, "", f"无法读取文件：{os_error_text(exc)}。")


def with_defaults(data: dict, defaults: dict) -> dict:
    """The record, with the command's --source, --source-url and --retrieved-on where
    it has none of its own (absent, empty or null)."""
    for key, value in defaults.items():
        if data.get(key) in (None, ""):
            data[key] = value
    return data


def _read_jsonl(path, encoding: str, options: ReadOptions) -> Iterator[RawRecord | Problem]:
    name = str(path)
    count = 0
    defaults = options.defaults
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
            if defaults:
                with_defaults(data, defaults)
            # JSON strings cannot hold raw control characters, only \u escapes.
            yield RawRecord(name, line_no, data, scan="\\u" in text)
    if count == 0:
        yield Problem(name, 0, "", "文件里没有任何记录。")


# --- Tables: CSV files and workbook sheets -----------------------------------------------------

# A table's rows as its reader gives them: (line or row number, cells), or the
# Problem that stops the reading. CSV cells are text; a workbook's are what
# openpyxl reads (text, numbers, dates, True/False, None).
Rows = Iterator[tuple[int, Sequence] | Problem]
# Turns a cell that is not text into what its field takes (workbook.cell_value).
Convert = Callable[[object, str], object]


def _filled(cell) -> bool:
    if cell is None:
        return False
    if isinstance(cell, str):
        return bool(cell.strip())
    return True


def _header_text(cell) -> str:
    return "" if cell is None else str(cell).strip()


def _find_header(rows: Rows) -> tuple[int, list[str]] | Problem | None:
    """The header row: the first with two cells or more. Blank rows and a title
    above the table (one cell, as lookup sites' exports have) come before it;
    a header has at least uscc and name, so it can't be either."""
    for item in rows:
        if isinstance(item, Problem):
            return item
        number, cells = item
        if sum(1 for cell in cells if _filled(cell)) >= 2:
            return number, [_header_text(cell) for cell in cells]
    return None


def read_table(
    name: str,
    rows: Rows,
    options: ReadOptions,
    *,
    sheet: str = "",
    convert: Convert | None = None,
) -> Iterator[RawRecord | Problem]:
    """A table's records, read through its header and the column map.

    A CSV row must have as many cells as the header; a sheet's row (`sheet`
    given) may have fewer, since Excel leaves out empty cells at the end.
    `convert` turns a workbook's cells that are not text into their field's.
    """

    def problem(line: int, message: str) -> Problem:
        return Problem(name, line, "", message, sheet)

    found = _find_header(rows)
    if isinstance(found, Problem):
        yield found
        return
    if found is None:
        yield problem(0, "工作表是空的。" if sheet else "文件是空的。")
        return
    header_line, texts = found
    if sheet:
        # Excel keeps formatted but empty cells after the last column.
        while texts and not texts[-1]:
            texts.pop()
    header = options.columns.read_header(texts)
    problems = list(header.problems)
    if "source" not in header.fields and not options.defaults.get("source"):
        problems.append(
            "表头里没有来源列（source 或“来源”），命令里也没有 --source：每条记录都要写明"
            "从哪里来。请加上“来源”一列，或者在命令里加上"
            ' --source "国家企业信用信息公示系统" 这样的说明。'
        )
    if problems:
        for message in problems:
            yield problem(header_line, message)
        return

    width = len(texts)
    unnamed = [index for index, text in enumerate(texts) if not text]
    columns = [(index, key) for index, key in enumerate(header.fields) if key is not None]
    defaults = options.defaults
    count = 0
    for item in rows:
        if isinstance(item, Problem):
            yield item
            return
        number, cells = item
        if not any(_filled(cell) for cell in cells):
            continue
        count += 1
        message = _shape_problem(cells, width, unnamed, sheet)
        if message:
            yield RawRecord(name, number, None, [problem(number, message)], sheet=sheet)
            continue
        data, cell_problems = _table_record(columns, cells, convert)
        if cell_problems:
            cell_problems = [Problem(name, number, key, text, sheet) for key, text in cell_problems]
        if defaults:
            with_defaults(data, defaults)
        # No cell holds a control character: check_file() refused CSV files with
        # any, and XML 1.0 can't hold them (only tab and line breaks), so the
        # workbook's parser would have stopped at one.
        yield RawRecord(name, number, data, cell_problems or None, scan=False, sheet=sheet)
    if count == 0:
        yield problem(0, "只有表头，没有任何记录。")


def _column_name(index: int) -> str:
    """The 0-based column `index` as a person finds it: "第 3 列（C 列）"."""
    letters, number = "", index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return f"第 {index + 1} 列（{letters} 列）"


def _shape_problem(cells: Sequence, width: int, unnamed: list[int], sheet: str) -> str:
    """What is wrong with a row's cells as a whole, or ""."""
    if not sheet and len(cells) != width:
        return f"这一行有 {len(cells)} 列，表头有 {width} 列。"
    for index in unnamed:
        if index < len(cells) and _filled(cells[index]):
            return (
                f"{_column_name(index)}有内容，但这一列没有列名：这一格属于哪个字段？"
                "请给它加上列名，或者删掉。"
            )
    for index in range(width, len(cells)):
        if _filled(cells[index]):
            return (
                f"{_column_name(index)}有内容，但表头只到{_column_name(width - 1)}："
                "这一格属于哪个字段？请给它加上列名，或者删掉。"
            )
    return ""


def _table_record(columns, cells: Sequence, convert: Convert | None) -> tuple[dict, list]:
    """One row as a record, and the cells that could not be read as their field."""
    record = {}
    problems = []
    size = len(cells)
    for index, key in columns:
        if index >= size:
            break
        cell = cells[index]
        if cell is None:
            continue
        if type(cell) is not str and convert is not None:
            try:
                cell = convert(cell, key)
            except InvalidInput as exc:
                problems.append((key, exc.message))
                continue
            if type(cell) is not str:
                record[key] = cell  # a workbook's TRUE/FALSE
                continue
        cell = cell.strip()
        if not cell or cell in PLACEHOLDERS:
            # An empty cell means "not given": a table cannot tell empty from
            # absent, and a sparse spreadsheet must not wipe stored values.
            continue
        if key in LIST_FIELDS:
            parts = [part.strip() for part in LIST_SEPARATORS.split(cell)]
            parts = [part for part in parts if part and part not in PLACEHOLDERS]
            if key == "phones":
                record.setdefault(key, []).extend({"number": part} for part in parts)
            else:
                record.setdefault(key, []).extend(parts)
        else:
            record[key] = cell
    return record, problems


def _csv_rows(path, encoding: str) -> Rows:
    """(line where the record starts, cells) for each row of a CSV file."""
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        previous_line = 0
        try:
            for row in reader:
                # A quoted cell may span lines; a record starts right after the last one.
                yield previous_line + 1, row
                previous_line = reader.line_num
        except csv.Error:
            yield Problem(
                str(path),
                reader.line_num,
                "",
                "CSV 格式有误（多半是引号没有配对），无法继续读取这个文件。",
            )


def _read_csv(path, encoding: str, options: ReadOptions) -> Iterator[RawRecord | Problem]:
    yield from read_table(str(path), _csv_rows(path, encoding), options)


def _read_xlsx(path, encoding: str, options: ReadOptions) -> Iterator[RawRecord | Problem]:
    # Imported here: openpyxl takes a quarter of a second to import, which
    # every other command that touches the importer would pay for nothing.
    from . import workbook

    yield from workbook.read(path, options)


_READERS = {"jsonl": _read_jsonl, "csv": _read_csv, "xlsx": _read_xlsx}


def read_checked_file(
    path, fmt: str, encoding: str, options: ReadOptions | None = None
) -> Iterator[RawRecord | Problem]:
    """Stream the records of a file that check_file() has passed, as (fmt, encoding)."""
    yield from _READERS[fmt](path, encoding, options or ReadOptions())


def read_file(path, options: ReadOptions | None = None) -> Iterator[RawRecord | Problem]:
    """Stream a file's records; problems with the file as a whole come as Problem items."""
    checked = check_file(path)
    if isinstance(checked, Problem):
        yield checked
        return
    yield from read_checked_file(path, *checked, options)


def input_size(path, fmt: str) -> int:
    """About how much text a file holds, for deciding whether to check in a child
    process: a workbook's is its XML, several times the zip's size."""
    if fmt == "xlsx":
        try:
            with zipfile.ZipFile(path) as archive:
                return sum(info.file_size for info in archive.infolist())
        except (OSError, zipfile.BadZipFile):
            return 0
    return Path(path).stat().st_size


def estimate_records(paths) -> int:
    """Roughly how many records the files hold (their newlines), for a progress bar;
    0 (unknown) when there is a workbook, whose rows can't be counted without reading it."""
    total = 0
    for path in paths:
        suffix = Path(path).suffix.lower()
        if suffix in XLSX_SUFFIXES:
            return 0
        try:
            with open(path, "rb") as fh:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        except OSError:
            continue
        if suffix in CSV_SUFFIXES:
            total -= 1
    return max(total, 0)
