#!/usr/bin/env python
"""Benchmark: `import_agencies` on a 100,000-row Excel workbook with Chinese headers.

    python bench/import_xlsx.py                      # 100,000 rows, SQLite
    python bench/import_xlsx.py --shared-strings     # text kept as Excel keeps it
    python bench/import_xlsx.py --compare-jsonl      # and the same rows as JSON Lines
    python bench/import_xlsx.py --rows 20000 --min-rate 0
    make bench-xlsx BENCH_ARGS="--compare-jsonl"

The rows are bench/run.py's synthetic directory (the same seeded generator),
laid out as the lookup sites export it: 企业名称, 统一社会信用代码, 曾用名,
登记状态, 成立日期, 注册资本, 所属省份, 所属城市, 电话, 更多电话, 来源,
获取日期. Like a real export, the workbook mixes what Excel stores: mobile
numbers as number cells, the other numbers of a record in one 更多电话 cell
separated by "；", 成立日期 as date cells on two rows in three and as bare
serial numbers on the third, 获取日期 as date cells. It is written once with
openpyxl (bench/out/agencies-<N>.xlsx, kept for the next run; --rewrite
writes it again) and is a single sheet that declares its size, as Excel's are.
openpyxl writes text inline in each cell; Excel keeps it in a shared-strings
table instead, which openpyxl reads when it opens the workbook:
--shared-strings measures that form (agencies-<N>-sst.xlsx, rewritten from
the first).

The import is the real command, `manage.py import_agencies FILE`, run in this
process against a fresh SQLite database (bench/out/benchxlsx.sqlite3), timed
from the call to its summary: opening the workbook, reading and checking in
the forked child, writing, rebuilding the indexes and the commit. Besides
the wall-clock time, the CPU time of this process (writing) and of the
checking child (reading and checking) are reported: on a shared machine the
wall clock moves with everyone else's load, the CPU split says which side
bounds the import. --compare-jsonl then imports the same rows as a JSON Lines
file into a fresh database, the same way, for a same-hour comparison.

The script fails (exit 1) when the workbook's rate is under --min-rate
(default 5,000 rows/s). Everything is bounded: --time-limit seconds for the
whole run (default 1,800). Results go to bench/out/xlsx-<N>.json.
"""

import argparse
import datetime
import io
import json
import os
import re
import resource
import signal
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

from bench.run import OUT, generate  # noqa: E402

HEADER = [
    "企业名称",
    "统一社会信用代码",
    "曾用名",
    "登记状态",
    "成立日期",
    "注册资本",
    "所属省份",
    "所属城市",
    "电话",
    "更多电话",
    "来源",
    "获取日期",
]
PROVINCE_NAMES = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
}
FIRST_DAY = datetime.date(2005, 1, 1)
# Excel's day count for FIRST_DAY (1900 date system).
FIRST_SERIAL = (FIRST_DAY - datetime.date(1899, 12, 30)).days


def rows(n: int):
    """The synthetic directory as spreadsheet rows (cells as Excel would hold them)."""
    retrieved = datetime.datetime(2024, 6, 1)
    for i, record in enumerate(generate(n)):
        numbers = [phone["number"] for phone in record["phones"]]
        first = numbers[0]
        # A mobile number typed into a cell becomes a number.
        first_cell = int(first) if first.isdigit() and len(first) == 11 else first
        days = (i * 37) % 6000
        established = (
            FIRST_SERIAL + days
            if i % 3 == 0
            else datetime.datetime.combine(FIRST_DAY + datetime.timedelta(days), datetime.time())
        )
        yield [
            record["name"],
            record["uscc"],
            "；".join(record.get("former_names", [])) or None,
            record["status"],
            established,
            f"{(i % 50 + 1) * 100}万元人民币",
            PROVINCE_NAMES[record["province"]],
            record["city"],
            first_cell,
            "；".join(numbers[1:]) or None,
            record["source"],
            retrieved,
        ]


def write_workbook(path: Path, n: int) -> float:
    import openpyxl

    started = time.perf_counter()
    # Not write-only mode: that writes no <dimension>, and openpyxl then reads
    # the whole sheet once more just to size it, which Excel's files never need.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "企业列表"
    sheet.append(HEADER)
    for row in rows(n):
        sheet.append(row)
    for cell in sheet["E"][1:]:
        if isinstance(cell.value, datetime.datetime):
            cell.number_format = "yyyy-mm-dd"
    for cell in sheet["L"][1:]:
        cell.number_format = "yyyy-mm-dd"
    part = path.with_suffix(".part")
    book.save(part)
    part.replace(path)
    return time.perf_counter() - started


def to_shared_strings(source: Path, target: Path) -> None:
    """The workbook with its inline text moved into a shared-strings table, as Excel
    saves text. Only for the workbook write_workbook() made: openpyxl's own,
    known XML (one sheet, each text cell `<c … t="inlineStr"><is><t>…</t></is></c>`)."""
    strings: dict[str, int] = {}

    def shared(match):
        index = strings.setdefault(match.group(2), len(strings))
        return f'<c{match.group(1)} t="s"><v>{index}</v></c>'

    inline = re.compile(
        r'<c([^>]*?) t="inlineStr"><is><t(?: xml:space="preserve")?>(.*?)</t></is></c>'
    )
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = inline.sub(shared, data.decode()).encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://'
                    b'schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
                    b"</Relationships>",
                )
            zout.writestr(info.filename, data)
        table = "".join(f"<si><t>{text}</t></si>" for text in strings)
        zout.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{table}</sst>',
        )


