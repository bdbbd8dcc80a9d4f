"""import_agencies / export_agencies and the agencies.importing API they wrap."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from agencies import importing, phones, uscc
from agencies.importing import parallel
from agencies.models import (
    Agency,
    AgencyChange,
    AgencyName,
    AgencyPhone,
    Client,
    Phone,
    RegulatoryAction,
)
from agencies.search import index as search_index
from tests.factories import add_phone, make_agency

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "import"
EXAMPLES = ROOT / "docs" / "examples"
A, B, C, D = "91430100TE00090018", "91110100TE00090032", "91440100TE0009004M", "91430100TE0009005L"


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


def write_jsonl(path: Path, *records) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def export(fmt: str = "jsonl") -> str:
    out = io.StringIO()
    call_command("export_agencies", "--format", fmt, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Row counts of everything an import writes."""
    return {
        model.__name__: model.objects.count()
        for model in (
            Agency,
            AgencyName,
            Phone,
            AgencyPhone,
            Client,
            RegulatoryAction,
            AgencyChange,
        )
    }


# --- Reading the formats -----------------------------------------------------------------------


@pytest.mark.django_db
def test_jsonl_import_stores_every_fact():
    out, err = run_import(DATA / "agencies.jsonl")

    assert out.strip() == "导入完成：新增 3 条，更新 0 条，未变 0 条，有误 0 条。"
    assert err == ""
    a = Agency.objects.get(uscc=A)
    assert a.name == "长沙测试资产管理有限公司"
    assert a.province_id == "43"  # derived from the USCC: the record names none
    assert (a.city, a.status, a.established_on) == ("长沙市", "存续", date(2018, 5, 1))
    assert a.registered_capital == "1000万人民币"
    assert a.registered_capital_wan == Decimal(1000)
    assert a.source_url == "https://example.org/registry/a"
    assert sorted(a.names.values_list("kind", "name")) == [
        ("alias", "测试催收"),
        ("former", "长沙测试商务咨询有限公司"),
    ]
    links = {link.phone.key: link for link in a.phone_links.select_related("phone")}
    assert set(links) == {"13900001234", "073100008888"}
    assert links["13900001234"].number_as_reported == "139 0000 1234"
    assert links["13900001234"].label == "年报联系电话"
    assert links["13900001234"].reported_on == date(2025, 6, 30)
    # Evidence not given per number is the record's own.
    assert links["073100008888"].source == "测试来源"
    assert links["073100008888"].reported_on == date(2026, 11, 1)
    assert a.clients.get().since == date(2023, 1, 1)
    action = a.actions.get()
    assert (action.kind, action.document_number) == ("abnormal", "测〔2024〕1号")

    b = Agency.objects.get(uscc=B)
    assert b.province_id == "43"  # given 湖南 wins over the USCC's Beijing
    c = Agency.objects.get(uscc=C)
    assert (c.province_id, c.status, c.registered_capital_wan) == ("44", "吊销", Decimal(10000))
    # Two agencies, one number written two ways: one Phone, two links.
    assert Phone.objects.get(key="073100008888").agency_links.count() == 2


@pytest.mark.django_db
def test_csv_import_splits_lists_and_uses_the_record_source_for_phones():
    out, _ = run_import(DATA / "agencies.csv")

    assert "新增 3 条" in out
    a = Agency.objects.get(uscc=A)
    assert sorted(a.names.filter(kind="alias").values_list("name", flat=True)) == [
        "测试催收",
        "测试资产",
    ]
    link = a.phone_links.get(phone__key="073100008888")
    assert (link.source, link.label) == ("测试来源", "")
    assert link.source_url == "https://example.org/registry/a"
    assert Agency.objects.get(uscc=C).status == "吊销"


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "gbk"])
def test_csv_from_excel_encodings(tmp_path, encoding):
    text = (DATA / "agencies.csv").read_text(encoding="utf-8")
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode(encoding))

    run_import(path)

    assert Agency.objects.get(uscc=A).name == "长沙测试资产管理有限公司"
    assert set(Agency.objects.values_list("uscc", flat=True)) == {A, B, C}


