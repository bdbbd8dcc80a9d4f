#!/usr/bin/env python
"""HTTP load benchmark: gunicorn as deployed, driven by wrk, each page against /healthz.

    python bench/http_load.py --agencies 20000 --db sqlite
    make bench-http BENCH_ARGS="--agencies 1000000 --db postgres"

The directory comes from bench/run.py's generator and goes through the real
import (`import_records`) into this benchmark's own database
(bench/out/benchhttp.sqlite3, or the PostgreSQL database `benchhttp` on
PG_URL's server; --reuse keeps it), with the articles loaded. Static files are
collected and gunicorn starts with portal/gunicorn.conf.py on 127.0.0.1:--port
with 2 workers, debug off, rate limits off, PORTAL_BASE_URL set as in
production and the access log written to /dev/null (formatted as in
production, then dropped). On PostgreSQL the report names the server's
shared_buffers and the other settings the figures depend on (docs/deploy.md
recommends 2GB; Debian's default is 128MB).

For each page type, wrk (10 connections, 2 threads, --duration seconds)
cycles through a list of concrete URLs (different agencies, numbers and
queries; the lists are written to bench/out/http-urls-<N>/), between two
/healthz runs of half that length. /healthz touches nothing, so it is the
ceiling of this stack on this machine at that moment: a page's figure is its
requests/s as a share of /healthz's, which cancels out most of what else the
machine is doing.

Everything runs twice, unless --cache says otherwise: with the page cache off
(every request rendered; the issue's targets), then on, over the first
--repeat-urls URLs of each type, warmed up first, so nearly every request is
a repeat view. The report gives requests/s, p50/p99 latency, errors
(HTTP status >= 400 and socket errors), the ratio and the target for each,
and each worker's resident memory; it is printed as Markdown and written to
bench/out/http-<db>-<N>.json. The run is bounded: every wrk call has a
duration and a timeout, the whole script --time-limit seconds, and gunicorn
is stopped (its whole process group) however the script ends.

With --peer (page cache off), the same directory is also served by Datasette
(bench/peer.py: its own pinned virtual environment, a SQLite database with an
FTS5 trigram index, a canned query for numbers) on 127.0.0.1:--peer-port, and
each portal workload in PAIRS runs with the same wrk settings over the same
samples, then at once its Datasette counterpart, between two /healthz runs;
the report gives both sides and the ratio portal ÷ Datasette against its
target, then the pages without a counterpart (home, province) as a share of
/healthz. Written to bench/out/http-<db>-<N>-peer.json.

With --rounds N, each measured part (the page, or the pair, between its two
/healthz runs) is repeated N times in a row and the round with the median
ratio is reported, with the lowest and highest beside it: on a shared
machine one ten-second run's requests/s moved by ±20 % or more, the peer's
as much as the portal's (docs/benchmarks.md), and a target judged on one
sample is judged on the machine's mood. Errors count over every round.

Before each workload, the portal's database and the peer's file are read
into the OS page cache (`warm_databases`), so both sides start with their
data in memory, whatever ran before.

    make bench-http BENCH_ARGS="--peer --db postgres --agencies 1000000 --reuse"
"""

import argparse
import gzip
import json
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager, suppress
from io import StringIO
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ first on sys.path, where this file would
# shadow the standard library's `http` (which urllib and Django import). The
# project root goes there instead, which also makes `bench.run` importable.
if Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import http.client  # noqa: E402

from bench import peer  # noqa: E402
from bench.run import OUT, PG_SERVER, run_import, samples  # noqa: E402

DB_NAME = "benchhttp"
LUA = ROOT / "bench" / "urls.lua"
WORKERS = 2
CONNECTIONS = 10
THREADS = 2
# Browsers ask for gzip, and the app compresses (GZipMiddleware): that cost is
# part of serving a page. /healthz's body is too short to be compressed.
HEADERS = {"Accept-Encoding": "gzip"}

# (key, what is requested, target: requests/s as a share of /healthz's, page cache off)
PAGES = [
    ("home", "home `/`", 0.30),
    ("province", "province `/provinces/hunan/`", 0.15),
    ("province_status", "province, status filter `?status=存续`", 0.15),
    ("agency", "agency `/agencies/<uscc>/`", 0.25),
    ("phone", "phone `/phone/<key>/`", 0.25),
    ("search", "name search `/search/?q=<4 chars>`", 0.08),
    ("api_search", "search API `/api/v1/search?q=<name or number>`", 0.12),
    ("mix", "mix (weights below)", None),
]
# With the page cache on, a repeat view of any page.
CACHED_TARGET = 0.5
WORKER_MB_TARGET = 200

