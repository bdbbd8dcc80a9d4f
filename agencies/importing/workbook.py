"""Reading an Excel workbook (.xlsx): one sheet, opened with openpyxl's read-only mode
and streamed row by row (SheetCells), its cells turned into what the table reader
(reading.py) takes.

Excel stores numbers, not text, wherever a cell looks like one: a phone number
typed into a cell is the number 13907312468, a date is a day count (43529)
shown through a date format. Cells are read back as the field needs them: text
fields get the digits as typed (never "1.3907312468E10" or "13907312468.0"),
date fields a date.
"""

import datetime
import warnings
from collections.abc import Iterator
from decimal import Decimal
from xml.parsers import expat

from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader
from openpyxl.utils.datetime import from_excel, from_ISO8601

from .columns import DATE_FIELDS
from .problems import InvalidInput, Problem
from .reading import NOT_A_WORKBOOK, RawRecord, ReadOptions, read_table

# Excel keeps 15 significant digits: a longer number typed into a cell has
# already lost its last digits when the file is saved (as 9.1430100000000006E+17).
_EXACT_BELOW = 10**15
# Day counts read as dates when a date field holds a plain number. Smaller
# numbers are not taken for dates: 2019 typed as a year would read as
# 1905-07-11. 10959 is 1930-01-01, before any agency in this registry.
_FIRST_SERIAL, _LAST_SERIAL = 10959, 2958465  # 1930-01-01 … 9999-12-31


def number_text(value: int | float) -> str:
    """A number as it was typed: 13907312468.0 → "13907312468", 1000.5 → "1000.5"."""
    if isinstance(value, int):
        return str(value)  # written without a fraction or exponent: exact
    if not value.is_integer():
        # repr() is the shortest text that reads back as the same float; Decimal
        # spells it without an exponent.
        return format(Decimal(repr(value)), "f")
    text = str(int(value))
    if abs(value) >= _EXACT_BELOW:
        raise InvalidInput(
            f"这一格是 {len(text.lstrip('-'))} 位的数字：Excel 只保留 15 位有效数字，"
            f"后面几位已经丢失（存成了“{text}”），无法还原。请把这一列设成“文本”格式后重新填写。"
        )
    return text


def cell_value(value, key: str, epoch: datetime.datetime) -> object:
    """A cell that is not text, as the field `key` takes it: text, or True/False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime.datetime):
        if key in DATE_FIELDS or value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, int | float):
        if key in DATE_FIELDS and _FIRST_SERIAL <= value <= _LAST_SERIAL:
            # A day count without a date format: "copy, paste values" loses the format.
            return from_excel(value, epoch).date().isoformat()
        # Anything else in a date field is refused by the date check, in its words.
        return number_text(value)
    return str(value)


def _parser(start, end, text):
    """An expat parser calling these handlers, with the text of an element in one piece."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    return parser


class _SharedStrings:
    """Reads a workbook's shared-strings table (xl/sharedStrings.xml) with expat.

    Gives what openpyxl's read_string_table gives: each <si>'s text, its rich
    text runs joined, phonetic guides (<rPh>) left out, "_x005F_" unescaped.
    openpyxl builds objects for every string instead: for a 100,000-row export
    (351,000 strings) that took 2.5 s, before the first row could be read.
    """

    def __init__(self):
        self.strings: list[str] = []
        self.parts: list[str] = []
        self.collecting = False
        self.phonetic = 0

    def _start(self, name, attrs):
        tag = _LOCAL_NAMES.get(name) or _local(name)
        if tag == "t" and not self.phonetic:
            self.collecting = True
        elif tag == "rPh":
            self.phonetic += 1
        elif tag == "si":
            self.parts = []

    def _text(self, data):
        if self.collecting:
            self.parts.append(data)

    def _end(self, name):
        tag = _LOCAL_NAMES.get(name) or _local(name)
        if tag == "t":
            self.collecting = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "si":
            self.strings.append("".join(self.parts).replace("x005F_", ""))

    def read(self, source) -> list[str]:
        _parser(self._start, self._end, self._text).ParseFile(source)
        return self.strings