@pytest.mark.django_db
def test_docs_examples_import_alike_and_are_fictitious():
    run_import(EXAMPLES / "agencies.jsonl")
    from_jsonl = list(Agency.objects.values_list("uscc", "name", "province_id", "status"))
    run_import(EXAMPLES / "agencies.csv")  # the same agencies, flat

    assert list(Agency.objects.values_list("uscc", "name", "province_id", "status")) == from_jsonl
    assert len(from_jsonl) == 3
    assert all("示例" in name for _, name, _, _ in from_jsonl)
    assert all(Agency.objects.values_list("is_sample", flat=True))
    mobiles = Phone.objects.filter(kind="mobile").values_list("key", flat=True)
    assert mobiles and all(key[3:7] == "0000" for key in mobiles)


def test_docs_describe_every_field():
    doc = (ROOT / "docs" / "import-format.md").read_text(encoding="utf-8")
    for key in (
        *importing.FIELDS,
        *importing.PHONE_FIELDS,
        *importing.CLIENT_FIELDS,
        *importing.ACTION_FIELDS,
        *importing.HISTORY_FIELDS,
    ):
        assert f"`{key}`" in doc, key


@pytest.mark.django_db
def test_the_docs_change_summary_is_what_the_example_files_print():
    doc = (ROOT / "docs" / "import-format.md").read_text(encoding="utf-8")
    shown = doc.split("$ python manage.py import_agencies docs/examples/agencies-update.csv")[1]
    shown = shown.split("```")[0].strip("\n").splitlines()[1:]
    run_import(EXAMPLES / "agencies-zh.csv")
    out, _ = run_import(EXAMPLES / "agencies-update.csv", "--dry-run")
    assert out.splitlines() == shown


# --- Upserts -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_importing_the_same_file_twice_changes_nothing():
    run_import(DATA / "agencies.jsonl")
    before = snapshot()
    stamps = dict(Agency.objects.values_list("uscc", "updated_at"))

    out, _ = run_import(DATA / "agencies.jsonl")

    assert out.strip() == "导入完成：新增 0 条，更新 0 条，未变 3 条，有误 0 条。"
    assert snapshot() == before
    assert dict(Agency.objects.values_list("uscc", "updated_at")) == stamps


@pytest.mark.django_db
def test_a_second_file_adds_facts_without_duplicates():
    run_import(DATA / "agencies.jsonl")
    stamps = dict(Agency.objects.values_list("uscc", "updated_at"))

    out, _ = run_import(DATA / "more.jsonl")

    assert "新增 1 条，更新 2 条，未变 0 条" in out
    a = Agency.objects.get(uscc=A)
    assert sorted(a.phone_links.values_list("phone__key", flat=True)) == [
        "073100008888",
        "13900001234",  # "13900001234" is the number already stored as "139 0000 1234"
        "4000001234",
    ]
    assert a.names.filter(kind="former").count() == 2
    assert a.clients.count() == 1
    assert sorted(a.actions.values_list("document_number", flat=True)) == [
        "测〔2024〕1号",
        "测〔2025〕7号",
    ]
    # Absent keys leave stored values alone; given ones overwrite.
    assert a.address == "长沙市测试路1号"
    assert a.actions.get(kind="abnormal").summary == "无法联系"
    assert Agency.objects.get(uscc=C).city == "广州市"
    d = Agency.objects.get(uscc=D)
    assert (d.status, d.province_id) == ("其他", "43")  # no status given: 其他
    # The new agency shares the landline: still one Phone row.
    assert Phone.objects.get(key="073100008888").agency_links.count() == 3
    # Only changed agencies look recently updated.
    after = dict(Agency.objects.values_list("uscc", "updated_at"))
    assert after[B] == stamps[B]
    assert after[A] > stamps[A]


@pytest.mark.django_db
def test_an_explicit_null_clears_and_the_same_code_twice_in_a_file_merges(tmp_path):
    path = write_jsonl(
        tmp_path / "twice.jsonl",
        {"uscc": A, "name": "甲", "city": "长沙市", "phones": ["13900001234"]},
        {"uscc": A.lower(), "name": "甲", "city": None, "phones": ["13900005678"]},
    )

    out, _ = run_import(path)

    assert "新增 1 条，更新 1 条" in out
    agency = Agency.objects.get()
    assert agency.city == ""
    assert agency.phone_links.count() == 2


