#!/usr/bin/env python
"""Benchmark: import a synthetic directory, then time the lookups people make.

    python bench/run.py --agencies 100000 --db sqlite
    python bench/run.py --agencies 1000000 --db postgres --http
    python bench/run.py --agencies 20000 --db sqlite --api
    make bench BENCH_ARGS="--agencies 100000 --db postgres --http"

The directory is deterministic (seeded): N agencies with about three numbers
each, names built like real ones (city + trade name + business + company
form), some former names, a share of dead statuses and of shared numbers. It
goes through the real import path, `agencies.importing.import_records()`, in
one transaction, so the import figure includes the search index.

Then, in-process, each kind of lookup runs --samples times with varied inputs
and the p50/p95 latencies are printed: phone, USCC, a 2-character name, a
4-character name, pinyin, two keywords in the wrong order ("鑫达 长沙"), a
4-character name with one character replaced by another of the same pinyin
(nothing matches: the page's "你是不是要找" path), a province listing, and the
message check of a ~300-character message. With --http the same kinds
run against `manage.py runserver` on 127.0.0.1 (a bounded number of
requests each). With --api the JSON endpoints are called in-process through
Django's test Client (the whole middleware and URL stack, no sockets), so the
API layer's own cost shows next to the bare lookups. Results are also written
to bench/out/<db>-<N>.json.

The database is a separate one (bench/out/bench.sqlite3, or the PostgreSQL
database `bench` on PG_URL's server), recreated on each run unless
--reuse is given.
"""

import argparse
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
# Production settings, less what would distort the measurement: plain HTTP on
# 127.0.0.1 (no redirect to https), no rate limits (one client makes every
# request), no page cache (every request rendered).
BENCH_SERVER_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "PORTAL_RATE_LIMITS": "0",
    "PORTAL_PAGE_CACHE": "0",
}
PG_SERVER = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/test").rsplit("/", 1)[0]

