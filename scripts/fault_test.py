#!/usr/bin/env python
"""Faults under load, on the whole topology (scripts/cluster.sh), with targets.

    make fault-test          # the full run; writes the table to docs/reliability.md
    make fault-test-short    # a few seconds a step (CI); writes bench/out/ only

Starts the cluster (nginx, two gunicorn instances, a PostgreSQL primary and its
streaming replica, Redis; a generated directory imported), puts a steady load
on https://127.0.0.1:<port>/ with wrk (scripts/fault_test.lua: a mix of number,
agency, search, home, API, province pages and message checks, a fixed pause
between a connection's requests), and in turn:

1. kills one gunicorn instance outright (SIGKILL to its master and workers),
   then starts it again: no request may fail (nginx retries the other);
2. deploys: changes the code the instances run (a template), then `kill -HUP`
   to one instance and, once its workers all run the new code, the other: no
   request may fail and both must report the new release (portal.release);
3. stops Redis for 30 s: no request may fail, and the page cache must be in
   use again once it is back, by itself;
4. stops the replica for 30 s: no request may fail (reads go to the primary),
   and reads must be back on it within its lag limit once it returns;
5. restarts the primary: only 503s with Retry-After while it is down, no
   timeout or hang, and none later than 5 s after it is back;
6. soaks at the same steady rate: no error, workers' memory flat within 10 %,
   p99 stable.

For each step it records what the clients saw (wrk: requests, answers by
status, socket errors, p50/p99/max) and what the servers did (nginx's access
log: retries, which instance answered; PostgreSQL's and Redis's counters), and
asserts the targets. The table goes to bench/out/fault-<mode>.md and .json, and
with --report into that file between its fault-test markers. Exits 1 if any
target was missed. Everything is bounded: each wrk run, each wait, and the
whole run (--time-limit); the cluster is stopped however the run ends.
"""

import argparse
import json
import os
import platform
import re
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLUSTER = ROOT / "scripts" / "cluster.sh"
LUA = ROOT / "scripts" / "fault_test.lua"
OUT = ROOT / "bench" / "out"
BEGIN, END = "<!-- fault-test:begin -->", "<!-- fault-test:end -->"

# Percent of requests: mostly people looking up a number that called them, an
# agency's page or a name (bench/http_load.py's mix), plus message checks
# (POST, reading the primary): the part of the site a primary outage reaches.
MIX = {
    "phone": 28,
    "agency": 20,
    "search": 18,
    "home": 10,
    "api_search": 10,
    "province": 7,
    "province_status": 2,
    "check": 5,
}

# (name, fault, target) in the order they run.
STEPS = [
    ("kill", "kill -9 one gunicorn instance, then start it again", "0 failed requests"),
    (
        "deploy",
        "deploy: new code, `kill -HUP` each instance in turn",
        "0 failed; new release on both",
    ),
    ("redis", "stop Redis", "0 failed; the page cache back by itself"),
    ("replica", "stop the replica", "0 failed; reads back on the replica within its lag limit"),
    ("primary", "restart the primary", "only 503 + Retry-After; recovered ≤ 5 s after it is back"),
    ("soak", "steady load", "0 failed; worker memory within 10 %; p99 stable"),
    ("capacity", "none: as fast as it answers", "0 failed (the sizing figures)"),
]


def log(message: str) -> None:
    print(f"fault-test: [{time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", flush=True)


# --- The cluster --------------------------------------------------------------------------------