def read_shared_strings(source) -> list[str]:
    return _SharedStrings().read(source)


class _WorkbookReader(ExcelReader):
    """openpyxl's reader, with the shared strings read by read_shared_strings()."""

    def read_strings(self):
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:]) as source:
                self.shared_strings = read_shared_strings(source)


def _load(path):
    reader = _WorkbookReader(path, read_only=True, data_only=True)
    reader.read()
    return reader.wb


def _open(path, wanted: str | None):
    """(workbook, sheet) for the sheet --sheet names (a name, or a number from 1), or
    the first. Raises InvalidInput."""
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it drops (data validation, extensions):
            # nothing the values depend on.
            warnings.simplefilter("ignore")
            book = _load(path)
    except Exception:
        # A broken package fails wherever its broken part is read (BadZipFile,
        # KeyError for a missing part, XML ParseError, TypeError, ValueError…);
        # to the person with the file it is all the same thing.
        raise InvalidInput(NOT_A_WORKBOOK) from None
    sheets = book.worksheets
    names = "、".join(f"“{sheet.title}”" for sheet in sheets)
    if not sheets:
        book.close()
        raise InvalidInput("工作簿里没有工作表。")
    if wanted is None:
        return book, sheets[0]
    if wanted in book.sheetnames and book[wanted] in sheets:
        return book, book[wanted]
    if wanted.isdigit() and 1 <= int(wanted) <= len(sheets):
        return book, sheets[int(wanted) - 1]
    book.close()
    raise InvalidInput(f"工作簿里没有名为“{wanted}”的工作表；有：{names}。")


# Names of the sheet XML's elements that matter, with or without a namespace prefix.
_LOCAL_NAMES = {}


def _local(name: str) -> str:
    local = _LOCAL_NAMES.get(name)
    if local is None:
        local = _LOCAL_NAMES[name] = name.rpartition(":")[2]
    return local


def _column(ref: str) -> int:
    """The column of a cell reference, from 1: "C12" → 3, "AB7" → 28."""
    number = 0
    for char in ref:
        code = ord(char)
        if code < 65:  # the row's digits
            break
        number = number * 26 + code - 64
    return number


def _number(text: str) -> int | float:
    return float(text) if "." in text or "e" in text or "E" in text else int(text)