# --peer: each portal workload against its Datasette counterpart over the same
# samples (bench/peer.py serves the same directory), page cache off.
# (portal list, Datasette list, portal label, Datasette label, target: portal
# requests/s ÷ Datasette's.) The FTS JSON leaves out the facets (`_nofacet=1`)
# because the search API computes none; the FTS page keeps them, as the
# portal's search page counts its province and status facets too.
PAIRS = [
    ("agency", "peer_agency", "agency `/agencies/<uscc>/`", "row `/<db>/agencies/<uscc>`", 1.0),
    (
        "api_agency",
        "peer_api_agency",
        "agency API `/api/v1/agencies/<uscc>`",
        "row JSON `/<db>/agencies/<uscc>.json`",
        1.0,
    ),
    ("phone", "peer_phone", "phone `/phone/<key>/`", "canned query `/<db>/phone?key=<key>`", 1.5),
    (
        "api_phone",
        "peer_api_phone",
        "phone API `/api/v1/phones/<key>`",
        "canned query JSON `/<db>/phone.json?key=<key>`",
        2.0,
    ),
    (
        "search",
        "peer_search",
        "name search `/search/?q=<4 chars>`",
        "FTS `/<db>/agencies?_search=<q>`",
        1.5,
    ),
    (
        "api_search_names",
        "peer_api_search",
        "search API, names `/api/v1/search?q=<4 chars>`",
        "FTS JSON `/<db>/agencies.json?_search=<q>&_nofacet=1`",
        1.0,
    ),
]
# --peer: the pages Datasette has no counterpart for, as a share of /healthz.
PEER_SOLO_TARGET = 0.10
PEER_SOLO = ["home", "province", "province_status"]

# The mix, in percent of requests. Most visitors come to identify a number
# that called them (the number page, straight from a search engine or from
# the search box, which redirects numbers there); next, an agency's page
# (search engines, links from number pages) and name searches; the home page
# is the way in for the rest; the API and province browsing are a minority.
MIX = {
    "phone": 30,
    "agency": 20,
    "search": 20,
    "home": 10,
    "api_search": 10,
    "province": 7,
    "province_status": 3,
}


# --- Setup --------------------------------------------------------------------------------------


def setup_database(db: str, n: int, reuse: bool, name: str = DB_NAME) -> None:
    """bench/run.py's setup_django, with this benchmark's own database."""
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
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if reuse:
        from agencies.models import Agency

        count = Agency.objects.count()
        if count != n:
            raise SystemExit(
                f"--reuse: the {db} database holds {count:,} agencies, not {n:,}; "
                "run once without --reuse."
            )


# What the figures depend on and docs/deploy.md recommends: reported with them.
SERVER_SETTINGS = ("shared_buffers", "effective_cache_size", "work_mem", "autovacuum")


def server_settings() -> dict:
    """The PostgreSQL server's settings that the figures depend on, as it reports them."""
    from django.db import connection

    with connection.cursor() as cursor:
        found = {}
        for name in SERVER_SETTINGS:
            cursor.execute(f"SHOW {name}")
            found[name] = cursor.fetchone()[0]
    return found


def load_articles() -> None:
    from django.core.management import call_command

    call_command("sync_articles", stdout=StringIO())


def server_environment(port: int, page_cache: bool, max_requests: int) -> dict:
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # As deploy/portal.env.example sets it for production: the API's links
        # start with it instead of the scheme and host worked out from each
        # request. Same links here; no measurable change in req/s
        # (docs/benchmarks.md, sixth measurement).
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PORTAL_RATE_LIMITS": "false",
        "PORTAL_PAGE_CACHE": "true" if page_cache else "false",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(WORKERS),
        # The config writes the access log to a file when given a path.
        "GUNICORN_ACCESS_LOG": "/dev/null",
        # The config recycles a worker every ~5,000 requests. At benchmark
        # rates that is every few seconds, and each new worker spends ~2 s of
        # CPU importing the app (and starts with an empty page cache) inside a
        # measured run, /healthz's most of all. Off by default (--max-requests),
        # which also lets the memory at the end show any growth.
        "GUNICORN_MAX_REQUESTS": str(max_requests),
    }


def collect_static() -> None:
    # Debug off serves the hashed files from the manifest, which must exist.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "false"},
        check=True,
        timeout=300,
    )


# --- URL lists ----------------------------------------------------------------------------------


def url_lists(n: int, count: int, with_peer: bool = False) -> dict[str, list[str]]:
    """Concrete paths for each page type, drawn from the generated directory;
    with_peer, also the portal's side of each pair and Datasette's (PAIRS)."""
    from agencies import phones

    inputs = samples(n, count)
    names = inputs["name_4char"]
    numbers = inputs["phone"]
    codes = [code.upper() for code in inputs["uscc"]]
    keys = [phones.normalize(number).key for number in numbers]
    lists = {
        "healthz": ["/healthz"],
        "home": ["/"],
        "province": ["/provinces/hunan/"],
        "province_status": ["/provinces/hunan/?status=" + quote("存续")],
        # samples() writes every other code in lower case (a lookup test); the
        # page's own address is upper case, and lower case would redirect.
        "agency": [f"/agencies/{code}/" for code in codes],
        "phone": [f"/phone/{key}/" for key in keys],
        "search": ["/search/?q=" + quote(name) for name in names],
        # Names and numbers as people type them ("0731-…", "400-…"), alternately.
        "api_search": [
            "/api/v1/search?q=" + quote(name if i % 2 else number)
            for i, (name, number) in enumerate(zip(names, numbers, strict=True))
        ],
    }
    lists["mix"] = mix(lists, count)
    if with_peer:
        db = "/" + peer.database_name(n)
        searches = [quote(name) for name in names]
        lists |= {
            "api_agency": [f"/api/v1/agencies/{code}" for code in codes],
            "api_phone": [f"/api/v1/phones/{key}" for key in keys],
            "api_search_names": [f"/api/v1/search?q={q}" for q in searches],
            "peer_agency": [f"{db}/agencies/{code}" for code in codes],
            "peer_api_agency": [f"{db}/agencies/{code}.json" for code in codes],
            "peer_phone": [f"{db}/phone?key={key}" for key in keys],
            "peer_api_phone": [f"{db}/phone.json?key={key}" for key in keys],
            "peer_search": [f"{db}/agencies?_search={q}" for q in searches],
            "peer_api_search": [f"{db}/agencies.json?_search={q}&_nofacet=1" for q in searches],
        }
    return lists


