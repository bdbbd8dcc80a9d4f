"""The fields of a record, and which column of a table (CSV or workbook) fills which.

`HEADERS` is the one table of the header names people's files use: the format's
own field names, and the Chinese headers of the registry and the common lookup
sites' exports. `--columns FILE` adds to it, `--ignore-columns` drops columns;
`ColumnMap` puts the three together and reads a header row through them.
Headers are compared folded (`header_key`): width, case and spaces do not count.
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .problems import Problem, os_error_text

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
    "history",
)
# clients, actions and history are lists of objects, which a table's cell cannot hold.
CSV_FIELDS = tuple(key for key in FIELDS if key not in ("clients", "actions", "history"))
PHONE_FIELDS = ("number", "label", "source", "source_url", "reported_on")
CLIENT_FIELDS = ("name", "since", "until", "source_url")
ACTION_FIELDS = ("kind", "authority", "decided_on", "document_number", "summary", "source_url")
HISTORY_FIELDS = (
    "field", "old", "new", "changed_at", "via", "source", "source_url", "retrieved_on"
)  # fmt: skip
# Fields whose cells hold several values; see reading.LIST_SEPARATORS.
LIST_FIELDS = frozenset({"former_names", "aliases", "phones"})
# Dates: a workbook's date cells and serial numbers are read as dates in these.
DATE_FIELDS = frozenset({"established_on", "retrieved_on"})

# What each field is, in the words the messages use.
FIELD_LABELS = {
    "uscc": "统一社会信用代码",
    "name": "机构名称",
    "former_names": "曾用名",
    "aliases": "对外名称、简称",
    "province": "省份",
    "city": "城市",
    "entity_type": "企业类型",
    "legal_representative": "法定代表人",
    "registered_capital": "注册资本",
    "established_on": "成立日期",
    "status": "登记状态",
    "registration_authority": "登记机关",
    "address": "住所",
    "business_scope": "经营范围",
    "source": "来源",
    "source_url": "来源网址",
    "retrieved_on": "获取日期",
    "phones": "电话",
    "clients": "委托方",
    "actions": "监管记录",
    "is_sample": "是否示例数据",
    "history": "变更记录",
}

# Header → field: the format's own names, then what the national registry
# (国家企业信用信息公示系统) and the lookup sites' exports (企查查, 天眼查,
# 爱企查) call the same thing. One table, so that adding a spelling is one line
# and the docs can list them all (tests/test_import_files.py checks each).
HEADERS = {
    **{key: key for key in FIELDS},
    "统一社会信用代码": "uscc",
    "企业名称": "name",
    "名称": "name",
    "公司名称": "name",
    "曾用名": "former_names",
    "所属省份": "province",
    "省份": "province",
    "所属城市": "city",
    "城市": "city",
    "企业类型": "entity_type",
    "类型": "entity_type",
    "公司类型": "entity_type",
    "企业(机构)类型": "entity_type",
    "法定代表人": "legal_representative",
    "负责人": "legal_representative",
    "注册资本": "registered_capital",
    "成立日期": "established_on",
    "登记状态": "status",
    "经营状态": "status",
    "登记机关": "registration_authority",
    "住所": "address",
    "企业地址": "address",
    "地址": "address",
    "注册地址": "address",
    "经营范围": "business_scope",
    "来源": "source",
    "来源网址": "source_url",
    "获取日期": "retrieved_on",
    "电话": "phones",
    "更多电话": "phones",
}


def header_key(text: str) -> str:
    """A header as compared: full-width folded, spaces removed, lower case,
    so "企业（机构）类型", "企业(机构)类型" and "USCC " are the headers people mean."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


# Folded once; HEADERS is written as people write the headers.
_BUILT_IN = {header_key(header): target for header, target in HEADERS.items()}


def label(key: str) -> str:
    """`name（机构名称）`: a field as the messages name it."""
    return f"{key}（{FIELD_LABELS[key]}）"


