"""import_agencies on the files people have: Chinese headers, GB18030, .xlsx workbooks,
other date forms, several numbers in a cell, --columns, --ignore-columns, --sheet and
--source. The files are built here, small, from the rows each test needs."""

import csv
import datetime
import io
import json
import zipfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from agencies import importing
from agencies.importing import check_record, parallel, workbook
from agencies.importing.problems import InvalidInput
from agencies.models import Agency, Phone
from tests.test_import import run_dry_import

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
A, B, C = "91430100TE00090018", "91110100TE00090032", "91440100TE0009004M"

# Every header people's files use, with a value and what is stored from it.
ZH_HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "法定代表人",
    "登记状态",
    "成立日期",
    "注册资本",
    "企业类型",
    "登记机关",
    "所属省份",
    "所属城市",
    "住所",
    "经营范围",
    "曾用名",
    "电话",
    "更多电话",
    "来源",
    "来源网址",
    "获取日期",
]
ZH_ROW = [
    A,
    "长沙测试资产管理有限公司",
    "张测试",
    "存续（在营、开业、在册）",
    "2019年3月5日",
    "1000万元人民币",
    "有限责任公司（自然人投资或控股）",
    "长沙市芙蓉区市场监督管理局",
    "湖南省",
    "长沙市",
    "湖南省长沙市芙蓉区测试路1号",
    "受托资产管理；企业管理咨询。",
    "长沙测试商务咨询有限公司；长沙测试信息咨询有限公司",
    "13900001234",
    "0731-00008888；400-000-1234",
    "国家企业信用信息公示系统",
    "https://example.org/registry/a",
    "2024/6/1",
]
# The same agency as the format's own JSON Lines record.
AS_JSONL = {
    "uscc": A,
    "name": "长沙测试资产管理有限公司",
    "legal_representative": "张测试",
    "status": "存续",
    "established_on": "2019-03-05",
    "registered_capital": "1000万元人民币",
    "entity_type": "有限责任公司（自然人投资或控股）",
    "registration_authority": "长沙市芙蓉区市场监督管理局",
    "province": "湖南省",
    "city": "长沙市",
    "address": "湖南省长沙市芙蓉区测试路1号",
    "business_scope": "受托资产管理；企业管理咨询。",
    "former_names": ["长沙测试商务咨询有限公司", "长沙测试信息咨询有限公司"],
    "phones": ["13900001234", "0731-00008888", "400-000-1234"],
    "source": "国家企业信用信息公示系统",
    "source_url": "https://example.org/registry/a",
    "retrieved_on": "2024-06-01",
}


def run_import(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_agencies", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failed_import(*args) -> tuple[str, str]:
    """Run an import that must fail; the problems (stderr) and the CommandError text."""
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_agencies", *map(str, args), stdout=io.StringIO(), stderr=err)
    return err.getvalue(), str(failure.value)


def write_csv(path: Path, rows, encoding: str = "utf-8") -> Path:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows, title: str = "Sheet1", *, date_format=True, sheets=()) -> Path:
    """A workbook whose first sheet holds `rows`, datetime cells shown as dates, as
    Excel saves them; `sheets` adds more (title, rows) after it."""
    book = openpyxl.Workbook()
    first = book.active
    first.title = title
    for sheet, sheet_rows in [(first, rows), *((book.create_sheet(t), r) for t, r in sheets)]:
        for row in sheet_rows:
            sheet.append(row)
        if date_format:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, datetime.datetime):
                        cell.number_format = "yyyy-mm-dd"
    book.save(path)
    return path


def export() -> str:
    out = io.StringIO()
    call_command("export_agencies", stdout=out)
    return out.getvalue()


def table(*columns: tuple[str, object]) -> list[list]:
    """A header and one row from (header, value) pairs; a source unless one is given."""
    pairs = [("统一社会信用代码", A), ("企业名称", "长沙测试资产管理有限公司"), *columns]
    if not any(header in ("来源", "source") for header, _ in pairs):
        pairs.append(("来源", "测试来源"))
    return [[header for header, _ in pairs], [value for _, value in pairs]]


# --- The headers people's files have -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "encoding"),
    [("zh.csv", "utf-8"), ("zh-bom.csv", "utf-8-sig"), ("zh.csv", "gb18030"), ("zh.xlsx", None)],
)
def test_a_chinese_header_file_imports_as_the_same_jsonl_record(tmp_path, name, encoding):
    path = tmp_path / name
    if encoding:
        write_csv(path, [ZH_HEADERS, ZH_ROW], encoding)
    else:
        write_xlsx(path, [ZH_HEADERS, ZH_ROW])

    out, err = run_import(path)

    assert out.strip() == "导入完成：新增 1 条，更新 0 条，未变 0 条，有误 0 条。"
    assert err == ""
    from_table = export()
    Agency.objects.all().delete()
    Phone.objects.all().delete()
    jsonl = tmp_path / "same.jsonl"
    jsonl.write_text(json.dumps(AS_JSONL, ensure_ascii=False) + "\n", encoding="utf-8")
    run_import(jsonl)
    assert from_table == export()
    agency = Agency.objects.get()
    assert (agency.established_on, agency.retrieved_on) == (date(2019, 3, 5), date(2024, 6, 1))
    assert agency.registered_capital_wan == Decimal(1000)