def mix(lists: dict[str, list[str]], count: int) -> list[str]:
    rng = random.Random(11)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    taken = Counter()
    paths = []
    for kind in kinds:
        paths.append(lists[kind][taken[kind] % len(lists[kind])])
        taken[kind] += 1
    return paths


def repeat_lists(lists: dict[str, list[str]], count: int) -> dict[str, list[str]]:
    """The first `count` URLs of each type: the pages viewed again and again."""
    short = {kind: paths[:count] for kind, paths in lists.items() if kind != "mix"}
    short["mix"] = mix(short, len(lists["mix"]))
    return short


def write_lists(lists: dict[str, list[str]], folder: Path, suffix: str = "") -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for kind, paths in lists.items():
        files[kind] = folder / f"{kind}{suffix}.txt"
        files[kind].write_text("\n".join(paths) + "\n")
    return files


# --- The server ---------------------------------------------------------------------------------


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def get(port: int, path: str) -> tuple[int, int]:
    """(status, body length as sent) of one request, redirects not followed."""
    status, body, _ = _request(port, path)
    return status, len(body)


def get_json(port: int, path: str) -> tuple[int, object]:
    """(status, the decoded JSON body, None if not JSON) of one request."""
    status, body, encoding = _request(port, path)
    if encoding == "gzip":
        body = gzip.decompress(body)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def _request(port: int, path: str) -> tuple[int, bytes, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=HEADERS)
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("Content-Encoding")
    finally:
        conn.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # "pid (comm) state ppid …": comm may hold spaces and parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def _status_mb(pid: int) -> dict[str, float]:
    values = {}
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = round(int(value.split()[0]) / 1024, 1)  # kB
    return values