@dataclass(frozen=True)
class Header:
    """A header row read through a ColumnMap: the field each column fills (None:
    the column is not read) and what is wrong with the row."""

    fields: list[str | None]
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnMap:
    """The header → field table an import reads its tables with."""

    # header_key(header) → field, or None for a column to leave out.
    targets: dict[str, str | None]

    @classmethod
    def build(cls, columns_file=None, ignore: Iterable[str] = ()) -> tuple["ColumnMap", list]:
        """HEADERS, then the --columns file's entries, then the --ignore-columns
        names; with the problems of the --columns file (a list of Problem)."""
        targets = dict(_BUILT_IN)
        problems = []
        if columns_file is not None:
            entries, problems = load_columns_file(columns_file)
            targets.update(entries)
        for header in ignore:
            if header.strip():
                targets[header_key(header)] = None
        return cls(targets), problems

    def read_header(self, cells: list[str]) -> Header:
        fields: list[str | None] = []
        unknown, nested, problems = [], [], []
        seen: set[str] = set()
        owner: dict[str, str] = {}  # field → the header that fills it
        for text in cells:
            key = header_key(text)
            target = self.targets.get(key)
            fields.append(None)
            if not key:
                pass  # no name: the table reader refuses any value in the column
            elif key in seen:
                problems.append(f"表头里“{text}”出现了不止一次。")
            elif key not in self.targets:
                unknown.append(text)
            elif target is None:
                pass  # left out on purpose
            elif target not in CSV_FIELDS:
                nested.append(text)
            elif target in owner and target not in LIST_FIELDS:
                problems.append(
                    f"“{owner[target]}”和“{text}”都是 {label(target)}，只能有一列；"
                    "不用的那一列可以用 --ignore-columns 忽略。"
                )
            else:
                # Several columns may fill a list: 电话 and 更多电话 are both numbers.
                owner.setdefault(target, text)
                fields[-1] = target
            seen.add(key)
        missing = [label(key) for key in ("uscc", "name") if key not in owner]
        if missing:
            problems.append("表头缺少必需的列：" + "、".join(missing) + "。")
        if unknown:
            problems.insert(
                0,
                "表头里有不认识的列：“"
                + "”、“".join(unknown)
                + "”。列名应是导入格式的字段名（uscc, name, …）或常见的中文表头"
                "（统一社会信用代码、企业名称……，全部写法见 docs/import-format.md）；"
                "不需要的列可以用 --ignore-columns 忽略，别的写法可以用 --columns 对应到字段。",
            )
        if nested:
            problems.insert(
                0,
                "CSV 和 .xlsx 表格都不支持这些列："
                + "、".join(nested)
                + "（它们是对象列表，请改用 JSON Lines）。",
            )
        return Header(fields, problems)


_NULL_TAG = "tag:yaml.org,2002:null"


def load_columns_file(path) -> tuple[dict[str, str | None], list[Problem]]:
    """The --columns YAML file, checked: one `header: field` a line, the field one of
    the format's (CSV_FIELDS), or nothing to leave the column out."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}, [Problem(name, 0, "", "找不到这个列名对照文件（--columns）。")]
    except UnicodeDecodeError:
        return {}, [Problem(name, 0, "", "列名对照文件应以 UTF-8 编码保存。")]
    except OSError as exc:
        return {}, [Problem(name, 0, "", f"无法读取列名对照文件：{os_error_text(exc)}。")]
    try:
        # Composed rather than loaded: nodes know their line, for the messages,
        # and a header written twice is caught (loading would keep the last).
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        message = "不是有效的 YAML，请检查这一行附近的冒号、引号和缩进。"
        return {}, [Problem(name, line, "", message)]
    if node is None:
        return {}, [Problem(name, 0, "", "列名对照文件是空的。")]
    if not isinstance(node, yaml.MappingNode):
        message = "列名对照文件应是一行一个“表头: 字段”，如“公司: name”。"
        return {}, [Problem(name, node.start_mark.line + 1, "", message)]
    targets: dict[str, str | None] = {}
    problems = []
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        header = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
        key = header_key(header)
        if not key:
            problems.append(Problem(name, line, "", "表头应是一段文字。"))
        elif key in targets:
            problems.append(Problem(name, line, "", f"“{header}”写了不止一次。"))
        elif not isinstance(value_node, yaml.ScalarNode):
            message = f"“{header}”应对应一个字段名，如 name。"
            problems.append(Problem(name, line, "", message))
        elif value_node.tag == _NULL_TAG:
            targets[key] = None  # `header:` with nothing after it: leave the column out
        elif value_node.value.strip() not in CSV_FIELDS:
            target = value_node.value.strip()
            nested = "（对象列表，表格里不支持，请改用 JSON Lines）" if target in FIELDS else ""
            message = (
                f"“{header}”对应的“{target}”不是表格能用的字段{nested}；可用："
                + ", ".join(CSV_FIELDS)
                + "；不写字段表示忽略这一列。"
            )
            problems.append(Problem(name, line, "", message))
        else:
            targets[key] = value_node.value.strip()
    return targets, problems