# Each header of the table, with a value for it and what the agency then holds.
STORED = {
    "uscc": (A, lambda a: a.uscc),
    "name": ("长沙测试资产管理有限公司", lambda a: a.name),
    "former_names": (
        "旧名甲；旧名乙",
        lambda a: sorted(a.names.filter(kind="former").values_list("name", flat=True)),
        ["旧名乙", "旧名甲"],
    ),
    "aliases": (
        "测试催收",
        lambda a: list(a.names.filter(kind="alias").values_list("name", flat=True)),
        ["测试催收"],
    ),
    "province": ("广东省", lambda a: a.province_id, "44"),
    "city": ("长沙市", lambda a: a.city),
    "entity_type": ("有限责任公司", lambda a: a.entity_type),
    "legal_representative": ("张测试", lambda a: a.legal_representative),
    "registered_capital": ("500万元", lambda a: a.registered_capital),
    "established_on": ("2019.3.5", lambda a: a.established_on, date(2019, 3, 5)),
    "status": ("吊销，未注销", lambda a: a.status, "吊销"),
    "registration_authority": ("长沙市市场监督管理局", lambda a: a.registration_authority),
    "address": ("长沙市测试路1号", lambda a: a.address),
    "business_scope": ("受托资产管理。", lambda a: a.business_scope),
    "source": ("企查查", lambda a: a.source),
    "source_url": ("https://example.org/x", lambda a: a.source_url),
    "retrieved_on": ("2024年6月1日", lambda a: a.retrieved_on, date(2024, 6, 1)),
    "phones": (
        "13900001234",
        lambda a: list(a.phone_links.values_list("phone__key", flat=True)),
        ["13900001234"],
    ),
    "is_sample": ("是", lambda a: a.is_sample, True),
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "key"),
    [(header, key) for header, key in importing.HEADERS.items() if key in importing.CSV_FIELDS],
)
def test_every_header_in_the_table_is_read_as_its_field(tmp_path, header, key):
    value, stored, *expected = STORED[key]
    base = {"uscc": ("统一社会信用代码", A), "name": ("企业名称", "长沙测试资产管理有限公司")}
    base["source"] = ("来源", "测试来源")
    base[key] = (header, value)  # the header under test stands in for its field's usual one

    run_import(write_csv(tmp_path / "data.csv", list(zip(*base.values(), strict=True))))

    assert stored(Agency.objects.get()) == (expected[0] if expected else value)


@pytest.mark.django_db
def test_headers_are_compared_without_width_spaces_or_case(tmp_path):
    rows = [
        [" 统一社会信用代码 ", "企业 名称", "企业（机构）类型", "SOURCE"],
        [A, "甲", "有限公司", "来源"],
    ]

    run_import(write_csv(tmp_path / "data.csv", rows))

    assert Agency.objects.get().entity_type == "有限公司"


def test_docs_list_every_header():
    doc = (ROOT / "docs" / "import-format.md").read_text(encoding="utf-8")
    for header in importing.HEADERS:
        assert f"`{header}`" in doc, header


# --- Problems with headers ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["统一社会信用代码", "企业名称", "来源", "邮箱", "参保人数"],
            "表头里有不认识的列：“邮箱”、“参保人数”。",
        ),
        (["统一社会信用代码", "企业名称", "来源", "电话", "电话"], "表头里“电话”出现了不止一次。"),
        (
            ["统一社会信用代码", "企业名称", "名称", "来源"],
            "“企业名称”和“名称”都是 name（机构名称），只能有一列；"
            "不用的那一列可以用 --ignore-columns 忽略。",
        ),
        (["统一社会信用代码", "法定代表人", "来源"], "表头缺少必需的列：name（机构名称）。"),
    ],
)
def test_header_problems_stop_the_file(tmp_path, header, expected):
    path = write_csv(tmp_path / "data.csv", [header, [A, "甲", "乙", "丙", "丁"][: len(header)]])

    problems, failure = failed_import(path)

    assert f"{path}:1: {expected}" in problems
    assert "没有写入任何数据" in failure
    assert Agency.objects.count() == 0