def write_jsonl(path: Path, n: int) -> None:
    """The workbook's rows as the JSON Lines records they stand for."""
    fields = {
        "企业名称": "name",
        "统一社会信用代码": "uscc",
        "登记状态": "status",
        "注册资本": "registered_capital",
        "所属省份": "province",
        "所属城市": "city",
        "来源": "source",
    }
    with path.open("w", encoding="utf-8") as out:
        for row in rows(n):
            cells = dict(zip(HEADER, row, strict=True))
            record = {field: cells[header] for header, field in fields.items()}
            established = cells["成立日期"]
            if isinstance(established, int):
                established = datetime.date(1899, 12, 30) + datetime.timedelta(established)
            record["established_on"] = established.strftime("%Y-%m-%d")
            record["retrieved_on"] = cells["获取日期"].strftime("%Y-%m-%d")
            record["phones"] = [str(cells["电话"]), *(cells["更多电话"] or "").split("；")]
            record["phones"] = [number for number in record["phones"] if number]
            if cells["曾用名"]:
                record["former_names"] = cells["曾用名"].split("；")
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def fresh_database() -> None:
    """An empty, migrated SQLite database of the benchmark's own."""
    from django.core.management import call_command
    from django.db import connection

    connection.close()
    path = OUT / "benchxlsx.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{OUT / 'benchxlsx.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
    import django

    django.setup()


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def timed_import(path: Path, rows: int) -> dict:
    """`import_agencies FILE` into a fresh database: wall clock and CPU."""
    from django.core.management import call_command

    from agencies.models import Agency
    from bench.run import tune_sqlite

    fresh_database()
    tune_sqlite()
    out, err = io.StringIO(), io.StringIO()
    load = os.getloadavg()[0]
    own, children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    call_command("import_agencies", str(path), stdout=out, stderr=err)
    elapsed = time.perf_counter() - started
    result = {
        "file": str(path.relative_to(ROOT)),
        "file_bytes": path.stat().st_size,
        "seconds": round(elapsed, 1),
        "rows_per_second": round(rows / elapsed),
        "writer_cpu_seconds": round(_cpu(resource.RUSAGE_SELF) - own, 1),
        "checker_cpu_seconds": round(_cpu(resource.RUSAGE_CHILDREN) - children, 1),
        "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
        "summary": out.getvalue().strip(),
    }
    if err.getvalue():
        result["problems"] = err.getvalue()[:2000]
    created = Agency.objects.count()
    if created != rows:
        raise SystemExit(f"{path}: expected {rows} agencies, found {created}: {result}")
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--min-rate", type=float, default=5000, help="rows/s required (0: none)")
    parser.add_argument("--rewrite", action="store_true", help="write the workbook again")
    parser.add_argument(
        "--shared-strings", action="store_true", help="also the workbook with shared strings"
    )
    parser.add_argument(
        "--compare-jsonl", action="store_true", help="also the same rows as JSON Lines"
    )
    parser.add_argument("--time-limit", type=int, default=1800, help="seconds for the whole run")
    args = parser.parse_args(argv)
    signal.alarm(args.time_limit)  # SIGALRM ends the run, whatever it is doing

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"agencies-{args.rows}.xlsx"
    result = {"rows": args.rows, "db": "sqlite", "cpus": os.cpu_count()}
    if args.rewrite or not path.exists():
        print(f"writing {path.relative_to(ROOT)} ({args.rows:,} rows) …", flush=True)
        result["write_seconds"] = round(write_workbook(path, args.rows), 1)
    setup_django()
    print(f"importing {path.relative_to(ROOT)} into SQLite …", flush=True)
    result["xlsx"] = timed_import(path, args.rows)
    if args.shared_strings:
        shared = OUT / f"agencies-{args.rows}-sst.xlsx"
        if args.rewrite or not shared.exists() or shared.stat().st_mtime < path.stat().st_mtime:
            to_shared_strings(path, shared)
        print(f"importing {shared.relative_to(ROOT)} into SQLite …", flush=True)
        result["xlsx_shared_strings"] = timed_import(shared, args.rows)
    if args.compare_jsonl:
        jsonl = OUT / f"agencies-{args.rows}.jsonl"
        if not jsonl.exists():
            write_jsonl(jsonl, args.rows)
        print(f"importing {jsonl.relative_to(ROOT)} into SQLite …", flush=True)
        result["jsonl"] = timed_import(jsonl, args.rows)
    out = OUT / f"xlsx-{args.rows}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"written to {out.relative_to(ROOT)}")
    rate = result["xlsx"]["rows_per_second"]
    if args.min_rate and rate < args.min_rate:
        raise SystemExit(f"{rate:,} rows/s is under {args.min_rate:,.0f}")


if __name__ == "__main__":
    main()