class Gunicorn:
    """gunicorn in its own process group, so stopping it stops every worker."""

    def __init__(self, env: dict, port: int, log: Path):
        self.env, self.port, self.log_path = env, port, log
        self.process = None

    def start(self) -> None:
        if port_in_use(self.port):
            raise SystemExit(f"127.0.0.1:{self.port} is already in use; pick another --port.")
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "portal/gunicorn.conf.py",
                "portal.wsgi",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
            with suppress(OSError):
                if get(self.port, "/healthz")[0] == 200 and len(self.workers()) == WORKERS:
                    return
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within 60 s:\n{self.log_tail()}")

    def workers(self) -> list[int]:
        return _children(self.process.pid)

    def memory(self) -> list[dict]:
        return [{"pid": pid, **_status_mb(pid)} for pid in self.workers()]

    def stop(self) -> bool:
        """TERM to the group (gunicorn's graceful stop), KILL if it lingers. True if all gone."""
        if self.process is None:
            return True
        group = self.process.pid  # start_new_session: the group id is the master's pid
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=10)
        for _ in range(50):  # workers are reaped by init once the master is gone
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                self.log.close()
                return True
            time.sleep(0.1)
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.log.close()
        return False

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_summary(self) -> dict:
        """What gunicorn and Django wrote: routine lines are gunicorn's [INFO];
        anything else (a 500's traceback, a 404 warning) is worth reading."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return {
            "log": str(self.log_path.relative_to(ROOT)),
            "worker_boots": sum("Booting worker" in line for line in lines),
            "worker_timeouts": sum("WORKER TIMEOUT" in line for line in lines),
            "tracebacks": sum(line.startswith("Traceback") for line in lines),
            "other_lines": sum("[INFO]" not in line for line in lines),
        }


def datasette_log_summary(path: Path) -> dict:
    """Datasette's log: uvicorn's start, stop and access lines are `INFO:`."""
    lines = path.read_text(errors="replace").splitlines()
    return {
        "log": str(path.relative_to(ROOT)),
        "tracebacks": sum(line.startswith("Traceback") for line in lines),
        "other_lines": sum(not line.startswith("INFO:") for line in lines),
    }


@contextmanager
def serving(env: dict, port: int, log: Path):
    server = Gunicorn(env, port, log)
    try:
        server.start()
        yield server
    finally:
        # The time limit or a TERM arriving now would cut the stop short;
        # held back, they act once gunicorn is gone.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGTERM})
        try:
            server.stopped_cleanly = server.stop()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


# --- Measuring ----------------------------------------------------------------------------------


def wrk(port: int, paths: Path, seconds: float, timeout: float) -> dict:
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        f"--timeout={timeout}s",
        "--latency",
        *[arg for name, value in HEADERS.items() for arg in ("-H", f"{name}: {value}")],
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(paths),
        str(THREADS),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 30)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode or not lines:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    raw = json.loads(lines[0].removeprefix("BENCH_JSON "))
    latency = raw["latency_us"]
    # When wrk stops, the workers still owe an answer to every connection's
    # last request, queued one behind another: a slow page's backlog would
    # land in the next run (a /healthz run right after it lost most of its
    # requests that way). Up to one maximum latency settles it.
    backlog = timeout if raw["errors"]["timeout"] else latency["max"] / 1e6
    time.sleep(min(backlog, timeout) + 0.1)
    return {
        "requests": raw["requests"],
        "seconds": round(raw["duration_us"] / 1e6, 2),
        "requests_per_second": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(latency["p50"] / 1000, 1),
        "p90_ms": round(latency["p90"] / 1000, 1),
        "p99_ms": round(latency["p99"] / 1000, 1),
        "max_ms": round(latency["max"] / 1000, 1),
        "errors": sum(raw["errors"].values()),
        "error_kinds": {kind: count for kind, count in raw["errors"].items() if count},
        "kb_per_request": round(raw["bytes"] / max(raw["requests"], 1) / 1024, 1),
    }


def combined(before: dict, after: dict) -> dict:
    requests = before["requests"] + after["requests"]
    seconds = before["seconds"] + after["seconds"]
    return {
        "requests": requests,
        "seconds": seconds,
        "requests_per_second": round(requests / seconds, 1),
        "errors": before["errors"] + after["errors"],
        "before": before,
        "after": after,
    }


def preflight(port: int, paths: list[str], count: int) -> dict:
    """Status codes of the first few URLs, one at a time: wrk counts a 3xx as a
    success, and a list of redirects or 404s would measure the wrong thing."""
    statuses = Counter(get(port, path)[0] for path in paths[:count])
    return {str(status): n for status, n in sorted(statuses.items())}


def measure(server: Gunicorn, files: dict, lists: dict, args, cached: bool) -> dict:
    port = server.port
    timeout = args.request_timeout
    wrk(port, files["healthz"], args.warmup, timeout)  # workers' imports, first connections
    rows = []
    for kind, label, target in PAGES:
        rows.append(
            solo_row(port, files, lists, args, kind, label, CACHED_TARGET if cached else target)
        )
        print(row_line(rows[-1]), flush=True)
    return {"page_cache": cached, "rows": rows, "workers": workers(server)}


def solo_row(port: int, files: dict, lists: dict, args, kind: str, label: str, goal) -> dict:
    """One page type between two /healthz runs, its rate as a share of /healthz's."""
    timeout = args.request_timeout
    half = math.ceil(args.duration / 2)
    statuses = preflight(port, lists[kind], args.preflight)
    warmed_s = warm_databases(args)
    # Templates and query plans the first time; with the cache on, the
    # cache filled, so what follows are repeat views.
    warmup = wrk(port, files[kind], args.warmup, timeout)
    rounds = []
    for _ in range(args.rounds):
        # /healthz for half the time just before the page and half just
        # after: a steady drift in the machine's other load cancels out.
        before = wrk(port, files["healthz"], half, timeout)
        page = wrk(port, files[kind], args.duration, timeout)
        after = wrk(port, files["healthz"], half, timeout)
        ceiling = combined(before, after)
        ratio = page["requests_per_second"] / ceiling["requests_per_second"]
        rounds.append({"page": page, "healthz": ceiling, "ratio": ratio})
    middle = median_round(rounds)
    page, ceiling, ratio = middle["page"], middle["healthz"], middle["ratio"]
    return {
        "page": kind,
        "label": label,
        "urls": len(set(lists[kind])),
        "preflight_statuses": statuses,
        "warmup_errors": warmup["errors"],
        "databases_read_s": warmed_s,
        "healthz": ceiling,
        **page,
        "ratio": round(ratio, 3),
        "rounds": [round(each["ratio"], 3) for each in rounds],
        "round_errors": sum(each["page"]["errors"] + each["healthz"]["errors"] for each in rounds),
        "target": goal,
        "met": None if goal is None else ratio >= goal,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def median_round(rounds: list[dict]) -> dict:
    """The round whose ratio is the median (of an even number, the lower of the
    middle two): a real run's figures, not an average of several."""
    return sorted(rounds, key=lambda each: each["ratio"])[(len(rounds) - 1) // 2]


def spread(measured: dict) -> str:
    """' (lowest–highest of N rounds)' after a median ratio; nothing for one round."""
    rounds = measured.get("rounds", [])
    if len(rounds) < 2:
        return ""
    return f" ({min(rounds):.2f}–{max(rounds):.2f}, {len(rounds)} rounds)"


def workers(server: Gunicorn) -> list[dict]:
    return [
        {"pid": worker["pid"], "rss_mb": worker.get("VmRSS"), "peak_rss_mb": worker.get("VmHWM")}
        for worker in server.memory()
    ]


# The JSON list whose answers tell whether a pair's queries find anything:
# (portal's, Datasette's, where the rows are in each).
HITS = {
    "phone": ("api_phone", "agencies", "peer_api_phone", "rows"),
    "api_phone": ("api_phone", "agencies", "peer_api_phone", "rows"),
    "search": ("api_search_names", "results", "peer_api_search", "rows"),
    "api_search_names": ("api_search_names", "results", "peer_api_search", "rows"),
}


def hit_share(port: int, paths: list[str], count: int, field: str) -> float:
    """The share of the first `count` JSON answers with at least one row under `field`."""
    found = 0
    for path in paths[:count]:
        status, body = get_json(port, path)
        found += status == 200 and isinstance(body, dict) and bool(body.get(field))
    return round(found / max(min(count, len(paths)), 1), 3)


# --- Warm caches ---------------------------------------------------------------------------------
# This machine gives the page cache back to its host within minutes (18 of
# 24 GiB free with both databases on disk): a workload that follows another
# started with its database's pages gone, and the one that read many pages
# (the name search: 989 queries, its grams spread over a 2.7 GB file) ran at
# a third of its rate with the disk in the path. The 3 s warm-up cannot fetch
# that much; reading each side's database once before each workload can, and
# gives both sides the same start, as on a server whose data is in memory.


def warm_databases(args, peer_database: Path | None = None) -> float:
    """Read the portal's database (and the peer's file) into the OS page cache; seconds taken."""
    started = time.perf_counter()
    files = [peer_database] if peer_database else []
    if args.db == "sqlite":
        path = OUT / f"{args.db_name}.sqlite3"
        files += [path, Path(f"{path}-wal")]
    else:
        import psycopg

        # pg_prewarm (PostgreSQL's contrib) reads every table and index of the
        # database through the OS, as a query touching them all would.
        with psycopg.connect(f"{PG_SERVER}/{args.db_name}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            conn.execute(
                "SELECT pg_prewarm(c.oid, 'read') FROM pg_class c "
                "WHERE c.relkind IN ('r', 'i', 't') "
                "AND c.relnamespace = 'public'::regnamespace"
            )
    for path in files:
        if path.exists():
            with path.open("rb") as read:
                while read.read(1 << 24):
                    pass
    return round(time.perf_counter() - started, 1)


def measure_peer(server: Gunicorn, datasette, files: dict, lists: dict, args) -> dict:
    """--peer: each PAIRS workload on the portal, then at once on Datasette, with the
    same wrk settings over the same samples, between two /healthz runs; then the
    pages Datasette has no counterpart for, as a share of /healthz."""
    port, other = server.port, datasette.port
    timeout = args.request_timeout
    half = math.ceil(args.duration / 2)
    wrk(port, files["healthz"], args.warmup, timeout)
    pairs = []
    for kind, peer_kind, label, peer_label, target in PAIRS:
        if args.only and kind not in args.only:
            continue
        statuses = preflight(port, lists[kind], args.preflight)
        peer_statuses = preflight(other, lists[peer_kind], args.preflight)
        hits = {}
        if kind in HITS:
            mine, mine_field, theirs, theirs_field = HITS[kind]
            hits = {
                "portal": hit_share(port, lists[mine], args.preflight, mine_field),
                "peer": hit_share(other, lists[theirs], args.preflight, theirs_field),
            }
        warmed_s = warm_databases(args, peer.database_path(args.agencies))
        warmups = (
            wrk(port, files[kind], args.warmup, timeout)["errors"],
            wrk(other, files[peer_kind], args.warmup, timeout)["errors"],
        )
        rounds = []
        for _ in range(args.rounds):
            before = wrk(port, files["healthz"], half, timeout)
            portal = wrk(port, files[kind], args.duration, timeout)
            theirs_run = wrk(other, files[peer_kind], args.duration, timeout)
            after = wrk(port, files["healthz"], half, timeout)
            ceiling = combined(before, after)
            ratio = portal["requests_per_second"] / max(theirs_run["requests_per_second"], 0.1)
            rounds.append(
                {"portal": portal, "peer": theirs_run, "healthz": ceiling, "ratio": ratio}
            )
        middle = median_round(rounds)
        portal, theirs_run, ceiling = middle["portal"], middle["peer"], middle["healthz"]
        ratio = middle["ratio"]
        pairs.append(
            {
                "page": kind,
                "label": label,
                "peer_label": peer_label,
                "urls": len(set(lists[kind])),
                "peer_urls": len(set(lists[peer_kind])),
                "portal": {**portal, "preflight_statuses": statuses},
                "peer": {**theirs_run, "preflight_statuses": peer_statuses},
                "preflight_hit_share": hits,
                "warmup_errors": {"portal": warmups[0], "peer": warmups[1]},
                "databases_read_s": warmed_s,
                "healthz": ceiling,
                "portal_share_of_healthz": round(
                    portal["requests_per_second"] / ceiling["requests_per_second"], 3
                ),
                "peer_share_of_healthz": round(
                    theirs_run["requests_per_second"] / ceiling["requests_per_second"], 3
                ),
                "ratio": round(ratio, 3),
                "rounds": [round(each["ratio"], 3) for each in rounds],
                "round_errors": sum(
                    each[side]["errors"]
                    for each in rounds
                    for side in ("portal", "peer", "healthz")
                ),
                "target": target,
                "met": ratio >= target,
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
        print(pair_line(pairs[-1]), flush=True)
    labels = {kind: label for kind, label, _ in PAGES}
    rows = []
    for kind in PEER_SOLO:
        if args.only and kind not in args.only:
            continue
        rows.append(solo_row(port, files, lists, args, kind, labels[kind], PEER_SOLO_TARGET))
        print(row_line(rows[-1]), flush=True)
    return {
        "page_cache": False,
        "pairs": pairs,
        "rows": rows,
        "workers": workers(server),
        # One process (uvicorn; SQL in its thread pool): its memory at the end.
        "peer_memory_mb": _status_mb(datasette.process.pid),
    }


# --- Reporting ----------------------------------------------------------------------------------


def row_line(row: dict) -> str:
    return (
        f"  {row['page']:<16} {row['requests_per_second']:>8,.1f} req/s "
        f"(healthz {row['healthz']['requests_per_second']:,.1f}) ratio {row['ratio']:.3f}"
        f"{spread(row)} "
        f"p50 {row['p50_ms']} ms p99 {row['p99_ms']} ms errors {row['errors']}"
    )


def pair_line(pair: dict) -> str:
    mine, theirs = pair["portal"], pair["peer"]
    return (
        f"  {pair['page']:<16} portal {mine['requests_per_second']:>8,.1f} req/s "
        f"datasette {theirs['requests_per_second']:>8,.1f} req/s ratio {pair['ratio']:.2f}"
        f"{spread(pair)} (healthz {pair['healthz']['requests_per_second']:,.1f}) "
        f"p50 {mine['p50_ms']}/{theirs['p50_ms']} ms p99 {mine['p99_ms']}/{theirs['p99_ms']} ms "
        f"errors {mine['errors']}/{theirs['errors']}"
    )


def verdict(value: float, target: float | None, at_most: bool = False) -> str:
    if target is None:
        return "—"
    met = value <= target if at_most else value >= target
    sign = "≤" if at_most else "≥"
    return f"{sign} {target:g} {'met' if met else 'missed'}"


def markdown(result: dict) -> str:
    config = result["config"]
    rounds = config.get("rounds", 1)
    lines = [
        f"gunicorn: {config['workers']} workers; wrk: {config['connections']} connections, "
        f"{config['threads']} threads, {config['duration_s']} s per run"
        f"{f', median of {rounds} rounds' if rounds > 1 else ''}; "
        f"{result['cpus']} CPUs, load average at start {result['loadavg_at_start'][0]}.",
    ]
    if settings := result.get("server_settings"):
        lines.append(
            "PostgreSQL: " + ", ".join(f"{name} {value}" for name, value in settings.items()) + "."
        )
    if "peer" in result:
        lines += peer_markdown(result)
    for name, run in result["runs"].items():
        cache = "on, repeat views" if run["page_cache"] else "off"
        lines += [
            "",
            f"### {result['db']}, {result['agencies']:,} agencies, page cache {cache}",
            "",
            "| Page | URLs | req/s | p50 ms | p99 ms | errors | /healthz req/s | ratio | target |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in run["rows"]:
            errors = row["errors"] + row["healthz"]["errors"]
            lines.append(
                f"| {row['label']} | {row['urls']:,} | {row['requests_per_second']:,.1f} "
                f"| {row['p50_ms']} | {row['p99_ms']} | {errors} "
                f"| {row['healthz']['requests_per_second']:,.1f} | {row['ratio']:.2f}{spread(row)} "
                f"| {verdict(row['ratio'], row['target'])} |"
            )
        unexpected = {
            row["page"]: row["preflight_statuses"]
            for row in run["rows"]
            if set(row["preflight_statuses"]) != {"200"}
        }
        if unexpected:
            lines += ["", f"Not 200 before the run ({name}): {unexpected}"]
    mix_weights = ", ".join(f"{kind} {share} %" for kind, share in MIX.items())
    if any(kind == "mix" for run in result["runs"].values() for kind in run_pages(run)):
        lines += ["", f"Mix: {mix_weights}."]
    lines += [
        "",
        f"| Worker memory (MB) | RSS at end | peak RSS (VmHWM) | target ≤ {WORKER_MB_TARGET} MB |",
        "|---|---|---|---|",
    ]
    for name, run in result["runs"].items():
        for i, worker in enumerate(run["workers"], 1):
            lines.append(
                f"| {name}, worker {i} | {worker['rss_mb']} | {worker['peak_rss_mb']} "
                f"| {verdict(worker['peak_rss_mb'] or 0, WORKER_MB_TARGET, at_most=True)} |"
            )
    summary = result["summary"]
    lines += [
        "",
        f"Errors in all wrk runs, /healthz included: {summary['errors']} "
        f"({'met' if summary['errors'] == 0 else 'missed'}: 0 everywhere). "
        f"Targets met: {summary['targets_met']} of {summary['targets']}.",
    ]
    if "peer" in result:
        log = result["peer"]["log"]
        lines.append(
            f"Datasette: {log['tracebacks']} tracebacks, {log['other_lines']} lines other than "
            f"uvicorn's INFO ({log['log']}); stopped cleanly: {log['stopped_cleanly']}."
        )
    for name, log in summary["server_logs"].items():
        lines.append(
            f"gunicorn, {name}: {log['worker_boots']} worker boots, "
            f"{log['worker_timeouts']} worker timeouts, {log['tracebacks']} tracebacks, "
            f"{log['other_lines']} lines other than [INFO] ({log['log']}); "
            f"stopped cleanly: {log['stopped_cleanly']}."
        )
    return "\n".join(lines)


def run_pages(run: dict) -> list[str]:
    return [row["page"] for row in run["rows"]]


def peer_markdown(result: dict) -> list[str]:
    peer_info = result["peer"]
    lines = [
        "",
        f"### Against Datasette {peer_info['versions']['datasette']}: {result['db']} portal, "
        f"{result['agencies']:,} agencies, page cache off",
        "",
        f"Datasette serves `{peer_info['database']}` (SQLite {peer_info['versions']['sqlite']}, "
        "immutable) on its own port; each portal run is followed at once by its Datasette "
        "counterpart with the same wrk settings over the same samples, both between two "
        "/healthz runs of the portal's.",
        "",
        "| Portal | Datasette | URLs | portal req/s | p50 / p99 ms | errors "
        "| Datasette req/s | p50 / p99 ms | errors | ratio portal ÷ Datasette | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    hits = []
    unexpected = {}
    for pair in result["runs"]["cache_off"]["pairs"]:
        mine, theirs = pair["portal"], pair["peer"]
        lines.append(
            f"| {pair['label']} | {pair['peer_label']} | {pair['urls']:,} "
            f"| {mine['requests_per_second']:,.1f} | {mine['p50_ms']} / {mine['p99_ms']} "
            f"| {mine['errors']} | {theirs['requests_per_second']:,.1f} "
            f"| {theirs['p50_ms']} / {theirs['p99_ms']} | {theirs['errors']} "
            f"| {pair['ratio']:.2f}{spread(pair)} | {verdict(pair['ratio'], pair['target'])} |"
        )
        if pair["preflight_hit_share"]:
            share = pair["preflight_hit_share"]
            hits.append(
                f"{pair['page']} portal {share['portal']:.0%}, Datasette {share['peer']:.0%}"
            )
        for side in ("portal", "peer"):
            if set(pair[side]["preflight_statuses"]) != {"200"}:
                unexpected[f"{pair['page']} ({side})"] = pair[side]["preflight_statuses"]
    lines += [
        "",
        "Share of the sampled lookups that found at least one row (checked before the runs): "
        + "; ".join(hits)
        + ".",
    ]
    memory = result["runs"]["cache_off"]["peer_memory_mb"]
    lines += [
        "",
        f"Datasette is one process: {memory.get('VmRSS')} MB resident at the end, "
        f"peak {memory.get('VmHWM')} MB.",
    ]
    if unexpected:
        lines += ["", f"Not 200 before the run: {unexpected}"]
    return lines


def summarize(result: dict) -> dict:
    rows = [row for run in result["runs"].values() for row in run["rows"]]
    pairs = [pair for run in result["runs"].values() for pair in run.get("pairs", [])]
    workers = [worker for run in result["runs"].values() for worker in run["workers"]]
    checks = [row["met"] for row in rows if row["met"] is not None]
    checks += [pair["met"] for pair in pairs]
    checks += [(worker["peak_rss_mb"] or 0) <= WORKER_MB_TARGET for worker in workers]
    # Every round's errors, not only the reported round's.
    errors = sum(row.get("round_errors", row["errors"] + row["healthz"]["errors"]) for row in rows)
    errors += sum(
        pair.get(
            "round_errors",
            pair["portal"]["errors"] + pair["peer"]["errors"] + pair["healthz"]["errors"],
        )
        for pair in pairs
    )
    checks.append(errors == 0)
    return {"errors": errors, "targets": len(checks), "targets_met": sum(checks)}


# --- Main ---------------------------------------------------------------------------------------


def _stop(signum, frame):
    raise SystemExit(f"stopped by {signal.Signals(signum).name}")


def _time_limit(signum, frame):
    raise TimeoutError("--time-limit reached")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--db-name",
        default=DB_NAME,
        help=f"the portal's database: bench/out/<name>.sqlite3 or that PostgreSQL database "
        f"(default {DB_NAME}); emptied unless --reuse",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database, skip import")
    parser.add_argument(
        "--cache",
        choices=("off", "on", "both"),
        default=None,
        help="default: both; off with --peer",
    )
    parser.add_argument(
        "--peer",
        action="store_true",
        help="each workload against Datasette serving the same directory (bench/peer.py)",
    )
    parser.add_argument("--peer-port", type=int, default=8767)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds per page type")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measured runs per page type (or pair), back to back; the median is reported",
    )
    parser.add_argument("--urls", type=int, default=1000, help="URLs per page type")
    parser.add_argument("--repeat-urls", type=int, default=30, help="URLs per page type, cache on")
    parser.add_argument("--preflight", type=int, default=20, help="URLs checked one by one")
    parser.add_argument(
        "--request-timeout", type=int, default=10, help="seconds; slower answers are errors"
    )
    parser.add_argument(
        "--max-requests", type=int, default=0, help="GUNICORN_MAX_REQUESTS (0: never recycle)"
    )
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(),
        help="with --peer: these workloads alone, e.g. api_phone,phone (to try a change; "
        "the report's figures come from a run of all of them)",
    )
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--time-limit", type=int, default=2700, help="seconds for everything")
    args = parser.parse_args(argv)
    if args.cache is None:
        args.cache = "off" if args.peer else "both"
    elif args.peer and args.cache != "off":
        parser.error("--peer compares pages rendered on every request: --cache off")
    if args.port == args.peer_port:
        parser.error("--port and --peer-port must differ")
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGALRM, _time_limit)
    signal.alarm(args.time_limit)
    # The benchmark's own settings, whatever a local .env says: a throwaway
    # secret key, and the per-process cache (a shared Redis would hand pages
    # from another run's database to this one: the keys are the same).
    os.environ["DJANGO_ENV_FILE"] = ""
    os.environ["DJANGO_SECRET_KEY"] = "bench-http-" + secrets.token_urlsafe(24)
    os.environ.pop("REDIS_URL", None)

    result = {
        "db": args.db,
        "db_name": args.db_name,
        "agencies": args.agencies,
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "config": {
            "workers": WORKERS,
            "connections": CONNECTIONS,
            "threads": THREADS,
            "duration_s": args.duration,
            "rounds": args.rounds,
            "warmup_s": args.warmup,
            "request_timeout_s": args.request_timeout,
            "headers": HEADERS,
            "max_requests": args.max_requests,
            "mix_percent": MIX,
        },
    }
    setup_database(args.db, args.agencies, args.reuse, args.db_name)
    if args.db == "postgres":
        result["server_settings"] = server_settings()
    if not args.reuse:
        print(f"importing {args.agencies:,} agencies into {args.db} …", flush=True)
        result["import"] = run_import(args.agencies)
        load_articles()
        print(json.dumps(result["import"]), flush=True)
    collect_static()
    if args.peer:
        # Before any server starts: the venv and the database may take minutes.
        peer.ensure_venv()
        peer.build(args.agencies)
    lists = url_lists(args.agencies, args.urls, with_peer=args.peer)
    folder = OUT / f"http-urls-{args.agencies}"
    runs = []
    if args.cache in ("off", "both"):
        runs.append(("cache_off", False, lists, write_lists(lists, folder)))
    if args.cache in ("on", "both"):
        repeat = repeat_lists(lists, args.repeat_urls)
        runs.append(("cache_on", True, repeat, write_lists(repeat, folder, "-repeat")))

    result["runs"] = {}
    logs = {}
    # Output files: http-<db>-<N>[-<db name>]…, so that runs on two databases coexist.
    tag = f"{args.db}-{args.agencies}" + ("" if args.db_name == DB_NAME else f"-{args.db_name}")
    for name, cached, paths, files in runs:
        print(f"{name}: gunicorn on 127.0.0.1:{args.port}, {args.duration} s per run", flush=True)
        env = server_environment(args.port, cached, args.max_requests)
        log = OUT / f"http-{tag}-{name}.log"
        if args.peer:
            peer_log = OUT / f"http-{tag}-datasette.log"
            print(f"datasette on 127.0.0.1:{args.peer_port}", flush=True)
            with (
                serving(env, args.port, log) as server,
                peer.serving(args.agencies, args.peer_port, peer_log) as datasette,
            ):
                result["peer"] = {
                    "database": datasette.database,
                    "versions": datasette.version(),
                    "settings": peer.SETTINGS,
                    "port": args.peer_port,
                }
                result["runs"][name] = measure_peer(server, datasette, files, paths, args)
            result["peer"]["log"] = {
                **datasette_log_summary(peer_log),
                "stopped_cleanly": datasette.stopped_cleanly,
            }
        else:
            with serving(env, args.port, log) as server:
                result["runs"][name] = measure(server, files, paths, args, cached)
        logs[name] = {**server.log_summary(), "stopped_cleanly": server.stopped_cleanly}
    signal.alarm(0)

    result["summary"] = {**summarize(result), "server_logs": logs}
    suffix = "-peer" if args.peer else ""
    out = OUT / f"http-{tag}{suffix}.json"
    result["markdown"] = markdown(result)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(result["markdown"])
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