@pytest.mark.django_db
def test_phone_and_more_phones_fill_one_list(tmp_path):
    rows = table(("电话", "13900001234"), ("更多电话", "13900005678"))

    run_import(write_csv(tmp_path / "data.csv", rows))

    assert sorted(Agency.objects.get().phone_links.values_list("phone__key", flat=True)) == [
        "13900001234",
        "13900005678",
    ]


@pytest.mark.django_db
def test_ignore_columns_leaves_named_columns_out(tmp_path):
    rows = table(("邮箱", "a@example.org"), ("参保人数", 3), ("电话", "13900001234"))
    path = write_csv(tmp_path / "data.csv", rows)
    problems, _ = failed_import(path)
    assert "“邮箱”、“参保人数”" in problems
    assert "--ignore-columns" in problems  # the message says how

    run_import(path, "--ignore-columns", "邮箱，参保人数", "--ignore-columns", "电话")

    agency = Agency.objects.get()
    assert agency.name == "长沙测试资产管理有限公司"
    assert agency.phone_links.count() == 0  # a known column can be left out too


# --- --columns ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_columns_file_maps_any_other_layout(tmp_path):
    columns = tmp_path / "columns.yaml"
    columns.write_text(
        "# 我们自己的表格\n公司: name\n信用代码: uscc\n联系方式: phones\n数据来源: source\n备注:\n",
        encoding="utf-8",
    )
    rows = [
        ["信用代码", "公司", "联系方式", "数据来源", "备注", "城市"],
        [A, "长沙测试资产管理有限公司", "13900001234、13900005678", "自查", "随便写写", "长沙市"],
    ]

    run_import(write_csv(tmp_path / "data.csv", rows), "--columns", columns)

    agency = Agency.objects.get()
    assert (agency.uscc, agency.name, agency.source, agency.city) == (
        A,
        "长沙测试资产管理有限公司",
        "自查",
        "长沙市",  # the built-in headers still apply
    )
    assert agency.phone_links.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "公司: name\n信用代码: uscc: x\n",
            ":2: 不是有效的 YAML，请检查这一行附近的冒号、引号和缩进。",
        ),
        ("- name\n- uscc\n", ":1: 列名对照文件应是一行一个“表头: 字段”，如“公司: name”。"),
        (
            "公司: name\n电话号码: phone\n",
            ":2: “电话号码”对应的“phone”不是表格能用的字段；可用：uscc, name",
        ),
        ("委托: clients\n", ":1: “委托”对应的“clients”不是表格能用的字段（对象列表"),
        ("公司: name\n公司: uscc\n", ":2: “公司”写了不止一次。"),
        ("公司: [name, uscc]\n", ":1: “公司”应对应一个字段名，如 name。"),
        ("", ": 列名对照文件是空的。"),
    ],
)
def test_a_bad_columns_file_is_refused_before_any_file_is_read(tmp_path, text, expected):
    columns = tmp_path / "columns.yaml"
    columns.write_text(text, encoding="utf-8")

    problems, failure = failed_import(tmp_path / "not-even-read.csv", "--columns", columns)

    assert f"{columns}{expected}" in problems
    assert "Traceback" not in problems
    assert "没有写入任何数据" in failure


@pytest.mark.django_db
def test_a_missing_columns_file_is_said(tmp_path):
    problems, _ = failed_import(tmp_path / "data.csv", "--columns", tmp_path / "nope.yaml")
    assert f"{tmp_path / 'nope.yaml'}: 找不到这个列名对照文件（--columns）。" in problems


# --- Dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2019-03-05",
        "2019/3/5",
        "2019/03/05",
        "2019.3.5",
        "2019-3-5",
        "2019年3月5日",
        "2019 年 3 月 5 日",
        "２０１９／３／５",
    ],
)
def test_the_date_forms_people_write(text):
    assert importing.parse_date(text) == "2019-03-05"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2019/2/30", "没有这一天：“2019/2/30”。"),
        (
            "2019/3-5",
            "日期格式应为 YYYY-MM-DD（也可以写 2019/3/5、2019.3.5 或 2019年3月5日），"
            "这里是“2019/3-5”。",
        ),
        ("5/3/2019", "日期格式应为"),
        ("2019年3月", "日期格式应为"),
    ],
)
def test_dates_that_are_not(text, message):
    with pytest.raises(InvalidInput) as error:
        importing.parse_date(text)
    assert error.value.message.startswith(message)


