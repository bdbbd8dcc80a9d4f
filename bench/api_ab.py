#!/usr/bin/env python
"""A/B: the hand-written JSON API of an earlier commit against the current one, in one process.

    python bench/api_ab.py --rev afc7f1e --requests 600

Run after `bench/run.py --agencies 20000 --db sqlite --api` (it reuses
bench/out/bench.sqlite3 and that run's inputs). The old agencies/api.py and
articles/api.py are read from git at --rev and loaded under other module
names with their old URL patterns; each endpoint is then requested through
Django's test Client alternately old, new, old, new…, so that other load on
a shared machine hits both alike. Prints p50/p95 of this thread's CPU time
and of wall time per request. Only for commits that still had those modules
(the hand-written API, before the django-ninja layer).
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = ROOT / "bench" / "out" / "bench.sqlite3"


def load_old(rev: str, workdir: Path) -> types.ModuleType:
    """The old API modules and a URLconf module serving them at /api/v1/."""
    from django.urls import include, path

    def module(name: str, source: str, package: str):
        file = workdir / source.replace("/", "_")
        file.write_bytes(subprocess.check_output(["git", "show", f"{rev}:{source}"], cwd=ROOT))
        spec = importlib.util.spec_from_file_location(name, file)
        loaded = importlib.util.module_from_spec(spec)
        loaded.__package__ = package  # their relative imports resolve to today's app
        sys.modules[name] = loaded
        spec.loader.exec_module(loaded)
        return loaded

    agencies = module("agencies.api_before", "agencies/api.py", "agencies")
    articles = module("articles.api_before", "articles/api.py", "articles")
    import portal.urls

    urls = types.ModuleType("api_before_urls")
    articles_patterns = [
        path("articles", articles.article_list, name="list"),
        path("articles/<str:slug>", articles.article_detail, name="detail"),
    ]
    agency_patterns = [
        path("search", agencies.search),
        path("agencies", agencies.agency_list),
        path("agencies/<str:uscc>", agencies.agency_detail),
        path("phones/<str:key>", agencies.phone_detail),
    ]
    urls.urlpatterns = [
        path("api/v1/", include((articles_patterns, "articles_api"))),
        path("api/v1/", include((agency_patterns, "api_before"))),
        *[p for p in portal.urls.urlpatterns if not str(p.pattern).startswith("api/")],
    ]
    sys.modules[urls.__name__] = urls
    return urls


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default="afc7f1e", help="a commit with the hand-written API")
    parser.add_argument("--requests", type=int, default=600, help="per endpoint and side")
    parser.add_argument("--agencies", type=int, default=20000, help="as given to bench/run.py")
    args = parser.parse_args(argv)

    os.environ.update(
        DATABASE_URL=f"sqlite:///{DB}",
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECURE_SSL_REDIRECT="0",
        PORTAL_RATE_LIMITS="0",
        PORTAL_PAGE_CACHE="0",
        DJANGO_SECRET_KEY="bench-only-not-secret",
        DJANGO_LOG_LEVEL="ERROR",
    )
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from run import api_paths, samples

    with tempfile.TemporaryDirectory() as workdir:
        before = load_old(args.rev, Path(workdir)).__name__
    after = settings.ROOT_URLCONF
    inputs = samples(args.agencies, 300)
    client = Client(HTTP_HOST="127.0.0.1")
    # The empty query shows the framework's own cost, with no lookup behind it.
    paths = {"empty": lambda i: "/api/v1/search?q=", **api_paths(client, inputs)}

    def get(urlconf: str, url: str) -> tuple[float, float]:
        settings.ROOT_URLCONF = urlconf
        wall, cpu = time.perf_counter(), time.thread_time()
        response = client.get(url)
        timing = ((time.thread_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{urlconf} {url}: HTTP {response.status_code}")
        return timing

    def p50_p95(values: list[float]) -> tuple[float, float]:
        values = sorted(values)
        return statistics.median(values), values[int(len(values) * 0.95)]

    print(f"{'':13} {'CPU p50 ms':>24} {'CPU p95 ms':>24} {'wall p50 ms':>24}")
    for kind, path in paths.items():
        for i in range(10):
            get(before, path(i))
            get(after, path(i))
        timings = {before: [], after: []}
        for i in range(args.requests):
            for urlconf in (before, after) if i % 2 else (after, before):
                timings[urlconf].append(get(urlconf, path(i % 300)))
        cells = []
        for column in (0, 1):
            b = p50_p95([t[column] for t in timings[before]])
            a = p50_p95([t[column] for t in timings[after]])
            for j in (0, 1) if column == 0 else (0,):
                cells.append(f"{b[j]:6.2f} → {a[j]:6.2f} {(a[j] / b[j] - 1) * 100:+5.1f}%")
        print(f"{kind:13} " + " ".join(f"{cell:>24}" for cell in cells), flush=True)
    settings.ROOT_URLCONF = after


if __name__ == "__main__":
    main()