class Cluster:
    def __init__(self, env: dict):
        self.env = env
        self.dir = Path(env["CLUSTER_DIR"])
        self.https = int(env["CLUSTER_HTTPS_PORT"])
        self.apps = [int(port) for port in env["CLUSTER_APP_PORTS"].split()]
        self.pg_port = int(env["CLUSTER_PG_PORT"])
        self.replica_port = int(env["CLUSTER_REPLICA_PORT"])
        self.redis_port = int(env["CLUSTER_REDIS_PORT"])

    def run(self, *args: str, timeout: float = 120) -> None:
        subprocess.run([str(CLUSTER), *args], env=self.env, check=True, timeout=timeout)

    def settings(self) -> dict:
        text = (self.dir / "portal.env").read_text()
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def master(self, port: int) -> int:
        return int((self.dir / f"gunicorn-{port}.pid").read_text().split()[0])

    def workers(self, port: int) -> list[int]:
        from bench.http_load import _children

        return _children(self.master(port))

    def worker_rss_mb(self) -> list[float]:
        from bench.http_load import _status_mb

        return [
            _status_mb(pid).get("VmRSS", 0.0) for port in self.apps for pid in self.workers(port)
        ]

    @property
    def access_log(self) -> Path:
        return self.dir / "nginx" / "logs" / "portal-access.log"


_TLS = ssl.create_default_context()
_TLS.check_hostname = False
_TLS.verify_mode = ssl.CERT_NONE


def fetch(url: str, timeout: float = 5) -> tuple[int, bytes]:
    """(status, body); an instance's own port is asked as nginx would (https)."""
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=_TLS) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def readyz(port: int) -> dict:
    status, body = fetch(f"http://127.0.0.1:{port}/readyz")
    try:
        return {"http": status, **json.loads(body)}
    except ValueError:
        return {"http": status}


def wait_for(predicate, seconds: float, every: float = 0.2):
    """The first true value of predicate() within `seconds`, else None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with suppress(Exception):
            value = predicate()
            if value:
                return value
        time.sleep(every)
    return None


def pg_counter(port: int) -> int | None:
    """Transactions committed in the portal's database on the server at `port`."""
    import psycopg

    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="portal", connect_timeout=2
        ) as conn:
            # The counters are flushed to shared memory about once a second.
            row = conn.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = 'portal'"
            ).fetchone()
            return int(row[0])
    except psycopg.Error:
        return None


def commits_per_second(port: int, seconds: float = 2.0) -> float:
    first = pg_counter(port)
    time.sleep(seconds)
    second = pg_counter(port)
    if first is None or second is None:
        return 0.0
    return max(0, second - first) / seconds


def redis_keys(port: int) -> int:
    import redis

    return redis.Redis(port=port, socket_connect_timeout=1, socket_timeout=1).dbsize()


# --- The load -----------------------------------------------------------------------------------


def request_list(env: dict, agencies: int, count: int, path: Path) -> None:
    """One request a line: bench/http_load.py's concrete URLs, in MIX's shares,
    plus message checks with messages made from the same generated records."""
    import random

    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from bench.http_load import url_lists
    from bench.run import samples

    lists = url_lists(agencies, count)
    messages = samples(agencies, min(count, 200))["message"]
    lists["check"] = [urlencode({"text": text}) for text in messages]
    rng = random.Random(23)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    taken = dict.fromkeys(MIX, 0)
    lines = []
    for kind in kinds:
        item = lists[kind][taken[kind] % len(lists[kind])]
        taken[kind] += 1
        lines.append(f"POST /check/ {item}" if kind == "check" else f"GET {item}")
    path.write_text("\n".join(lines) + "\n")