@pytest.mark.django_db
def test_workbook_dates_date_cells_and_serial_numbers(tmp_path):
    rows = [
        ["统一社会信用代码", "企业名称", "成立日期", "获取日期", "来源"],
        [A, "甲", datetime.datetime(2019, 3, 5), datetime.datetime(2024, 6, 1, 15, 30), "来源"],
        [B, "乙", 43529, 45444.75, "来源"],  # bare day counts: "paste values" lost the format
        [C, "丙", "2019年3月5日", "2024/6/1", "来源"],
    ]

    run_import(write_xlsx(tmp_path / "dates.xlsx", rows))

    assert set(Agency.objects.values_list("established_on", "retrieved_on")) == {
        (date(2019, 3, 5), date(2024, 6, 1))
    }


@pytest.mark.django_db
def test_serial_dates_follow_the_workbooks_1904_calendar(tmp_path):
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(["统一社会信用代码", "企业名称", "成立日期", "来源"])
    book.active.append([A, "甲", 42067, "来源"])  # 2019-03-05 counted from 1904-01-01
    book.save(tmp_path / "mac.xlsx")

    run_import(tmp_path / "mac.xlsx")

    assert Agency.objects.get().established_on == date(2019, 3, 5)


@pytest.mark.django_db
def test_a_small_number_in_a_date_column_is_not_taken_for_a_date(tmp_path):
    rows = [["统一社会信用代码", "企业名称", "成立日期", "来源"], [A, "甲", 2019, "来源"]]
    path = write_xlsx(tmp_path / "year.xlsx", rows)

    problems, _ = failed_import(path)

    assert problems.strip() == (
        f"{path}:Sheet1!R2: established_on: 日期格式应为 YYYY-MM-DD"
        "（也可以写 2019/3/5、2019.3.5 或 2019年3月5日），这里是“2019”。"
    )


# --- Numbers in a workbook ---------------------------------------------------------------------


@pytest.mark.django_db
def test_numbers_in_text_columns_keep_every_digit(tmp_path):
    rows = [
        ["统一社会信用代码", "企业名称", "电话", "更多电话", "注册资本", "所属城市", "来源"],
        [A, "甲", 13907312468, 13907312469.0, 1000.5, 430100, "来源"],
    ]

    run_import(write_xlsx(tmp_path / "numbers.xlsx", rows))

    agency = Agency.objects.get()
    assert sorted(agency.phone_links.values_list("number_as_reported", flat=True)) == [
        "13907312468",
        "13907312469",
    ]
    assert (agency.registered_capital, agency.city) == ("1000.5", "430100")


@pytest.mark.django_db
def test_an_exponent_written_number_is_read_as_digits(tmp_path):
    path = sheet_from_xml(
        tmp_path / "exp.xlsx",
        row(1, ("A", "统一社会信用代码"), ("B", "企业名称"), ("C", "电话"), ("D", "来源"))
        + row(2, ("A", A), ("B", "甲"), ("C", 1.3907312468e10, "1.3907312468E10"), ("D", "来源")),
    )

    run_import(path)

    link = Agency.objects.get().phone_links.get()
    assert (link.number_as_reported, link.phone.key) == ("13907312468", "13907312468")


@pytest.mark.django_db
def test_a_number_excel_has_already_rounded_is_refused(tmp_path):
    path = sheet_from_xml(
        tmp_path / "rounded.xlsx",
        row(1, ("A", "统一社会信用代码"), ("B", "企业名称"), ("C", "来源"))
        + row(
            2, ("A", 9.1430100000000006e17, "9.1430100000000006E+17"), ("B", "甲"), ("C", "来源")
        ),
    )

    problems, _ = failed_import(path)

    assert f"{path}:Sheet1!R2: uscc: 这一格是 18 位的数字：Excel 只保留 15 位有效数字" in problems


# --- Several values in a cell ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("separator", ["；", ";", "，", ",", "、", "/", "|", "\n", "\r\n", " ; "])
def test_several_numbers_and_names_in_one_cell(tmp_path, separator):
    rows = table(
        ("电话", separator.join(["139 0000 1234", "(0731) 0000-8888", "+86 139-0000-5678"])),
        ("曾用名", separator.join(["旧名甲", "旧名乙"])),
    )

    run_import(write_csv(tmp_path / "data.csv", rows))

    agency = Agency.objects.get()
    assert sorted(agency.phone_links.values_list("phone__key", flat=True)) == [
        "073100008888",
        "13900001234",
        "13900005678",
    ]
    assert agency.names.filter(kind="former").count() == 2


@pytest.mark.django_db
def test_line_breaks_in_a_workbook_cell_separate_numbers(tmp_path):
    rows = table(("更多电话", "13900001234\n13900005678；"), ("电话", "-"))

    run_import(write_xlsx(tmp_path / "data.xlsx", rows))

    assert Agency.objects.get().phone_links.count() == 2


@pytest.mark.django_db
def test_a_dash_is_an_empty_cell(tmp_path):
    """Lookup sites write "-" where they have nothing."""
    rows = table(("成立日期", "-"), ("电话", "—"), ("所属城市", "--"))

    run_import(write_csv(tmp_path / "data.csv", rows))

    agency = Agency.objects.get()
    assert (agency.established_on, agency.city, agency.phone_links.count()) == (None, "", 0)