@pytest.mark.django_db
def test_search_index_is_refreshed_for_changed_agencies_only(monkeypatch):
    refreshed = []
    writer = search_index.IndexWriter
    monkeypatch.setattr(
        writer, "add", lambda self, built: refreshed.extend(row[0] for row in built)
    )
    monkeypatch.setattr(writer, "refresh", lambda self, ids, fresh=False: refreshed.extend(ids))
    run_import(DATA / "agencies.jsonl")
    assert sorted(refreshed) == sorted(Agency.objects.values_list("id", flat=True))

    refreshed.clear()
    run_import(DATA / "more.jsonl")

    changed = Agency.objects.filter(uscc__in=[A, C, D]).values_list("id", flat=True)
    assert sorted(refreshed) == sorted(changed)


@pytest.mark.django_db
def test_imported_names_list_in_pinyin_order_and_a_rename_moves_them(client):
    importing.import_records(
        [
            {"uscc": A, "name": "株洲甲商务咨询有限公司"},
            {"uscc": D, "name": "长沙乙商务咨询有限公司"},
        ]
    )
    html = client.get("/provinces/hunan/").content.decode()
    assert html.index("长沙乙") < html.index("株洲甲")

    summary = importing.import_records([{"uscc": D, "name": "资兴乙商务咨询有限公司"}])
    assert summary.updated == 1
    html = client.get("/provinces/hunan/").content.decode()
    assert html.index("株洲甲") < html.index("资兴乙")


@pytest.mark.django_db
def test_existing_rows_made_elsewhere_are_matched():
    agency = make_agency(uscc=A, name="长沙测试资产管理有限公司")
    add_phone(agency, "13900001234")

    run_import(DATA / "agencies.jsonl")

    assert Agency.objects.filter(uscc=A).count() == 1
    assert Phone.objects.filter(key="13900001234").count() == 1
    assert agency.phone_links.count() == 2


# --- All or nothing ----------------------------------------------------------------------------

BAD_SECOND_RECORD = [
    {"uscc": A, "name": "好记录"},
    {"uscc": B[:-1] + "0", "name": "坏记录", "established_on": "2020/13/01"},
    {"uscc": C, "name": "也是好记录"},
]