class Load:
    """wrk running until stopped (SIGINT makes it report, as at its end)."""

    def __init__(self, url: str, requests: Path, args):
        self.url, self.requests, self.args = url, requests, args
        self.process = None

    def start(self) -> None:
        pause = max(0, round(self.args.connections * 1000 / self.args.rate))
        self.process = subprocess.Popen(
            [
                "wrk",
                "-t2",
                f"-c{self.args.connections}",
                "-d3600s",
                f"--timeout={self.args.request_timeout}s",
                "-H",
                "Accept-Encoding: gzip",
                "-s",
                str(LUA),
                self.url,
                "--",
                str(self.requests),
                "2",
                str(pause),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.started = time.time()

    def stop(self) -> dict:
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=self.args.request_timeout + 30)
        lines = [line for line in out.splitlines() if line.startswith("FAULT_JSON ")]
        if not lines:
            raise RuntimeError(f"wrk gave no report ({self.process.returncode}): {err or out}")
        raw = json.loads(lines[0].removeprefix("FAULT_JSON "))
        raw["seconds"] = round(raw["duration_us"] / 1e6, 1)
        return raw

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


_LINE = re.compile(
    r'^\S+ (?P<msec>[\d.]+) "(?P<method>\S+) (?P<path>\S*)" (?P<status>\d{3}) \d+ '
    r"(?P<seconds>[\d.]+)s up=(?P<addr>[^/]*)/(?P<ustatus>[^/]*)/(?P<utime>[^/]*) cache=\S+$"
)


def access_lines(path: Path, offset: int) -> list[dict]:
    with path.open("rb") as file:
        file.seek(offset)
        text = file.read().decode("utf-8", "replace")
    lines = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            row = match.groupdict()
            row["msec"], row["seconds"] = float(row["msec"]), float(row["seconds"])
            row["status"] = int(row["status"])
            lines.append(row)
    return lines


# --- A step -------------------------------------------------------------------------------------


class Step:
    def __init__(self, name: str, cluster: Cluster, load: Load):
        self.name, self.cluster, self.load = name, cluster, load
        self.notes: list[str] = []
        self.problems: list[str] = []
        self.recovery: float | None = None
        self.events: dict[str, float] = {}

    def mark(self, event: str) -> float:
        self.events[event] = now = time.time()
        log(f"{self.name}: {event}")
        return now

    def __enter__(self):
        self.offset = self.cluster.access_log.stat().st_size
        self.load.start()
        self.mark("load started")
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            self.load.kill()
            return False
        self.client = self.load.stop()
        self.server = access_lines(self.cluster.access_log, self.offset)
        return False

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def failed(self) -> int:
        errors = self.client["errors"]
        bad = sum(n for status, n in self.client["statuses"].items() if int(status) >= 400)
        return bad + errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]

    def expect_no_failure(self) -> None:
        self.expect(self.failed() == 0, f"{self.failed()} failed requests")

    def row(self) -> dict:
        client, errors = self.client, self.client["errors"]
        socket_errors = {k: v for k, v in errors.items() if k != "status" and v}
        retried = sum(1 for line in self.server if "," in line["addr"])
        return {
            "step": self.name,
            "requests": client["requests"],
            "seconds": client["seconds"],
            "requests_per_second": round(client["requests"] / max(client["seconds"], 0.1), 1),
            "statuses": dict(sorted(client["statuses"].items())),
            "socket_errors": socket_errors,
            "failed": self.failed(),
            "503_without_retry_after": client["503_without_retry_after"],
            "p50_ms": round(client["latency_us"]["p50"] / 1000, 1),
            "p99_ms": round(client["latency_us"]["p99"] / 1000, 1),
            "max_ms": round(client["latency_us"]["max"] / 1000, 1),
            "retried_by_nginx": retried,
            "recovery_s": None if self.recovery is None else round(self.recovery, 1),
            "notes": self.notes,
            "problems": self.problems,
            "passed": not self.problems,
        }


# --- The faults ---------------------------------------------------------------------------------


def step_kill(cluster: Cluster, load: Load, args) -> Step:
    victim = cluster.apps[0]
    with Step("kill", cluster, load) as step:
        time.sleep(args.before)
        master = cluster.master(victim)
        step.mark(f"SIGKILL to gunicorn {victim} (master {master} and its workers)")
        os.killpg(master, signal.SIGKILL)
        time.sleep(args.fault)
        restarted = step.mark(f"starting gunicorn {victim} again")
        cluster.run("up", f"app:{victim}")
        step.mark(f"gunicorn {victim} answers")
        # Back in nginx's rotation: it answers a request through nginx.
        served = wait_for(
            lambda: next(
                (
                    line["msec"]
                    for line in access_lines(cluster.access_log, step.offset)
                    if line["msec"] > restarted and line["addr"].endswith(f":{victim}")
                ),
                None,
            ),
            30,
            every=0.5,
        )
        step.expect(served is not None, f"gunicorn {victim} got no traffic back within 30 s")
        if served:
            step.recovery = served - restarted
            step.notes.append(
                f"instance serving again {step.recovery:.1f} s after its restart began"
            )
        time.sleep(args.after)
    step.expect_no_failure()
    down = [
        line
        for line in step.server
        if step.events["load started"] < line["msec"] < restarted and "," in line["addr"]
    ]
    step.notes.append(f"{len(down)} requests retried on the other instance while it was down")
    return step