@pytest.mark.django_db
def test_a_bad_number_among_several_is_named(tmp_path):
    rows = table(("电话", "13900001234；转分机；13900005678"))
    path = write_csv(tmp_path / "data.csv", rows)

    problems, _ = failed_import(path)

    assert problems.strip() == f"{path}:2: phones[2].number: 不是有效的电话号码：“转分机”。"


# --- Workbooks ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_sheet_unless_sheet_says(tmp_path):
    first = table(("所属城市", "长沙市"))
    second = [first[0], [B, "北京测试信息咨询有限公司", "北京市", "测试来源"]]
    path = write_xlsx(tmp_path / "two.xlsx", first, "湖南", sheets=[("北京", second)])

    run_import(path)
    assert list(Agency.objects.values_list("uscc", flat=True)) == [A]

    run_import(path, "--sheet", "北京")
    run_import(path, "--sheet", "2")  # by number, from 1: unchanged
    assert sorted(Agency.objects.values_list("uscc", flat=True)) == sorted([A, B])

    problems, _ = failed_import(path, "--sheet", "上海")
    assert f"{path}: 工作簿里没有名为“上海”的工作表；有：“湖南”、“北京”。" in problems


@pytest.mark.django_db
def test_workbook_problems_name_sheet_and_row(tmp_path):
    rows = [
        ["导出结果（企查查）"],  # a title above the table, as exports have
        [],
        ["统一社会信用代码", "企业名称", "成立日期", "电话", "来源"],
        [A, "好记录", "2019-03-05", 13900001234, "来源"],
        [B[:-1] + "0", "坏记录", "2020/13/01", "转分机", "来源"],
    ]
    path = write_xlsx(tmp_path / "data.xlsx", rows, "企业列表")

    problems, failure = failed_import(path)

    assert problems.splitlines() == [
        f"{path}:企业列表!R5: uscc: 校验位不对：按前17位计算，第18位应为“2”，这里是“0”。"
        "至少有一位抄错了，但校验位说明不了是哪一位：可能是前17位中的任何一位，也可能是第18位。",
        f"{path}:企业列表!R5: established_on: 没有这一天：“2020/13/01”。",
        f"{path}:企业列表!R5: phones[1].number: 不是有效的电话号码：“转分机”。",
    ]
    assert failure.startswith("发现 3 个问题（1 条记录有误），没有写入任何数据。")
    assert Agency.objects.count() == 0


@pytest.mark.django_db
def test_header_problems_in_a_workbook_name_the_header_row(tmp_path):
    path = write_xlsx(
        tmp_path / "data.xlsx", [["标题"], ["企业名称", "邮箱", "来源"], ["甲", "a", "b"]]
    )

    problems, _ = failed_import(path)

    assert f"{path}:Sheet1!R2: 表头里有不认识的列：“邮箱”。" in problems
    assert f"{path}:Sheet1!R2: 表头缺少必需的列：uscc（统一社会信用代码）。" in problems


@pytest.mark.django_db
def test_a_cell_beyond_the_header_is_a_problem(tmp_path):
    rows = table(("所属城市", "长沙市"))
    rows[1] += [None, "多出来的"]
    path = write_xlsx(tmp_path / "data.xlsx", rows)

    problems, _ = failed_import(path)

    assert problems.strip() == (
        f"{path}:Sheet1!R2: 第 6 列（F 列）有内容，但表头只到第 4 列（D 列）：这一格属于哪个字段？"
        "请给它加上列名，或者删掉。"
    )


@pytest.mark.django_db
def test_importing_the_same_workbook_twice_changes_nothing(tmp_path):
    path = write_xlsx(tmp_path / "data.xlsx", [ZH_HEADERS, ZH_ROW])
    run_import(path)

    out, _ = run_import(path)

    assert out.strip() == "导入完成：新增 0 条，更新 0 条，未变 1 条，有误 0 条。"


@pytest.mark.django_db
def test_checking_a_workbook_in_a_child_process_gives_the_same_result(tmp_path):
    if not parallel.can_fork():
        pytest.skip("needs fork() without other threads")
    rows = [ZH_HEADERS, ZH_ROW, [B[:-1] + "0", "坏记录", *ZH_ROW[2:]]]
    path = write_xlsx(tmp_path / "data.xlsx", rows)

    serial = importing.import_files([path], parallel=False, skip_invalid=True, dry_run=True)
    forked = importing.import_files([path], parallel=True, skip_invalid=True)

    assert forked == replace(serial, dry_run=False)
    assert forked.problems[0].sheet == "Sheet1"
    assert Agency.objects.get().established_on == date(2019, 3, 5)


