"""A record's history (issue 15, part 2): what a second import changed, where people see it."""

import io
import json
import re

import pytest
from django.core.management import call_command

from agencies import importing
from agencies.models import Agency, AgencyChange, Phone
from tests.test_import import failed_import, run_import, write_jsonl
from tests.test_import_files import write_csv, write_xlsx

A = "91430100TE00090018"
HEADERS = ["统一社会信用代码", "企业名称", "登记状态", "成立日期", "电话", "来源", "获取日期"]
FIRST = [
    A,
    "长沙衡信资产管理有限公司",
    "存续",
    "2019/3/5",
    "0731-84521234",
    "企业信用信息公示系统",
    "2026/11/1",
]
# The registry renamed the company, and it has since been deregistered.
SECOND = [
    A,
    "湖南衡信商务咨询有限公司",
    "注销",
    "2019/3/5",
    "0731-84521234；13907312468",
    "企业信用信息公示系统（复核）",
    "2026/12/1",
]


def export() -> str:
    out = io.StringIO()
    call_command("export_agencies", stdout=out)
    return out.getvalue()


@pytest.fixture
def renamed(tmp_path):
    """The agency after two imports of a registry export: renamed, deregistered, a new number."""
    run_import(write_csv(tmp_path / "first.csv", [HEADERS, FIRST], encoding="gb18030"))
    out, _ = run_import(write_xlsx(tmp_path / "second.xlsx", [HEADERS, SECOND]))
    return out


@pytest.mark.django_db
def test_the_second_import_says_what_changed(renamed):
    assert renamed.splitlines() == [
        "导入完成：新增 0 条，更新 1 条，未变 0 条，有误 0 条。",
        "更新的字段：名称 1 条，登记状态 1 条，号码 1 条。",
        f"  {A} 湖南衡信商务咨询有限公司："
        "名称“长沙衡信资产管理有限公司”→“湖南衡信商务咨询有限公司”；"
        "登记状态“存续”→“注销”；号码 新增“13907312468”",
    ]


@pytest.mark.django_db
def test_each_change_is_kept_with_the_source_of_the_new_value(renamed):
    changes = {c.field: c for c in AgencyChange.objects.filter(agency__uscc=A).order_by("id")}
    assert set(changes) == {"name", "status", "phones"}
    assert (changes["name"].old_value, changes["name"].new_value) == (
        "长沙衡信资产管理有限公司",
        "湖南衡信商务咨询有限公司",
    )
    assert (changes["status"].old_value, changes["status"].new_value) == ("存续", "注销")
    assert (changes["phones"].old_value, changes["phones"].new_value) == ("", "13907312468")
    for change in changes.values():
        assert change.via == "import"
        assert change.source == "企业信用信息公示系统（复核）"
        assert change.retrieved_on.isoformat() == "2026-12-01"


@pytest.mark.django_db
def test_the_agency_page_shows_the_changes(client, renamed):
    page = client.get(f"/agencies/{A}/").content.decode()
    section = page[page.index('id="history"') :]
    section = section[: section.index("</section>")]
    text = " ".join(re.sub(r"<[^>]+>", " ", section).split())
    assert "变更记录" in text
    assert "长沙衡信资产管理有限公司" in text and "湖南衡信商务咨询有限公司" in text
    assert "存续" in text and "注销" in text
    assert "（新增）" in text and "139 0731 2468" in text
    assert "企业信用信息公示系统（复核）" in text and "获取于 2026年12月1日" in text


@pytest.mark.django_db
def test_the_page_lists_the_newest_change_first(client, renamed, tmp_path):
    third = [*SECOND[:2], "吊销", *SECOND[3:]]
    run_import(write_csv(tmp_path / "third.csv", [HEADERS, third]))
    page = client.get(f"/agencies/{A}/").content.decode()
    section = page[page.index('id="history"') :]
    assert section.index("吊销") < section.index("存续")


@pytest.mark.django_db
def test_a_new_agency_has_no_history(client, tmp_path):
    run_import(write_csv(tmp_path / "first.csv", [HEADERS, FIRST]))
    assert not AgencyChange.objects.exists()
    page = client.get(f"/agencies/{A}/").content.decode()
    assert "本站收录这条记录以来，登记信息没有变化。" in page


@pytest.mark.django_db
def test_the_api_record_has_the_history_newest_first(client, renamed, tmp_path):
    history = client.get(f"/api/v1/agencies/{A}").json()["history"]
    assert {(h["field"], h["old"], h["new"]) for h in history} == {
        ("name", "长沙衡信资产管理有限公司", "湖南衡信商务咨询有限公司"),
        ("status", "存续", "注销"),
        ("phones", "", "13907312468"),
    }
    assert history[0]["field_label"] in {"名称", "登记状态", "号码"}
    assert history[0]["source"] == "企业信用信息公示系统（复核）"
    assert history[0]["via"] == "import"


@pytest.mark.django_db
def test_importing_the_same_file_again_adds_nothing(renamed, tmp_path):
    before = AgencyChange.objects.count()
    out, _ = run_import(write_xlsx(tmp_path / "again.xlsx", [HEADERS, SECOND]))
    assert out.strip() == "导入完成：新增 0 条，更新 0 条，未变 1 条，有误 0 条。"
    assert AgencyChange.objects.count() == before