def change_code(cluster: Cluster, stamp: str) -> None:
    """A deploy's change: a comment in every page (templates/base.html)."""
    base = cluster.dir / "app" / "templates" / "base.html"
    text = base.read_text()
    marker = f"<!-- release check {stamp} -->"
    base.write_text(text.replace("</body>", f"{marker}\n</body>", 1))


def release_of(port: int) -> str | None:
    return readyz(port).get("release")


def step_deploy(cluster: Cluster, load: Load, args) -> Step:
    with Step("deploy", cluster, load) as step:
        time.sleep(args.before)
        old = {port: release_of(port) for port in cluster.apps}
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        change_code(cluster, stamp)
        started = step.mark("code changed")
        for port in cluster.apps:
            before = set(cluster.workers(port))
            os.kill(cluster.master(port), signal.SIGHUP)
            step.mark(f"HUP to gunicorn {port}")
            # Done when every worker is a new one and answers with the new code.
            done = wait_for(
                lambda port=port, before=before: (
                    len(now := cluster.workers(port)) == args.workers
                    and not before & set(now)
                    and release_of(port) not in (None, old[port])
                ),
                90,
                every=0.5,
            )
            step.expect(bool(done), f"gunicorn {port} did not come up on the new code in 90 s")
            step.mark(f"gunicorn {port} runs the new code")
        step.recovery = time.time() - started
        time.sleep(args.after)
    step.expect_no_failure()
    new = {port: release_of(port) for port in cluster.apps}
    step.expect(
        len(set(new.values())) == 1 and not set(new.values()) & set(old.values()),
        f"releases before {old}, after {new}",
    )
    pages = [fetch(f"https://127.0.0.1:{cluster.https}/")[1] for _ in range(4)]
    step.expect(
        all(stamp.encode() in page for page in pages), "a page through nginx lacks the new code"
    )
    step.notes.append(
        f"release {next(iter(old.values()))} → {next(iter(new.values()))} on both instances "
        f"in {step.recovery:.1f} s; pages through nginx show the change"
    )
    return step


def step_redis(cluster: Cluster, load: Load, args) -> Step:
    with Step("redis", cluster, load) as step:
        time.sleep(args.before)
        step.mark("stopping Redis")
        cluster.run("down", "redis")
        time.sleep(min(args.outage, 2))
        during = readyz(cluster.apps[0])
        time.sleep(max(0, args.outage - 2))
        back = step.mark("starting Redis")
        cluster.run("up", "redis")
        # Reconnected by itself: pages are written to the cache again.
        filled = wait_for(lambda: redis_keys(cluster.redis_port) > 0 and time.time(), 30)
        step.expect(bool(filled), "nothing was written to Redis within 30 s of its return")
        if filled:
            step.recovery = filled - back
        time.sleep(args.after)
    step.expect_no_failure()
    step.notes.append(
        f"/readyz during the outage: {during.get('http')} {during.get('checks', {}).get('cache')}"
    )
    step.notes.append(f"Redis stopped for {args.outage:g} s")
    return step