# The parts of a sheet's XML that openpyxl does not write, or not that way, but
# Excel and other programs do: checked through a sheet written by hand.
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def row(number: int, *cells) -> str:
    """<row> XML: cells are (column, text) or (column, number, as written)."""
    xml = []
    for column, value, *written in cells:
        ref = f"{column}{number}"
        if isinstance(value, str):
            xml.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
        else:
            xml.append(f'<c r="{ref}"><v>{written[0] if written else value}</v></c>')
    return f'<row r="{number}">{"".join(xml)}</row>'


def sheet_from_xml(path: Path, rows_xml: str, title: str = "Sheet1") -> Path:
    """A workbook made by openpyxl whose first sheet's XML is replaced by ours, which
    declares its size as Excel's sheets do (openpyxl would otherwise read it all
    once just to size it)."""
    book = openpyxl.Workbook()
    book.active.title = title
    book.save(path.with_suffix(".tmp"))
    with zipfile.ZipFile(path.with_suffix(".tmp")) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = (
                    f'<worksheet xmlns="{NS}"><dimension ref="A1:F9"/>'
                    f"<sheetData>{rows_xml}</sheetData></worksheet>"
                ).encode()
            out.writestr(info, data)
    return path


@pytest.mark.django_db
def test_cells_as_other_programs_write_them(tmp_path):
    header = row(
        1, ("A", "统一社会信用代码"), ("B", "企业名称"), ("C", "企业类型"), ("D", "is_sample")
    )
    header = header.replace("</row>", '<c r="E1" t="str"><f>"来"&amp;"源"</f><v>来源</v></c></row>')
    cells = (
        f'<c r="A2" t="inlineStr"><is><t>{A}</t></is></c>'
        # Rich text: runs add up; a phonetic guide (rPh) is not part of the text.
        '<c r="B2" t="inlineStr"><is><r><t>长沙测试</t></r>'
        '<r><rPr><b/></rPr><t xml:space="preserve">资产管理有限公司</t></r>'
        '<rPh sb="0" eb="2"><t>ちょうさ</t></rPh></is></c>'
        '<c r="C2" t="e"><v>#N/A</v></c>'  # an error value is what there is: text
        '<c r="D2" t="b"><v>1</v></c>'
        '<c r="E2" t="str"><f>"测试"&amp;"来源"</f><v>测试来源</v></c>'  # a formula: its value
    )
    path = sheet_from_xml(tmp_path / "other.xlsx", header + f'<row r="2">{cells}</row>')

    run_import(path)

    agency = Agency.objects.get()
    assert (agency.name, agency.entity_type, agency.is_sample, agency.source) == (
        "长沙测试资产管理有限公司",
        "#N/A",
        True,
        "测试来源",
    )


@pytest.mark.django_db
def test_rows_and_cells_without_references_and_rows_left_out(tmp_path):
    rows_xml = (
        '<row><c t="inlineStr"><is><t>统一社会信用代码</t></is></c>'
        '<c t="inlineStr"><is><t>企业名称</t></is></c>'
        '<c r="D1" t="inlineStr"><is><t>来源</t></is></c></row>'
        f'<row r="7"><c r="A7" t="inlineStr"><is><t>{A}</t></is></c>'
        '<c t="inlineStr"><is><t>甲</t></is></c>'
        '<c r="D7" t="inlineStr"><is><t>来源</t></is></c></row>'
        '<row><c r="B8" t="inlineStr"><is><t>乙</t></is></c>'
        '<c r="D8" t="inlineStr"><is><t>来源</t></is></c></row>'
    )
    path = sheet_from_xml(tmp_path / "sparse.xlsx", rows_xml)

    problems, _ = failed_import(path)

    # Row 8 (after row 7, numbered by counting) has no code; row 7 was read whole.
    assert problems.strip() == f"{path}:Sheet1!R8: uscc: 缺少统一社会信用代码。"


# --- Files that are not right ------------------------------------------------------------------


def empty_workbook(path: Path) -> Path:
    openpyxl.Workbook().save(path)
    return path


def damaged_workbook(path: Path) -> Path:
    """A workbook whose sheet's compressed data is damaged two thirds of the way in:
    it opens (the zip's directory and the sheet's start are fine), then breaks."""
    rows = [
        [f"{n:018d}", f"测试{n}号资产管理有限公司", f"1390000{n:04d}", "来源"] for n in range(3000)
    ]
    write_xlsx(path, [["统一社会信用代码", "企业名称", "电话", "来源"], *rows])
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
    start = sheet.header_offset + 30 + len(sheet.filename) + sheet.compress_size * 2 // 3
    path.write_bytes(data[:start] + bytes(64) + data[start + 64 :])
    return path


