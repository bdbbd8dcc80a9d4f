#!/usr/bin/env python
"""Instructions per request, in process: a measure that other load cannot move.

    python bench/instructions.py --db postgres --workload api_phone
    python bench/instructions.py --db sqlite --workload agency --requests 200

Requests/s on a shared two-core machine moved by ±20 % from one ten-second
run to the next here (docs/benchmarks.md), more than most single changes
to the request path are worth. Valgrind's callgrind counts the CPU
instructions executed instead, which is the same for the same code, data and
requests whatever else the machine does. This script calls the WSGI
application (every middleware, the view, the database client; not gunicorn
nor the database server's own process) over the URLs `make bench-http`
wrote for a workload (bench/out/http-urls-<N>/<workload>.txt), on the
database that benchmark loaded (--reuse: nothing is imported here), with
the benchmark's server settings, and prints the instructions per request.
Only the requests are counted: it runs them inside functools.reduce and
tells callgrind to count inside that function alone. A few hundred requests
take a minute or two (callgrind runs Python ~50 times slower).

Needs valgrind (Debian's package).
"""

import argparse
import functools
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def measure(args) -> None:
    """Inside valgrind: warm up, then the counted requests."""
    import http_load

    paths = [line.strip() for line in args.urls.read_text().splitlines() if line.strip()]
    # The benchmark server's settings (debug off, page cache off, …), before
    # Django reads them.
    os.environ.update(
        {
            name: value
            for name, value in http_load.server_environment(8766, False, 0).items()
            if name.startswith(("DJANGO_", "PORTAL_"))
        }
    )
    http_load.setup_database(args.db, args.agencies, reuse=True)
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    statuses = {}

    def start_response(status, headers, exc_info=None):
        statuses[status[:3]] = statuses.get(status[:3], 0) + 1

    def request(previous, i):  # functools.reduce's signature; nothing is carried over
        path, _, query = paths[i % len(paths)].partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8766",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8766",
            "HTTP_ACCEPT_ENCODING": "gzip",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
        }
        result = application(environ, start_response)
        b"".join(result)
        result.close()

    for i in range(args.warmup):
        request(None, i)
    statuses.clear()
    functools.reduce(request, range(args.warmup, args.warmup + args.requests), None)
    print("statuses", statuses, file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--agencies", type=int, default=1_000_000)
    parser.add_argument("--workload", default="api_phone", help="a file in bench/out/http-urls-N/")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.urls = ROOT / "bench" / "out" / f"http-urls-{args.agencies}" / f"{args.workload}.txt"
    if not args.urls.exists():
        raise SystemExit(
            f"{args.urls} does not exist: run make bench-http with --agencies {args.agencies} first"
        )
    if args.inside:
        measure(args)
        return
    if not shutil.which("valgrind"):
        raise SystemExit("needs valgrind: apt-get install valgrind")
    import http_load

    http_load.collect_static()  # debug off serves the hashed names from the manifest
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=functools_reduce",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--inside",
            *sys.argv[1:],
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
        statuses = re.findall(r"^statuses .*$", done.stderr, re.M)
        if done.returncode or not out.exists():
            raise SystemExit(f"valgrind failed ({done.returncode}):\n{done.stderr[-3000:]}")
        total = int(re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M).group(1))
    print(
        f"{args.workload} on {args.db}, {args.agencies:,} agencies: "
        f"{total / args.requests / 1e6:.3f}M instructions per request "
        f"({args.requests} requests; {statuses[0] if statuses else ''})"
    )


if __name__ == "__main__":
    main()