def step_replica(cluster: Cluster, load: Load, args) -> Step:
    limit = float(cluster.settings().get("PORTAL_REPLICA_MAX_LAG", "30"))
    with Step("replica", cluster, load) as step:
        time.sleep(args.before)
        on_replica_before = commits_per_second(cluster.replica_port)
        step.mark("stopping the replica")
        cluster.run("down", "replica")
        on_primary = commits_per_second(cluster.pg_port, min(2.0, args.outage / 2))
        time.sleep(max(0, args.outage - min(2.0, args.outage / 2)))
        back = step.mark("starting the replica")
        cluster.run("up", "replica")

        def serving() -> bool:
            checks = readyz(cluster.apps[0]).get("checks", {})
            return (
                checks.get("replication:replica1") == "ok"
                and commits_per_second(cluster.replica_port, 1.0) > 1
            )

        ok = wait_for(serving, limit)
        step.expect(bool(ok), f"reads not back on the replica within its lag limit ({limit:g} s)")
        if ok:
            step.recovery = time.time() - back
        time.sleep(args.after)
    step.expect_no_failure()
    step.notes.append(
        f"replica stopped for {args.outage:g} s; commits/s on the replica before "
        f"{on_replica_before:.0f}, on the primary during {on_primary:.0f}"
    )
    return step


def step_primary(cluster: Cluster, load: Load, args) -> Step:
    with Step("primary", cluster, load) as step:
        time.sleep(args.before)
        down = step.mark("stopping the primary")
        cluster.run("down", "primary")
        time.sleep(args.primary_down)
        step.mark("starting the primary")
        cluster.run("up", "primary")
        back = step.mark("the primary answers")
        time.sleep(args.after + 5)
    bad = {status: n for status, n in step.client["statuses"].items() if int(status) >= 400}
    step.expect(set(bad) <= {"503"}, f"answers other than 503: {bad}")
    step.expect(
        step.client["503_without_retry_after"] == 0,
        f"{step.client['503_without_retry_after']} 503s without Retry-After",
    )
    errors = step.client["errors"]
    sockets = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    step.expect(sockets == 0, f"{sockets} socket errors or timeouts")
    last = max((line["msec"] for line in step.server if line["status"] >= 500), default=None)
    if last is not None:
        step.recovery = max(0.0, last - back)
        step.expect(
            step.recovery <= 5, f"503s until {step.recovery:.1f} s after the primary was back"
        )
    else:
        step.recovery = 0.0
    step.notes.append(
        f"primary down {back - down:.1f} s (fast shutdown, start); "
        f"503s: {bad.get('503', 0)}; pages kept reading the replica"
    )
    return step