def not_a_workbook_inside(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "这是一个 zip，不是工作簿")
    return path


def header_only_workbook(path: Path) -> Path:
    return write_xlsx(path, [["统一社会信用代码", "企业名称", "来源"]])


def malformed_sheet_xml(path: Path) -> Path:
    return sheet_from_xml(
        path, row(1, ("A", "统一社会信用代码"), ("B", "企业名称")) + "<row r='2'><c>"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_bytes(b"not a zip at all") and p, ": 不是有效的 Excel 工作簿（.xlsx）"),
        (not_a_workbook_inside, ": 不是有效的 Excel 工作簿（.xlsx）"),
        (damaged_workbook, ":Sheet1: 工作表在第 "),
        (malformed_sheet_xml, ":Sheet1: 工作表在第 1 行之后的内容无法读取：文件可能已损坏。"),
        (empty_workbook, ":Sheet: 工作表是空的。"),
        (header_only_workbook, ":Sheet1: 只有表头，没有任何记录。"),
        (lambda p: p.write_bytes(b"") or p, ": 文件是空的。"),
    ],
)
def test_bad_workbooks_give_a_clear_message(tmp_path, make, expected):
    path = make(tmp_path / "bad.xlsx")

    problems, failure = failed_import(path)

    assert f"{path}{expected}" in problems
    assert "Traceback" not in problems
    assert "没有写入任何数据" in failure


def test_a_corrupt_workbook_exits_non_zero_without_a_traceback(tmp_path):
    path = malformed_sheet_xml(tmp_path / "bad.xlsx")
    result = run_dry_import(path, tmp_path)
    assert result.returncode == 1
    assert f"{path}:Sheet1: 工作表在第" in result.stderr
    assert "Traceback" not in result.stderr


# --- Provenance: --source, --source-url, --retrieved-on ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_table_without_a_source_is_refused(tmp_path, suffix):
    rows = [["统一社会信用代码", "企业名称"], [A, "甲"]]
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        write_csv(path, rows)
    else:
        write_xlsx(path, rows)

    problems, failure = failed_import(path)

    where = f"{path}:1" if suffix == ".csv" else f"{path}:Sheet1!R1"
    assert problems.strip() == (
        f"{where}: 表头里没有来源列（source 或“来源”），命令里也没有 --source："
        "每条记录都要写明从哪里来。"
        '请加上“来源”一列，或者在命令里加上 --source "国家企业信用信息公示系统" 这样的说明。'
    )
    assert "没有写入任何数据" in failure


@pytest.mark.django_db
def test_source_options_fill_the_rows_that_lack_them(tmp_path):
    rows = [
        ["统一社会信用代码", "企业名称", "来源", "获取日期", "电话"],
        [A, "甲", "", "", "13900001234"],
        [B, "乙", "企查查", "2024-01-02", ""],
    ]
    path = write_csv(tmp_path / "data.csv", rows)

    run_import(
        path,
        "--source",
        "国家企业信用信息公示系统",
        "--source-url",
        "https://www.gsxt.gov.cn/",
        "--retrieved-on",
        "2024年6月1日",
    )

    a, b = Agency.objects.get(uscc=A), Agency.objects.get(uscc=B)
    assert (a.source, a.source_url, a.retrieved_on) == (
        "国家企业信用信息公示系统",
        "https://www.gsxt.gov.cn/",
        date(2024, 6, 1),
    )
    assert (b.source, b.retrieved_on) == ("企查查", date(2024, 1, 2))  # its own win
    link = a.phone_links.get()
    assert (link.source, link.reported_on) == ("国家企业信用信息公示系统", date(2024, 6, 1))


@pytest.mark.django_db
def test_source_options_let_a_table_without_a_source_in(tmp_path):
    path = write_xlsx(tmp_path / "data.xlsx", [["统一社会信用代码", "企业名称"], [A, "甲"]])

    run_import(path, "--source", "企查查导出")

    assert Agency.objects.get().source == "企查查导出"


@pytest.mark.django_db
def test_source_options_apply_to_json_lines_too(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(
        json.dumps({"uscc": A, "name": "甲"})
        + "\n"
        + json.dumps({"uscc": B, "name": "乙", "source": "自己的"})
        + "\n",
        encoding="utf-8",
    )

    run_import(path, "--source", "给定的")

    assert dict(Agency.objects.values_list("uscc", "source")) == {A: "给定的", B: "自己的"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--source-url", "www.example.org", "--source-url: 网址应以 http:// 或 https:// 开头"),
        ("--retrieved-on", "昨天", "--retrieved-on: 日期格式应为 YYYY-MM-DD"),
        ("--source", "来" * 201, "--source: 太长了：最多 200 个字符，这里有 201 个。"),
    ],
)
def test_bad_source_options_are_refused_before_reading(tmp_path, option, value, expected):
    problems, _ = failed_import(tmp_path / "not-read.csv", option, value)

    assert problems.startswith(expected)