# (city, province code, area code, pinyin)
CITIES = [
    ("长沙", "43", "0731", "changsha"),
    ("株洲", "43", "0731", "zhuzhou"),
    ("衡阳", "43", "0734", "hengyang"),
    ("岳阳", "43", "0730", "yueyang"),
    ("北京", "11", "010", "beijing"),
    ("天津", "12", "022", "tianjin"),
    ("石家庄", "13", "0311", "shijiazhuang"),
    ("太原", "14", "0351", "taiyuan"),
    ("沈阳", "21", "024", "shenyang"),
    ("大连", "21", "0411", "dalian"),
    ("长春", "22", "0431", "changchun"),
    ("哈尔滨", "23", "0451", "haerbin"),
    ("上海", "31", "021", "shanghai"),
    ("南京", "32", "025", "nanjing"),
    ("苏州", "32", "0512", "suzhou"),
    ("无锡", "32", "0510", "wuxi"),
    ("杭州", "33", "0571", "hangzhou"),
    ("宁波", "33", "0574", "ningbo"),
    ("合肥", "34", "0551", "hefei"),
    ("福州", "35", "0591", "fuzhou"),
    ("厦门", "35", "0592", "xiamen"),
    ("南昌", "36", "0791", "nanchang"),
    ("济南", "37", "0531", "jinan"),
    ("青岛", "37", "0532", "qingdao"),
    ("郑州", "41", "0371", "zhengzhou"),
    ("武汉", "42", "027", "wuhan"),
    ("广州", "44", "020", "guangzhou"),
    ("深圳", "44", "0755", "shenzhen"),
    ("东莞", "44", "0769", "dongguan"),
    ("南宁", "45", "0771", "nanning"),
    ("海口", "46", "0898", "haikou"),
    ("重庆", "50", "023", "chongqing"),
    ("成都", "51", "028", "chengdu"),
    ("贵阳", "52", "0851", "guiyang"),
    ("昆明", "53", "0871", "kunming"),
    ("西安", "61", "029", "xian"),
    ("兰州", "62", "0931", "lanzhou"),
    ("西宁", "63", "0971", "xining"),
    ("银川", "64", "0951", "yinchuan"),
    ("乌鲁木齐", "65", "0991", "wulumuqi"),
]
TRADE_CHARS = (
    "鑫达信诚汇通恒融安盛泰华金瑞丰宏远嘉禾中和永兴德利鼎新明辉星辰天正博润合立"
    "佳美腾飞海川广源盈众联智卓越银富康顺凯旋宇乐捷优聚宝晟昊铭祥"
)
BUSINESSES = [
    "资产管理",
    "商务咨询",
    "信息咨询",
    "企业管理咨询",
    "信息技术",
    "法律咨询服务",
    "征信服务",
    "金融服务外包",
    "数据科技",
    "网络科技",
    "催收服务",
    "投资管理",
]
FORMS = ["有限公司"] * 14 + ["有限责任公司"] * 5 + ["股份有限公司"]
STATUSES = ["存续"] * 17 + ["在业"] * 3 + ["注销"] * 3 + ["吊销"] * 2 + ["迁出"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc_for(n: int, province: str) -> str:
    from agencies import uscc

    body = ""
    value = n
    for _ in range(9):
        value, digit = divmod(value, len(USCC_ALPHABET))
        body = USCC_ALPHABET[digit] + body
    return uscc.with_check_digit(f"91{province}0100{body}")


def generate(n: int, seed: int = 20241):
    """N records shaped like the import format, always the same for the same N and seed."""
    rng = random.Random(seed)
    shared = [f"400{rng.randrange(10**7):07d}" for _ in range(max(10, n // 200))]
    for i in range(n):
        city, province, area, _ = CITIES[i % len(CITIES)] if i % 3 else rng.choice(CITIES)
        trade = rng.choice(TRADE_CHARS) + rng.choice(TRADE_CHARS)
        name = f"{city}{trade}{rng.choice(BUSINESSES)}{rng.choice(FORMS)}"
        numbers = []
        for _ in range(rng.choice((2, 3, 3, 4))):
            pick = rng.random()
            if pick < 0.45:
                numbers.append(f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
            elif pick < 0.85:
                local = rng.randrange(2 * 10**7, 9 * 10**7)
                numbers.append(f"{area}-{local:08d}")
            elif pick < 0.95:
                numbers.append(rng.choice(shared))
            else:
                numbers.append(f"400-{rng.randrange(10**3):03d}-{rng.randrange(10**4):04d}")
        record = {
            "uscc": uscc_for(i + 1, province),
            "name": name,
            "province": province,
            "city": city + "市",
            "status": rng.choice(STATUSES),
            "source": "合成测试数据",
            "retrieved_on": "2024-06-01",
            "phones": [{"number": number, "label": "年报联系电话"} for number in numbers],
        }
        if rng.random() < 0.1:
            old_trade = rng.choice(TRADE_CHARS) + rng.choice(TRADE_CHARS)
            record["former_names"] = [f"{city}{old_trade}{rng.choice(BUSINESSES)}有限公司"]
        yield record


# --- Setup --------------------------------------------------------------------------------------


def setup_django(db: str, reuse: bool, name: str = "bench") -> None:
    """A database of its own for a benchmark, migrated: bench/out/<name>.sqlite3,
    or the PostgreSQL database <name> on PG_URL's server; emptied unless `reuse`."""
    OUT.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        path = OUT / f"{name}.sqlite3"
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        import psycopg

        if not reuse:
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
                conn.execute(f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def directory_file(n: int) -> Path:
    """The generated directory as a JSON Lines file, written once per N and reused."""
    path = OUT / f"directory-{n}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for record in generate(n):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        partial.rename(path)
    return path


def run_import(n: int) -> dict:
    """Load the directory as an operator does: `manage.py import_agencies <file>`, nothing else.

    No ANALYZE, VACUUM or PRAGMA of our own afterwards: what the pages meet
    right after this is what a visitor meets right after a real import.
    """
    from django.core.management import call_command

    from agencies.models import Agency

    path = directory_file(n)
    started = time.perf_counter()
    call_command("import_agencies", str(path), verbosity=0)
    elapsed = time.perf_counter() - started
    created = Agency.objects.count()
    return {
        "agencies": created,
        "seconds": round(elapsed, 1),
        "agencies_per_second": round(created / elapsed),
    }


# --- Measuring ----------------------------------------------------------------------------------


def samples(n_agencies: int, count: int) -> dict[str, list[str]]:
    """Inputs for each kind of lookup, drawn from the generated directory."""
    rng = random.Random(7)
    records = {}
    wanted = sorted(rng.sample(range(n_agencies), min(count, n_agencies)))
    wanted_set = set(wanted)
    for i, record in enumerate(generate(n_agencies)):
        if i in wanted_set:
            records[i] = record
        if i >= wanted[-1]:
            break
    chosen = [records[i] for i in wanted]
    rng.shuffle(chosen)
    cities = [c for c, *_ in CITIES]
    return {
        "phone": [r["phones"][0]["number"] for r in chosen],
        "uscc": [r["uscc"].lower() if k % 2 else r["uscc"] for k, r in enumerate(chosen)],
        "name_2char": [rng.choice([*cities[:36], "催收", "咨询", "资产"]) for _ in chosen],
        "name_4char": [r["name"][len(_city(r)) : len(_city(r)) + 4] for r in chosen],
        "pinyin": [rng.choice(CITIES)[3] for _ in chosen],
        "keywords": [f"{_trade(r)[:2]} {_city(r)}" for r in chosen],
        "typo": [_homophone_slip(_trade(r)[:4]) for r in chosen],
        "province_listing": [rng.choice(CITIES)[1] for _ in chosen],
        "message": [message(r, rng) for r in chosen],
    }


# Sentences a collector might send, for the message check: threats, third
# parties, fees — so the signals have work to do as well as the names.
MESSAGE_LINES = [
    "您的欠款已严重逾期，今日18点前必须处理，否则将上报公安机关立案。",
    "我们已经准备联系你的父母和单位领导，明天安排外访人员到你老家核实。",
    "请把钱转到我们财务的个人银行卡，转账后截图发给我。",
    "逾期记录将影响征信，如有困难可以申请分期，请勿相信债务优化中介。",
    "你的债务已经转让给我司，今后由我司负责催收，请配合处理。",
    "法院已经受理立案，传票近日送达，再不处理后果自负。",
]


def message(record: dict, rng: random.Random) -> str:
    """About 300 characters as a borrower would paste them: a 【】 signature with
    the trade name, the full name in a sentence, a number, and threats."""
    trade = record["name"][len(_city(record)) :][:4]
    lines = rng.sample(MESSAGE_LINES, 4)
    number = record["phones"][0]["number"]
    return (
        f"【{trade}法务部】{lines[0]}我是{record['name']}的工作人员，工号{rng.randrange(10**4)}，"
        f"请尽快联系{number}。{lines[1]}{lines[2]}{lines[3]}"
        f"如已还款请忽略本短信，回复TD退订。客服工作时间9:00至18:00，节假日照常。"
    )


def _city(record) -> str:
    return record["city"].removesuffix("市")


def _trade(record) -> str:
    """The name after its city: trade name, business, company form."""
    return record["name"][len(_city(record)) :]


def _homophone_slip(text: str) -> str:
    """`text` with its second character replaced by another of the same pinyin that
    no generated name uses (鑫达资产 → 鑫哒资产): an input method's wrong pick."""
    return text[0] + _homophones()[text[1]] + text[2:]


_HOMOPHONES: dict[str, str] = {}


def _homophones() -> dict[str, str]:
    if not _HOMOPHONES:
        from collections import Counter

        from pypinyin.phrases_dict import phrases_dict

        from agencies.search import textnorm

        # The commonest homophone, as an input method offers it: by how many of
        # pypinyin's phrases use the character.
        common = Counter(char for phrase in phrases_dict for char in phrase)
        used = set(TRADE_CHARS) | {c for name in BUSINESSES for c in name}
        by_reading: dict[str, str] = {}
        for char, _n in common.most_common():
            if "\u4e00" <= char <= "\u9fa5" and char not in used:
                by_reading.setdefault(textnorm.readings(char)[0], char)
        for char in TRADE_CHARS:
            _HOMOPHONES[char] = by_reading.get(textnorm.readings(char)[0], "哒")
    return _HOMOPHONES


def in_process(inputs: dict[str, list[str]]) -> dict:
    from django.http import QueryDict

    from agencies.check import reading
    from agencies.filters import AgencyListFilter
    from agencies.models import Agency, AgencyPhone
    from agencies.search.filters import SearchHitFilter
    from agencies.search.present import search_names
    from agencies.search.understand import classify

    def phone(value):
        key = classify(value).phone.key
        return list(AgencyPhone.objects.for_number(key))

    def uscc(value):
        return Agency.objects.for_listing().filter(uscc=classify(value).uscc).first()

    def name(value):
        # As the search page asks: a query that finds nothing gets corrections.
        folded = classify(value).folded
        return search_names(folded, SearchHitFilter(QueryDict()), suggest_corrections=True)

    def listing(value):
        filterset = AgencyListFilter(
            QueryDict(f"province={value}"), queryset=Agency.objects.for_listing()
        )
        queryset = filterset.qs.order_by("uscc")
        return queryset.count(), list(queryset[:20])

    def check(value):
        return reading.read(value, datetime.time(23, 30))

    runners = {
        "message": check,
        "phone": phone,
        "uscc": uscc,
        "name_2char": name,
        "name_4char": name,
        "pinyin": name,
        "keywords": name,
        "typo": name,
        "province_listing": listing,
    }
    report = {}
    for kind, values in inputs.items():
        run = runners[kind]
        run(values[0])  # warm caches once
        timings = []
        for value in values:
            started = time.perf_counter()
            run(value)
            timings.append((time.perf_counter() - started) * 1000)
        report[kind] = summarize(timings)
    return report


def summarize(timings: list[float]) -> dict:
    timings = sorted(timings)
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return {
        "n": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(timings[-1], 2),
    }


def over_http(inputs: dict[str, list[str]], requests: int, port: int) -> dict:
    env = {
        **os.environ,
        **BENCH_SERVER_ENV,
        "DJANGO_SECRET_KEY": "bench-only-not-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    # Debug off, as in production: the hashed static files must exist first.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        paths = {
            "phone": lambda v: "/api/v1/search?q=" + urllib.parse.quote(v),
            "uscc": lambda v: "/api/v1/agencies/" + urllib.parse.quote(v),
            "name_2char": lambda v: "/search/?q=" + urllib.parse.quote(v),
            "name_4char": lambda v: "/search/?q=" + urllib.parse.quote(v),
            "pinyin": lambda v: "/api/v1/search?q=" + urllib.parse.quote(v),
            "keywords": lambda v: "/search/?q=" + urllib.parse.quote(v),
            "typo": lambda v: "/search/?q=" + urllib.parse.quote(v),
            "province_listing": lambda v: "/api/v1/agencies?province=" + v,
        }
        report = {}
        for kind, values in inputs.items():
            if kind not in paths:  # the message check is a POST: timed in-process
                continue
            timings = []
            for value in values[:requests]:
                url = base + paths[kind](value)
                started = time.perf_counter()
                with urllib.request.urlopen(url, timeout=30) as response:
                    response.read()
                    if response.status != 200:
                        raise SystemExit(f"{url}: HTTP {response.status}")
                timings.append((time.perf_counter() - started) * 1000)
            report[kind] = summarize(timings)
        return report
    finally:
        server.terminate()
        server.wait(timeout=10)


def api_paths(client, inputs: dict) -> dict:
    """For each API endpoint, a function from a sample number to a path (also bench/api_ab.py)."""
    slugs = [a["slug"] for a in client.get("/api/v1/articles").json()["results"]]
    return {
        "phone": lambda i: "/api/v1/phones/" + urllib.parse.quote(inputs["phone"][i]),
        "search_phone": lambda i: "/api/v1/search?q=" + urllib.parse.quote(inputs["phone"][i]),
        "agency": lambda i: "/api/v1/agencies/" + inputs["uscc"][i],
        "search_name": lambda i: "/api/v1/search?q=" + urllib.parse.quote("长沙"),
        "agency_list": lambda i: "/api/v1/agencies?province=" + inputs["province_listing"][i],
        "article_list": lambda i: "/api/v1/articles",
        "article": lambda i: "/api/v1/articles/" + slugs[i % len(slugs)],
    }


def through_api(inputs: dict[str, list[str]], requests: int) -> dict:
    """Each API endpoint --samples times through the test Client, after one warm-up call.

    Debug is off (see main) so that Django does not keep a log of every query.
    Besides wall-clock p50/p95, `cpu_p50_ms` is this thread's CPU time per
    request (SQLite runs in-process, so that is nearly all the work): on a
    shared machine other processes' load inflates wall time but hardly this.
    """
    from django.test import Client

    from articles.loading import DEFAULT_DIR, sync

    sync(DEFAULT_DIR)
    client = Client(HTTP_HOST="127.0.0.1")
    paths = api_paths(client, inputs)
    report = {}
    for kind, path in paths.items():
        client.get(path(0))  # warm caches once
        timings, cpu = [], []
        for i in range(requests):
            url = path(i % len(inputs["phone"]))
            started, cpu_started = time.perf_counter(), time.thread_time()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - cpu_started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
        report[kind] = {**summarize(timings), "cpu_p50_ms": round(statistics.median(cpu), 2)}
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--samples", type=int, default=200, help="in-process lookups per kind")
    parser.add_argument("--http", action="store_true", help="also measure over HTTP")
    parser.add_argument("--requests", type=int, default=50, help="HTTP requests per kind")
    parser.add_argument(
        "--api", action="store_true", help="also time the JSON API in-process (test Client)"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--reuse", action="store_true", help="keep the database, skip import")
    parser.add_argument(
        "--db-name",
        default="bench",
        help="database to use (benchhttp: the one bench/http_load.py imported, with --reuse)",
    )
    args = parser.parse_args(argv)

    if args.api:
        # As in production: debug on would log every query and slow the API figures.
        os.environ.update(BENCH_SERVER_ENV)
        os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    setup_django(args.db, args.reuse, args.db_name)
    result = {"db": args.db, "agencies": args.agencies, "cpus": os.cpu_count()}
    if not args.reuse:
        print(f"importing {args.agencies:,} agencies into {args.db} …", flush=True)
        result["import"] = run_import(args.agencies)
        print(json.dumps(result["import"], ensure_ascii=False), flush=True)
    inputs = samples(args.agencies, args.samples)
    result["in_process"] = in_process(inputs)
    if args.http:
        result["http"] = over_http(inputs, args.requests, args.port)
    if args.api:
        result["api"] = through_api(inputs, args.samples)
    out = OUT / f"{args.db}-{args.agencies}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