class SheetCells:
    """Reads the cells of a sheet's XML as it streams in: (row number, values) per row.

    openpyxl opens the workbook and knows which part is which sheet, which
    styles are dates and the workbook's epoch (the shared strings come from
    read_shared_strings(), through _WorkbookReader); this does only
    what its own sheet reader would, for values alone. That reader builds
    ElementTree elements and openpyxl objects for every cell: with it, reading
    and checking bench/import_xlsx.py's 100,000-row workbook took the checking
    process 22 s of CPU, 4,500 rows/s, under the import's 5,000 rows/s floor
    before any writing; with this expat handler, 12-14 s (docs/benchmarks.md).

    Values are as openpyxl gives them with values_only=True: text, int or
    float, True/False, datetime for numbers in a date style, error text
    ("#N/A"), and a formula's last computed value.
    """

    def __init__(self, shared_strings, date_styles, timedelta_styles, epoch):
        self.shared_strings = shared_strings
        self.date_styles = {str(style) for style in date_styles}
        self.timedelta_styles = {str(style) for style in timedelta_styles}
        self.epoch = epoch
        self.done: list[tuple[int, list]] = []
        self.row: list | None = None
        self.row_number = 0
        self.column = 0
        self.kind = "n"
        self.style = None
        self.parts: list[str] | None = None
        self.collecting = False
        self.phonetic = 0

    def parser(self):
        return _parser(self._start, self._end, self._text)

    def _start(self, name, attrs):
        tag = _LOCAL_NAMES.get(name) or _local(name)
        if tag == "c":
            ref = attrs.get("r")
            self.column = _column(ref) if ref else self.column + 1
            self.kind = attrs.get("t", "n")
            self.style = attrs.get("s")
            self.parts = None
        elif self.row is None:
            if tag == "row":
                number = attrs.get("r")
                self.row_number = int(number) if number else self.row_number + 1
                self.row = []
                self.column = 0
        elif tag == "v" or (tag == "t" and not self.phonetic):
            # Rich text is several <t> runs: they add up to the cell's text.
            if self.parts is None:
                self.parts = []
            self.collecting = True
        elif tag == "rPh":
            self.phonetic += 1  # a phonetic guide's text is not the cell's

    def _text(self, data):
        if self.collecting:
            self.parts.append(data)

    def _end(self, name):
        tag = _LOCAL_NAMES.get(name) or _local(name)
        if tag == "v" or tag == "t":
            self.collecting = False
        elif tag == "c":
            if self.row is not None and self.parts is not None:
                self._put(self._value("".join(self.parts)))
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "row" and self.row is not None:
            self.done.append((self.row_number, self.row))
            self.row = None

    def _value(self, text: str):
        kind = self.kind
        if kind == "s":
            return self.shared_strings[int(text)]
        if kind == "n":
            if not text:
                return None
            value = _number(text)
            style = self.style
            if style is not None and style in self.date_styles:
                try:
                    return from_excel(value, self.epoch, timedelta=style in self.timedelta_styles)
                except (OverflowError, ValueError):
                    return value  # outside Excel's dates: the number is what there is
            return value
        if kind == "inlineStr":
            # As openpyxl reads text: "_x005F_" is Excel's escape for "_".
            return text.replace("x005F_", "")
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":
            return from_ISO8601(text)
        return text  # "str" (a formula's text) and "e" (an error such as #N/A)

    def _put(self, value) -> None:
        row, index = self.row, self.column - 1
        if index == len(row):
            row.append(value)
        elif index > len(row):
            row.extend([None] * (index - len(row)))
            row.append(value)
        else:
            row[index] = value

    def rows(self, source) -> Iterator[tuple[int, list]]:
        parser = self.parser()
        while chunk := source.read(1 << 16):
            parser.Parse(chunk, False)
            if self.done:
                yield from self.done
                self.done.clear()
        parser.Parse(b"", True)
        yield from self.done
        self.done.clear()


def _rows(book, sheet, name: str) -> Iterator[tuple[int, list] | Problem]:
    """(row number, values) for each row of the sheet that has any cells."""
    cells = SheetCells(
        # openpyxl's own parts of the opened workbook: the exact version is pinned
        # (pyproject.toml), and tests/test_import_files.py reads real workbooks.
        sheet._shared_strings,
        book._date_formats,
        book._timedelta_formats,
        book.epoch,
    )
    last = 0
    try:
        with book._archive.open(sheet._worksheet_path) as source:
            for row in cells.rows(source):
                last = row[0]
                yield row
    except Exception:
        # As in _open: a broken part fails however it breaks (ExpatError,
        # BadZipFile, zlib.error, EOFError, IndexError for a missing string…).
        if cells.done:
            last = cells.done[-1][0]  # read whole, but not passed on yet
        yield Problem(
            name,
            0,
            "",
            f"工作表在第 {last} 行之后的内容无法读取：文件可能已损坏。"
            "请在 Excel 里打开，另存为 .xlsx 后再导入。",
            sheet.title,
        )
    finally:
        book.close()


def read(path, options: ReadOptions) -> Iterator[RawRecord | Problem]:
    """A workbook's records, from its first sheet or the one options.sheet names."""
    name = str(path)
    try:
        book, sheet = _open(path, options.sheet)
    except InvalidInput as exc:
        yield Problem(name, 0, "", exc.message)
        return
    epoch = book.epoch

    def convert(value, key):
        return cell_value(value, key, epoch)

    yield from read_table(
        name, _rows(book, sheet, name), options, sheet=sheet.title, convert=convert
    )