# --- The documentation's examples --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("agencies-zh.csv", []),
        ("agencies.xlsx", []),
        (
            "agencies-other.csv",
            ["--columns", EXAMPLES / "columns.yaml", "--source", "示例数据（虚构，仅供演示）"],
        ),
    ],
)
def test_docs_examples_in_the_other_layouts_import_as_the_jsonl_example(name, options):
    run_import(EXAMPLES / "agencies.jsonl")
    from_jsonl = list(
        Agency.objects.values_list("uscc", "name", "province_id", "status", "is_sample")
    )

    out, _ = run_import(EXAMPLES / name, *options)

    assert "新增 0 条" in out
    assert list(
        Agency.objects.values_list("uscc", "name", "province_id", "status", "is_sample")
    ) == (from_jsonl)


def test_cell_value_reads_numbers_as_typed():
    epoch = datetime.datetime(1899, 12, 30)
    assert workbook.cell_value(13907312468.0, "phones", epoch) == "13907312468"
    assert workbook.cell_value(0.00005, "city", epoch) == "0.00005"
    assert workbook.cell_value(43529, "established_on", epoch) == "2019-03-05"
    assert workbook.cell_value(datetime.time(9, 30), "city", epoch) == "09:30:00"
    assert workbook.cell_value(datetime.datetime(2024, 6, 1, 9, 30), "city", epoch) == (
        "2024-06-01 09:30:00"
    )


def test_the_example_workbook_holds_the_example_csv():
    """docs/examples/agencies.xlsx is agencies-zh.csv as Excel keeps it: read and
    checked, the two give the same records."""

    def checked(name):
        return [
            (record.uscc, record.values, record.province_text, record.names, record.phones)
            for record in map(check_record, importing.read_file(EXAMPLES / name))
        ]

    assert checked("agencies.xlsx") == checked("agencies-zh.csv")


@pytest.mark.django_db
def test_a_title_line_above_a_csv_table_is_passed_over(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(
        f"企查查导出，2024-06-01\n\n统一社会信用代码,企业名称,来源,邮箱\n{A},甲,来源,a@b\n",
        encoding="utf-8",
    )

    problems, _ = failed_import(path)
    assert problems.startswith(f"{path}:3: 表头里有不认识的列：“邮箱”。")

    run_import(path, "--ignore-columns", "邮箱")
    assert Agency.objects.get().name == "甲"


SHARED_STRINGS_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="7" '
    'uniqueCount="7">'
    "<si><t>长沙示例资产管理有限公司</t></si>"
    '<si><t xml:space="preserve">  两端有空格  </t></si>'
    "<si><r><rPr><b/></rPr><t>加粗</t></r><r><t>和普通</t></r></si>"
    '<si><t>日本語</t><rPh sb="0" eb="1"><t>にほんご</t></rPh><phoneticPr fontId="1"/></si>'
    "<si><t>a_x005F_b &amp; &lt;c&gt;</t></si>"
    "<si><t></t></si>"
    "<si/>"
    "</sst>"
)


def test_shared_strings_read_as_openpyxl_reads_them():
    from openpyxl.reader.strings import read_string_table

    from agencies.importing.workbook import read_shared_strings

    ours = read_shared_strings(io.BytesIO(SHARED_STRINGS_XML.encode()))
    assert ours == read_string_table(io.BytesIO(SHARED_STRINGS_XML.encode()))
    assert ours[2] == "加粗和普通" and ours[3] == "日本語" and ours[1] == "  两端有空格  "


@pytest.mark.django_db
def test_a_workbook_with_a_shared_strings_table_imports(tmp_path):
    """Excel keeps text in xl/sharedStrings.xml, where openpyxl writes it inline: moved
    there by the benchmark's own converter, so that both read the same form."""
    from bench.import_xlsx import to_shared_strings

    inline = write_xlsx(
        tmp_path / "inline.xlsx", table(("登记状态", "存续"), ("所属城市", "长沙市"))
    )
    path = tmp_path / "sst.xlsx"
    to_shared_strings(inline, path)
    with zipfile.ZipFile(path) as book:
        assert "长沙市" in book.read("xl/sharedStrings.xml").decode()
        assert "长沙市" not in book.read("xl/worksheets/sheet1.xml").decode()
    run_import(path)
    agency = Agency.objects.get(uscc=A)
    assert (agency.name, agency.status, agency.city) == (
        "长沙测试资产管理有限公司",
        "存续",
        "长沙市",
    )