def step_soak(cluster: Cluster, load: Load, args) -> Step:
    samples = []
    with Step("soak", cluster, load) as step:
        # Warm: the first views of each page fill the caches; then measure.
        time.sleep(min(60, args.soak / 5))
        deadline = time.monotonic() + args.soak
        while time.monotonic() < deadline:
            rss = cluster.worker_rss_mb()
            samples.append({"t": time.time(), "mean_mb": statistics.mean(rss), "workers": len(rss)})
            time.sleep(min(15, max(1, args.soak / 20)))
    step.expect_no_failure()
    third = max(1, len(samples) // 3)
    first = statistics.mean(s["mean_mb"] for s in samples[:third])
    last = statistics.mean(s["mean_mb"] for s in samples[-third:])
    growth = (last - first) / first
    step.expect(
        abs(growth) <= 0.10, f"worker memory moved {growth:+.0%} ({first:.0f} → {last:.0f} MB)"
    )
    # p99 per window of the soak, from nginx's request times.
    start = step.events["load started"] + min(60, args.soak / 5)
    windows = max(3, min(20, int(args.soak // 60)))
    width = (step.server[-1]["msec"] - start) / windows if step.server else 1
    p99s = []
    for n in range(windows):
        times = sorted(
            line["seconds"]
            for line in step.server
            if start + n * width <= line["msec"] < start + (n + 1) * width
        )
        if times:
            p99s.append(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000)
    if p99s:
        median = statistics.median(p99s)
        first_third = statistics.mean(p99s[: max(1, len(p99s) // 3)])
        last_third = statistics.mean(p99s[-max(1, len(p99s) // 3) :])
        # Stable: the end no worse than twice the start, with 50 ms of slack
        # for a machine that other work shares.
        step.expect(
            last_third <= 2 * first_third + 50,
            f"p99 grew from {first_third:.0f} ms to {last_third:.0f} ms",
        )
        step.notes.append(
            f"p99 per {width / 60:.1f}-min window: min {min(p99s):.0f}, median {median:.0f}, "
            f"max {max(p99s):.0f} ms"
        )
    step.notes.append(
        f"mean worker RSS {first:.0f} → {last:.0f} MB ({growth:+.1%}) over {args.soak / 60:g} min; "
        f"workers are recycled every ~5,000 requests (GUNICORN_MAX_REQUESTS)"
    )
    step.memory = samples
    return step


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """CPU time of `pid`; with `reaped`, also of its children that ended (a
    recycled gunicorn worker, a closed connection's backend)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime + cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu(pids: list[int]) -> float:
    """A part's CPU time: its root with the children it reaped, and the live ones."""
    if not pids:
        return 0.0
    return cpu_seconds(pids[0], reaped=True) + sum(cpu_seconds(pid) for pid in pids[1:])


def parts(cluster: Cluster, load: Load) -> dict[str, list[int]]:
    """The processes of each part of the topology, by the pid files it keeps."""
    from bench.http_load import _children

    def tree(pid: int | None) -> list[int]:
        return [] if pid is None else [pid, *_children(pid)]

    def first_line(path: Path) -> int | None:
        with suppress(OSError, ValueError):
            return int(path.read_text().split()[0])
        return None

    pg = cluster.dir / "pg"
    return {
        "nginx": tree(first_line(cluster.dir / "nginx" / "nginx.pid")),
        **{f"gunicorn {port}": tree(cluster.master(port)) for port in cluster.apps},
        "PostgreSQL primary": tree(first_line(pg / "primary" / "postmaster.pid")),
        "PostgreSQL replica": tree(first_line(pg / "replica" / "data" / "postmaster.pid")),
        "Redis": tree(first_line(cluster.dir / "redis.pid")),
        "wrk": [load.process.pid] if load.process else [],
    }


def step_capacity(cluster: Cluster, load: Load, args) -> Step:
    """As fast as the cluster answers: first views (the page cache emptied),
    then the same requests again (repeat views, from the page cache). Where
    the CPU goes says which part saturates first."""
    import redis

    fast = argparse.Namespace(**{**vars(args), "rate": 1e9, "connections": 16})
    runs = []
    redis.Redis(port=cluster.redis_port).flushall()
    for label in ("first views (page cache empty)", "repeat views (page cache)"):
        load_fast = Load(load.url, load.requests, fast)
        with Step("capacity", cluster, load_fast) as step:
            time.sleep(0.5)
            used = {name: tree_cpu(pids) for name, pids in parts(cluster, load_fast).items()}
            started = time.time()
            time.sleep(args.capacity)
            after = parts(cluster, load_fast)
            wall = time.time() - started
            cores = {
                name: round((tree_cpu(pids) - used[name]) / wall, 2) for name, pids in after.items()
            }
            # Both instances as one line.
            cores = {
                "gunicorn": round(sum(v for k, v in cores.items() if k.startswith("gunicorn")), 2),
                **{k: v for k, v in cores.items() if not k.startswith("gunicorn")},
            }
        rate = step.client["requests"] / max(step.client["seconds"], 0.1)
        runs.append((label, step, rate, cores))
        step.expect_no_failure()
    step = runs[-1][1]
    for label, run, rate, cores in runs:
        share = ", ".join(f"{name} {value:.2f}" for name, value in cores.items())
        step.notes.append(
            f"{label}: {rate:.0f} req/s, p50 {run.client['latency_us']['p50'] / 1000:.0f} ms, "
            f"p99 {run.client['latency_us']['p99'] / 1000:.0f} ms; cores used: {share}"
        )
        step.problems += run.problems
    step.capacity = [
        {"run": label, "requests_per_second": round(rate, 1), "cores": cores, **run.row()}
        for label, run, rate, cores in runs
    ]
    return step


RUNNERS = {
    "kill": step_kill,
    "deploy": step_deploy,
    "redis": step_redis,
    "replica": step_replica,
    "primary": step_primary,
    "soak": step_soak,
    "capacity": step_capacity,
}


# --- The report ---------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = 0
    with suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) / 1024 / 1024
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {system}"


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"Run of {meta['date']} on {meta['machine']}: `{meta['command']}`; "
        f"{meta['mode']} ({meta['agencies']:,} agencies, load {meta['rate']} req/s asked over "
        f"{meta['connections']} connections, {meta['workers']} workers per instance, "
        f"microcache {'on' if meta['microcache'] else 'off'}). "
        f"{'Every target met.' if meta['passed'] else 'Targets missed: see the last column.'}",
        "",
        "| Fault | Target | Requests | req/s | Answers by status | Socket errors "
        "| p50 / p99 / max ms | Retried by nginx | Recovery | Result |",
        "| --- | --- | ---: | ---: | --- | --- | --- | ---: | ---: | --- |",
    ]
    targets = {name: (fault, target) for name, fault, target in STEPS}
    for row in rows:
        fault, target = targets[row["step"]]
        statuses = ", ".join(f"{s}: {n:,}" for s, n in row["statuses"].items())
        sockets = ", ".join(f"{k}: {v}" for k, v in row["socket_errors"].items()) or "0"
        recovery = "—" if row["recovery_s"] is None else f"{row['recovery_s']} s"
        result = "pass" if row["passed"] else "**FAIL**: " + "; ".join(row["problems"])
        lines.append(
            f"| {fault} | {target} | {row['requests']:,} | {row['requests_per_second']} | "
            f"{statuses} | {sockets} | {row['p50_ms']} / {row['p99_ms']} / {row['max_ms']} | "
            f"{row['retried_by_nginx']} | {recovery} | {result} |"
        )
    lines += ["", "What each step saw:", ""]
    for row in rows:
        lines.append(f"- **{row['step']}**: " + "; ".join(row["notes"]) + ".")
    return "\n".join(lines) + "\n"


def write_report(path: Path, table: str) -> None:
    text = path.read_text() if path.exists() else f"{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path} lacks the markers {BEGIN} … {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{table}{END}{tail}")


# --- Main ---------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="a few seconds a step (CI)")
    parser.add_argument("--steps", default=",".join(RUNNERS), help="which steps, in order")
    parser.add_argument("--rate", type=float, default=60, help="requests/s asked of wrk")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--agencies", type=int, default=20000)
    parser.add_argument("--soak-minutes", type=float, default=20)
    parser.add_argument("--outage", type=float, default=30, help="seconds Redis, replica are down")
    # gunicorn's worker timeout: a request answered within it was not lost.
    parser.add_argument("--request-timeout", type=float, default=30)
    parser.add_argument("--microcache", type=int, default=0, help="nginx microcache seconds")
    parser.add_argument("--report", type=Path, help="also write the table into this file")
    parser.add_argument("--time-limit", type=float, default=3600)
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument(
        "--keep-cluster", action="store_true", help="leave the cluster running at the end"
    )
    args = parser.parse_args(argv)
    if args.short:
        args.before, args.after, args.fault = 3, 3, 3
        args.outage = min(args.outage, 6)
        args.soak = 30
        args.primary_down = 1
        args.capacity = 5
        if args.time_limit == 3600:
            args.time_limit = 600
    else:
        args.before, args.after, args.fault = 10, 10, 10
        args.soak = args.soak_minutes * 60
        args.primary_down = 3
        args.capacity = 30
    return args


def cluster_env(args) -> dict:
    base = args.https_port
    return {
        **os.environ,
        "CLUSTER_HTTPS_PORT": str(base),
        "CLUSTER_HTTP_PORT": os.environ.get("CLUSTER_HTTP_PORT", str(base - 363)),
        "CLUSTER_APP_PORTS": os.environ.get("CLUSTER_APP_PORTS", "8101 8102"),
        "CLUSTER_PG_PORT": os.environ.get("CLUSTER_PG_PORT", "5442"),
        "CLUSTER_REPLICA_PORT": os.environ.get("CLUSTER_REPLICA_PORT", "5443"),
        "CLUSTER_REDIS_PORT": os.environ.get("CLUSTER_REDIS_PORT", "6390"),
        "CLUSTER_WORKERS": str(args.workers),
        "CLUSTER_AGENCIES": str(args.agencies),
        "CLUSTER_MICROCACHE": str(args.microcache),
        "CLUSTER_DIR": os.environ.get(
            "CLUSTER_DIR", f"{os.environ.get('TMPDIR', '/tmp')}/portal-cluster-{base}"
        ),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    for tool in ("wrk", "nginx"):
        if not subprocess.run(["which", tool], capture_output=True).returncode == 0:
            raise SystemExit(f"fault-test needs {tool}: apt-get install {tool}")
    env = cluster_env(args)
    cluster = Cluster(env)

    def stop_now(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop_now)
    signal.signal(signal.SIGALRM, lambda s, f: stop_now(s, f))
    signal.alarm(int(args.time_limit))
    OUT.mkdir(parents=True, exist_ok=True)
    mode = "short" if args.short else "full"
    rows, load = [], None
    started = time.time()
    try:
        log(f"starting the cluster ({env['CLUSTER_DIR']})")
        cluster.run("start", timeout=900)
        requests = OUT / "fault-requests.txt"
        request_list(cluster.settings(), args.agencies, 4000, requests)
        # Each request type answers before the load begins (wrk counts a 3xx as
        # a success, and a list of 404s would measure the wrong thing).
        for line in requests.read_text().splitlines()[:50]:
            method, path, *_ = line.split(" ")
            if method == "GET":
                status, _ = fetch(f"https://127.0.0.1:{cluster.https}{path}", timeout=30)
                if status != 200:
                    raise SystemExit(f"GET {path} answered {status} before any fault")
        load = Load(f"https://127.0.0.1:{cluster.https}", requests, args)
        for name in args.steps.split(","):
            step = RUNNERS[name](cluster, load, args)
            rows.append(step.row())
            if name == "soak":
                rows[-1]["memory_samples"] = step.memory
            if name == "capacity":
                rows[-1]["runs"] = step.capacity
            shown = ("requests", "statuses", "socket_errors", "p99_ms", "recovery_s", "problems")
            summary = json.dumps({key: rows[-1][key] for key in shown}, ensure_ascii=False)
            log(f"{name}: {'pass' if rows[-1]['passed'] else 'FAIL'} {summary}")
            # The next step starts from a settled cluster.
            time.sleep(2)
    finally:
        signal.alarm(0)
        if load:
            load.kill()
        if not args.keep_cluster:
            with suppress(Exception):
                cluster.run("stop", timeout=180)
    passed = bool(rows) and all(row["passed"] for row in rows)
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": " ".join(
            ["scripts/fault_test.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "mode": f"{mode} run, {round((time.time() - started) / 60)} min",
        "agencies": args.agencies,
        "rate": args.rate,
        "connections": args.connections,
        "workers": args.workers,
        "microcache": args.microcache,
        "passed": passed,
    }
    table = markdown(rows, meta)
    (OUT / f"fault-{mode}.md").write_text(table)
    (OUT / f"fault-{mode}.json").write_text(json.dumps({"meta": meta, "steps": rows}, indent=1))
    print(table)
    if args.report:
        write_report(args.report, table)
        log(f"table written to {args.report}")
    return 0 if passed else 1


if __name__ == "__main__":
    # Exit status 1 on a missed target; SystemExit's message otherwise.
    socket.setdefaulttimeout(30)
    sys.exit(main())