@pytest.mark.django_db
def test_one_bad_record_means_nothing_is_written(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", *BAD_SECOND_RECORD)

    problems, failure = failed_import(path)

    assert Agency.objects.count() == 0
    assert f"{path}:2: uscc: 校验位不对" in problems
    assert f"{path}:2: established_on: 没有这一天：“2020/13/01”。" in problems
    assert failure.startswith("发现 2 个问题（1 条记录有误），没有写入任何数据。")
    assert "--skip-invalid" in failure


def run_dry_import(path, tmp_path) -> subprocess.CompletedProcess:
    """`manage.py import_agencies --dry-run PATH` in its own process, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "manage.py", "import_agencies", "--dry-run", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # A SQLite file of its own, which has no replicas whatever the run uses.
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DATABASE_REPLICA_URLS": "",
        },
        timeout=60,
    )


def test_a_failed_import_exits_non_zero(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", {"name": "没有代码"})
    result = run_dry_import(path, tmp_path)
    assert result.returncode == 1
    assert f"{path}:1: uscc: 缺少统一社会信用代码。" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_dead_database_gets_a_message_not_a_traceback(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", {"uscc": A, "name": "好记录"})
    result = subprocess.run(
        [sys.executable, "manage.py", "import_agencies", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # Nothing listens on port 9 of this machine: the connection is refused.
        env={**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:9/none"},
        timeout=60,
    )
    assert result.returncode == 1
    assert "数据库出错，导入没有完成，数据库没有任何改动。" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_skip_invalid_writes_the_rest(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", *BAD_SECOND_RECORD)

    out, err = run_import(path, "--skip-invalid")

    assert out.strip() == "导入完成：新增 2 条，更新 0 条，未变 0 条，有误 1 条（已跳过 1 条）。"
    assert f"{path}:2: uscc:" in err
    assert set(Agency.objects.values_list("uscc", flat=True)) == {A, C}


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing():
    run_import(DATA / "agencies.jsonl")
    before = snapshot()

    out, _ = run_import(DATA / "more.jsonl", "--dry-run")

    assert out.strip().splitlines() == [
        "试运行，没有写入数据库。正式导入将会：新增 1 条，更新 2 条，未变 0 条，有误 0 条。",
        "更新的字段：城市 1 条，曾用名 1 条，号码 1 条，监管记录 1 条。",
        "  91430100TE00090018 长沙测试资产管理有限公司：号码 新增“4000001234”；"
        "曾用名 新增“长沙测试投资有限公司”；"
        "监管记录 新增“行政处罚 2025-01-10 长沙市市场监督管理局 测〔2025〕7号”",
        "  91440100TE0009004M 广州测试商务服务有限公司：城市 新增“广州市”",
    ]
    assert snapshot() == before
    assert not AgencyChange.objects.exists()
    assert Agency.objects.get(uscc=C).city == ""


@pytest.mark.django_db
def test_ctrl_c_rolls_back(tmp_path):
    path = write_jsonl(
        tmp_path / "many.jsonl",
        *(
            {"uscc": uscc.with_check_digit(f"91430100MA{n:07d}"), "name": f"机构{n}"}
            for n in range(30)
        ),
    )

    def interrupt(count):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        importing.import_files([path], batch_size=10, progress=interrupt)
    assert Agency.objects.count() == 0


# --- Problems, one line each -------------------------------------------------------------------

GOOD = {"uscc": A, "name": "长沙测试资产管理有限公司"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"uscc": A[:-1] + "9"},
            f"uscc: 校验位不对：按前17位计算，第18位应为“{A[-1]}”，这里是“9”。",
        ),
        ({"uscc": "1234"}, "uscc: 统一社会信用代码应为18位，这里是4位。"),
        ({"name": "  "}, "name: 机构名称不能为空。"),
        ({"name": "长" * 201}, "name: 太长了：最多 200 个字符，这里有 201 个。"),
        ({"city": 43.5}, "city: 应为文本，这里是数字。"),
        ({"established_on": "2020/13/01"}, "established_on: 没有这一天：“2020/13/01”。"),
        (
            {"established_on": "2020年1月"},
            "established_on: 日期格式应为 YYYY-MM-DD"
            "（也可以写 2019/3/5、2019.3.5 或 2019年3月5日），这里是“2020年1月”。",
        ),
        ({"retrieved_on": "2021-02-30"}, "retrieved_on: 没有这一天：“2021-02-30”。"),
        ({"status": "倒闭"}, "status: 不认识的登记状态“倒闭”，可用："),
        ({"province": "火星"}, "province: 不认识的省份“火星”：请写省级行政区名称或两位代码"),
        ({"province": "湖"}, "province: “湖”可能是多个省份（湖北省、湖南省），请写全称或代码。"),
        ({"source_url": "ftp://example.org/x"}, "source_url: 网址应以 http:// 或 https:// 开头"),
        ({"is_sample": "maybe"}, "is_sample: 应为 true 或 false，这里是“maybe”。"),
        ({"former_names": "旧名"}, "former_names: 应为列表，这里是文本。"),
        (
            {"phones": ["13900001234", "not a number"]},
            "phones[2].number: 不是有效的电话号码：“not a number”。",
        ),
        ({"phones": [{"number": "13900001234", "fax": "1"}]}, "phones[1].fax: 不认识的字段。"),
        (
            {"phones": [{"number": "13900001234", "reported_on": "昨天"}]},
            "phones[1].reported_on: 日期格式",
        ),
        (
            {"clients": [{"name": "甲", "since": "2024-02-01", "until": "2023-01-01"}]},
            "clients[1].until: 结束日期 2023-01-01 早于起始日期 2024-02-01。",
        ),
        (
            {"actions": [{"kind": "表扬"}]},
            "actions[1].kind: 不认识的类别“表扬”，可用：penalty（行政处罚）",
        ),
        ({"actions": [{"document_number": "1号"}]}, "actions[1].kind: 缺少类别"),
        (
            {"website": "https://example.org"},
            "website: 不认识的字段（可用的字段见 docs/import-format.md）。",
        ),
        ({"name": "a\u0000b"}, "name: 含有不可见的控制字符，请删去。"),
    ],
)
def test_problem_messages(tmp_path, change, expected):
    path = write_jsonl(tmp_path / "data.jsonl", GOOD, {**GOOD, **change})

    problems, _ = failed_import(path)

    assert problems.startswith(f"{path}:2: {expected}")
    assert Agency.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("wording", ["存续（在营、开业、在册）", "吊销，未注销"])
def test_the_registrys_own_status_wording_is_understood(tmp_path, wording):
    run_import(write_jsonl(tmp_path / "data.jsonl", {**GOOD, "status": wording}))
    assert Agency.objects.get().status in ("存续", "吊销")


@pytest.mark.django_db
def test_an_unknown_province_code_in_the_uscc_needs_a_province(tmp_path):
    code = uscc.with_check_digit("91990100MA0000001")
    path = write_jsonl(tmp_path / "data.jsonl", {"uscc": code, "name": "无省份"})

    problems, _ = failed_import(path)

    assert f"{path}:1: province: 统一社会信用代码第3–4位“99”不是省级行政区代码" in problems
    run_import(
        write_jsonl(tmp_path / "ok.jsonl", {"uscc": code, "name": "有省份", "province": "43"})
    )
    assert Agency.objects.get().province_id == "43"


@pytest.mark.django_db
def test_every_problem_of_every_record_is_reported(tmp_path):
    path = write_jsonl(
        tmp_path / "data.jsonl",
        {"uscc": "x", "name": ""},
        GOOD,
        {"name": "无代码", "status": "?", "phones": ["abc", "13900001234", "def"]},
    )

    problems, failure = failed_import(path)

    assert problems.splitlines() == [
        f"{path}:1: uscc: 统一社会信用代码应为18位，这里是1位。",
        f"{path}:1: name: 机构名称不能为空。",
        f"{path}:3: uscc: 缺少统一社会信用代码。",
        f"{path}:3: status: 不认识的登记状态“?”，可用：存续、在业、吊销、注销、迁出、撤销、停业、"
        "其他。",
        f"{path}:3: phones[1].number: 不是有效的电话号码：“abc”。",
        f"{path}:3: phones[3].number: 不是有效的电话号码：“def”。",
    ]
    assert "（2 条记录有误）" in failure


@pytest.mark.django_db
def test_csv_problems_name_the_line_where_the_record_starts(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(
        "uscc,name,address,established_on,source\n"
        f'{A},甲,"多行\n地址",2020-01-01,来源\n{B},乙,,2020/13/01,来源\n',
        encoding="utf-8",
    )

    problems, _ = failed_import(path)

    assert problems.strip() == f"{path}:4: established_on: 没有这一天：“2020/13/01”。"


# --- Files that are not right ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.jsonl", b'{"uscc": "x",\n', ":1: 不是有效的 JSON（第 14 个字符附近有语法错误）。"),
        ("list.jsonl", b'["a", "b"]\n', ":1: 文件内容是一个 JSON 数组"),
        (
            "scalar.jsonl",
            b'{"uscc": "%s", "name": "x"}\n42\n' % A.encode(),
            ":2: 每行应是一个 JSON 对象 {…}，这里是数字。",
        ),
        (
            "header.csv",
            "统一代码,名称,来源\n1,2,3\n".encode(),
            ":1: 表头里有不认识的列：“统一代码”。",
        ),
        (
            "nested.csv",
            b"uscc,name,source,clients\n",
            ":1: CSV 和 .xlsx 表格都不支持这些列：clients",
        ),
        ("missing.csv", b"uscc,city,source\n", ":1: 表头缺少必需的列：name（机构名称）。"),
        (
            "short.csv",
            f"uscc,name,city,source\n{A},x\n".encode(),
            ":2: 这一行有 2 列，表头有 4 列。",
        ),
        ("empty.jsonl", b"", ": 文件是空的。"),
        ("blank.jsonl", b"\n  \n", ": 文件里没有任何记录。"),
        ("header-only.csv", b"uscc,name,source\n", ": 只有表头，没有任何记录。"),
        ("garbage.jsonl", bytes(range(256)) * 4, ": 第 1 行有控制字符（如 NUL），这不像文本格式的"),
        (
            "mixed.csv",
            b"uscc,name\n" + "甲".encode() + "乙".encode("gbk") + b"\xff\n",
            ": 无法识别文件编码",
        ),
        ("data.xls", b"\xd0\xcf\x11\xe0", ": 不支持旧版 Excel 文件（.xls）"),
        ("data.txt", b"uscc,name\n", ": 不支持的文件类型“.txt”"),
    ],
)
def test_malformed_files_give_a_clear_message(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)

    problems, failure = failed_import(path)

    assert f"{path}{expected}" in problems
    assert "Traceback" not in problems
    assert "没有写入任何数据" in failure


@pytest.mark.django_db
def test_a_missing_file_stops_the_import_before_anything_is_read(tmp_path):
    problems, _ = failed_import(DATA / "agencies.jsonl", tmp_path / "typo.jsonl")

    assert problems.strip() == f"{tmp_path / 'typo.jsonl'}: 找不到这个文件。"
    assert Agency.objects.count() == 0


# --- Pieces ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "wan"),
    [
        ("1000万人民币", Decimal(1000)),
        ("1000万元人民币", Decimal(1000)),
        ("500万元", Decimal(500)),
        ("500 万（元）", Decimal(500)),
        ("人民币1,000.5万元", Decimal("1000.5")),
        ("1亿元", Decimal(10000)),
        ("5000000元", Decimal(500)),
        ("300万美元", None),
        ("1000", None),
        ("", None),
    ],
)
def test_registered_capital_in_wan(text, wan):
    assert importing.capital_in_wan(text) == wan


@pytest.mark.parametrize(
    "raw",
    [
        "13900001234",
        "139 0000 1234",
        "+86 139-0000-1234",
        "008613900001234",
        "0731-00008888",
        "(0731) 0000 8888",
        "073100008888转123",
        "+86 731 0000 8888",
        "010-00002222",
        "400-000-1234",
        "95588",
        "+1 415 555 0123",
        "12345",
        "abc",
        "１３９００００１２３４",
    ],
)
def test_phone_key_agrees_with_phones_normalize(raw):
    expected = phones.normalize(raw)
    assert importing.phone_key(raw) == ((expected.key, expected.kind) if expected else None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 +-()（）", max_size=18))
def test_phone_key_agrees_with_phones_normalize_on_anything(raw):
    expected = phones.normalize(raw)
    assert importing.phone_key(raw) == ((expected.key, expected.kind) if expected else None)


@pytest.mark.django_db
def test_import_records_api():
    records = [{"uscc": A, "name": "甲"}, "not a record", {"uscc": B}]

    summary = importing.import_records(records, origin="loader", skip_invalid=True)

    assert (summary.created, summary.skipped, summary.failed) == (1, 2, False)
    assert [str(p) for p in summary.problems] == [
        "loader:2: 记录应是一个对象（dict），这里是文本。",
        "loader:3: name: 缺少机构名称。",
    ]


@pytest.mark.django_db
def test_checking_in_a_child_process_gives_the_same_result(tmp_path):
    if not parallel.can_fork():
        pytest.skip("needs fork() without other threads")
    lines = (DATA / "agencies.jsonl").read_text(encoding="utf-8")
    path = tmp_path / "data.jsonl"
    path.write_text(lines + '{"uscc": "x", "name": 1}\n' + lines, encoding="utf-8")

    serial = importing.import_files([path], parallel=False, skip_invalid=True, dry_run=True)
    forked = importing.import_files([path], parallel=True, skip_invalid=True)

    assert forked == replace(serial, dry_run=False)
    assert Agency.objects.get(uscc=A).actions.get().decided_on == date(2024, 3, 15)
    assert Agency.objects.get(uscc=A).phone_links.get(phone__key="13900001234").reported_on == (
        date(2025, 6, 30)
    )


# --- Export ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_then_import_into_an_empty_database_reproduces_it():
    run_import(DATA / "agencies.jsonl")
    run_import(DATA / "more.jsonl")
    run_import(EXAMPLES / "agencies.jsonl")
    first = export()
    counts = snapshot()

    Agency.objects.all().delete()
    Phone.objects.all().delete()
    summary = importing.import_records(json.loads(line) for line in first.splitlines())

    assert summary.created == 7 and not summary.problems
    assert snapshot() == counts
    assert export() == first


@pytest.mark.django_db
def test_export_writes_files_in_the_format_their_name_says(tmp_path):
    run_import(DATA / "agencies.jsonl")

    call_command("export_agencies", "--output", tmp_path / "all.csv", stderr=io.StringIO())
    call_command("export_agencies", "--output", tmp_path / "all.jsonl", stderr=io.StringIO())

    csv_text = (tmp_path / "all.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0] == ",".join(importing.CSV_FIELDS)
    assert f"{A},长沙测试资产管理有限公司,长沙测试商务咨询有限公司,测试催收,湖南省" in csv_text
    assert "139 0000 1234|0731-00008888" in csv_text or "0731-00008888|139 0000 1234" in csv_text
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["uscc"] for line in lines] == sorted([A, B, C])
    assert list(tmp_path.glob("*.part")) == []

    # A CSV export imports back into an empty database.
    Agency.objects.all().delete()
    run_import(tmp_path / "all.csv")
    assert Agency.objects.get(uscc=A).registered_capital_wan == Decimal(1000)


# --- Interrupted for real ----------------------------------------------------------------------


@pytest.fixture
def scratch_database(tmp_path):
    """A migrated database of its own for a subprocess (the test database may be in
    memory, and it lives inside this test's transaction)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        drop = None
    else:
        import psycopg

        name = f"test_import_kill_{os.getpid()}"
        server = "postgres://{}:{}@{}:{}".format(
            settings_dict["USER"],
            settings_dict["PASSWORD"] or "",
            settings_dict["HOST"] or "localhost",
            settings_dict["PORT"] or 5432,
        )
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{server}/{name}"

        def drop():
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    yield url, env
    if drop:
        drop()


def count_agencies(url: str) -> list:
    if url.startswith("sqlite"):
        import sqlite3

        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
            return db.execute("SELECT uscc, name FROM agencies_agency").fetchall()
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute("SELECT uscc, name FROM agencies_agency").fetchall()


def scratch_database_with_data(scratch_database):
    """(url, env, the import command, the agencies before) after a small first import."""
    url, env = scratch_database
    manage = [sys.executable, "manage.py", "import_agencies"]
    subprocess.run([*manage, DATA / "agencies.jsonl"], cwd=ROOT, env=env, check=True, timeout=60)
    return url, env, manage, count_agencies(url)


def _processes_reading(path) -> list[int]:
    """Processes whose command line names `path` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return found


def _big_file(tmp_path):
    return write_jsonl(
        tmp_path / "big.jsonl",
        *(
            {
                "uscc": uscc.with_check_digit(f"91430100MA{n:07d}"),
                "name": f"测试资产管理有限公司{n}",
                # Big enough (over PARALLEL_MIN_BYTES) to be checked in a child process.
                "business_scope": "受托资产管理；" * 12,
                "phones": [f"139{n:08d}", f"0731-{n:08d}"],
            }
            for n in range(25_000)
        ),
    )


def _start_and_wait_for_batches(manage, big, env, err_path, err):
    process = subprocess.Popen(
        [*manage, "-v2", big], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err
    )
    deadline = time.monotonic() + 60
    # Wait until batches have been written inside the transaction.
    while "已处理 2000 条" not in err_path.read_text(encoding="utf-8"):
        assert process.poll() is None, err_path.read_text(encoding="utf-8")
        assert time.monotonic() < deadline, "the import never got going"
        time.sleep(0.05)
    return process


@pytest.mark.slow
def test_an_import_killed_outright_leaves_no_trace(tmp_path, scratch_database):
    """SIGKILL: no handler runs, no rollback is sent; the database must undo it itself."""
    url, env, manage, before = scratch_database_with_data(scratch_database)
    big = _big_file(tmp_path)
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "w") as err:
        process = _start_and_wait_for_batches(manage, big, env, err_path, err)
        process.kill()
        assert process.wait(timeout=60) == -signal.SIGKILL
    assert count_agencies(url) == before
    # The checking child it had forked does not linger, blocked on a pipe.
    deadline = time.monotonic() + 30
    while _processes_reading(big):
        assert time.monotonic() < deadline, "the checking child outlived the import"
        time.sleep(0.2)
    # And the database takes the next import as if nothing had happened.
    subprocess.run([*manage, big], cwd=ROOT, env=env, check=True, timeout=300)
    assert len(count_agencies(url)) == len(before) + 25_000


@pytest.mark.slow
def test_a_killed_import_leaves_no_trace(tmp_path, scratch_database):
    url, env, manage, before = scratch_database_with_data(scratch_database)
    big = _big_file(tmp_path)
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "w") as err:
        process = _start_and_wait_for_batches(manage, big, env, err_path, err)
        try:
            process.send_signal(signal.SIGTERM)
            returncode = process.wait(timeout=60)
        finally:
            process.kill()

    stderr = err_path.read_text(encoding="utf-8")
    assert big.stat().st_size > importing.PARALLEL_MIN_BYTES
    assert returncode == 143, stderr
    assert "导入被终止（SIGTERM），数据库没有任何改动。" in stderr
    assert "Traceback" not in stderr
    assert count_agencies(url) == before