@pytest.mark.django_db
def test_a_dry_run_reports_the_changes_and_keeps_none(tmp_path):
    run_import(write_csv(tmp_path / "first.csv", [HEADERS, FIRST]))
    out, _ = run_import(write_xlsx(tmp_path / "second.xlsx", [HEADERS, SECOND]), "--dry-run")
    assert out.splitlines()[0] == (
        "试运行，没有写入数据库。正式导入将会：新增 0 条，更新 1 条，未变 0 条，有误 0 条。"
    )
    assert "登记状态“存续”→“注销”" in out
    assert not AgencyChange.objects.exists()
    assert Agency.objects.get(uscc=A).name == "长沙衡信资产管理有限公司"


@pytest.mark.django_db
def test_only_the_first_twenty_updates_are_listed_unless_asked(tmp_path):
    from agencies import uscc

    codes = [uscc.with_check_digit(f"91430100MA{n:07d}") for n in range(25)]
    first = [{"uscc": c, "name": f"机构{n}", "source": "甲"} for n, c in enumerate(codes)]
    second = [{"uscc": c, "name": f"机构{n}", "status": "注销"} for n, c in enumerate(codes)]
    run_import(write_jsonl(tmp_path / "a.jsonl", *first))
    out, _ = run_import(write_jsonl(tmp_path / "b.jsonl", *second), "--dry-run")
    assert sum(1 for line in out.splitlines() if line.startswith("  9")) == 20
    assert "……另有 5 条更新没有逐条列出" in out
    out, _ = run_import(write_jsonl(tmp_path / "b.jsonl", *second), "--dry-run", "-v", "2")
    assert sum(1 for line in out.splitlines() if line.startswith("  9")) == 25


@pytest.mark.django_db
def test_export_then_import_keeps_the_history_exactly(renamed):
    first = export()
    record = json.loads(first.splitlines()[0])
    assert [h["field"] for h in record["history"]] and "editor" not in record["history"][0]

    Agency.objects.all().delete()
    Phone.objects.all().delete()
    summary = importing.import_records(json.loads(line) for line in first.splitlines())
    assert summary.created == 1 and not summary.problems
    assert export() == first

    # Into a database that has them already: nothing twice.
    before = AgencyChange.objects.count()
    summary = importing.import_records(json.loads(line) for line in first.splitlines())
    assert summary.unchanged == 1
    assert AgencyChange.objects.count() == before


@pytest.mark.django_db
def test_a_malformed_history_entry_is_a_clear_problem(tmp_path):
    path = write_jsonl(
        tmp_path / "h.jsonl",
        {
            "uscc": A,
            "name": "长沙衡信资产管理有限公司",
            "source": "甲",
            "history": [
                {
                    "field": "colour",
                    "new": "红",
                    "changed_at": "2026-01-01T00:00:00Z",
                    "via": "import",
                },
                {"field": "name", "new": "乙", "changed_at": "昨天", "via": "import"},
                {"field": "name", "changed_at": "2026-01-01T00:00:00Z", "via": "import"},
            ],
        },
    )
    problems, message = failed_import(path)
    assert "history[1].field: 不认识的字段“colour”" in problems
    assert "history[2].changed_at: 应为 ISO 8601 时间" in problems
    assert "history[3]: 原值和新值不能都为空。" in problems
    assert "没有写入任何数据" in message
    assert not Agency.objects.exists()


def test_agency_page_query_count_does_not_grow_with_history(count_queries, db, tmp_path):
    run_import(write_csv(tmp_path / "first.csv", [HEADERS, FIRST]))
    small = count_queries(f"/agencies/{A}/")
    for n in range(60):
        run_import(write_jsonl(tmp_path / "n.jsonl", {"uscc": A, "name": f"名称{n}"}))
    assert AgencyChange.objects.count() == 60
    assert count_queries(f"/agencies/{A}/") == small


@pytest.mark.django_db
def test_a_new_retrieval_date_alone_is_an_update_without_history(tmp_path):
    run_import(write_csv(tmp_path / "first.csv", [HEADERS, FIRST]))
    later = [*FIRST[:-1], "2026/12/2"]
    out, _ = run_import(write_csv(tmp_path / "later.csv", [HEADERS, later]))
    assert out.splitlines() == [
        "导入完成：新增 0 条，更新 1 条，未变 0 条，有误 0 条。",
        "更新的字段：只有来源、获取日期等附带信息 1 条。",
        f"  {A} 长沙衡信资产管理有限公司：只有来源、获取日期等附带信息",
    ]
    assert not AgencyChange.objects.exists()


@pytest.mark.django_db
def test_a_summary_says_how_many_history_entries_a_file_brought(renamed, tmp_path):
    exported = tmp_path / "all.jsonl"
    exported.write_text(export(), encoding="utf-8")
    AgencyChange.objects.all().delete()
    out, _ = run_import(exported)
    assert out.splitlines() == [
        "导入完成：新增 0 条，更新 1 条，未变 0 条，有误 0 条。",
        "更新的字段：变更记录（文件带入） 1 条。",
        f"  {A} 湖南衡信商务咨询有限公司：带入变更记录 3 条",
    ]
    assert AgencyChange.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00"])
def test_a_history_moment_off_the_calendar_is_a_problem_not_a_crash(tmp_path, moment):
    entry = {"field": "name", "new": "乙", "changed_at": moment, "via": "import"}
    record = {"uscc": A, "name": "甲", "source": "甲", "history": [entry]}
    problems, message = failed_import(write_jsonl(tmp_path / "h.jsonl", record))
    assert "history[1].changed_at: 应为 ISO 8601 时间" in problems
    assert "没有写入任何数据" in message
    assert not Agency.objects.exists()
