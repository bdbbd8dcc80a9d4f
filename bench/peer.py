#!/usr/bin/env python
"""Datasette, the peer that bench/http_load.py --peer measures the portal against.

    python bench/peer.py --agencies 20000             # venv and database only
    python bench/peer.py --agencies 20000 --serve     # and serve it on 127.0.0.1:8767

Three parts, each reused when it is already there:

- a virtual environment of its own, bench/out/datasette-venv, made with the
  Python running this script and holding exactly bench/peer-requirements.txt
  (Datasette 0.65.5 and every dependency, pinned with hashes, installed with
  --require-hashes); it is made again only when that file changes;
- bench/out/datasette-<N>.db, built from the same generated directory the
  portal imports (bench/run.py's directory-<N>.jsonl) as a Datasette user
  would lay it out: `agencies` (uscc the primary key), `phones` and
  `former_names` with foreign keys to it and those keys indexed, `phones.key`
  indexed, an FTS5 trigram index on `agencies.name` in sqlite-utils'
  `enable-fts` layout (a content table `agencies_fts`, which Datasette finds
  on its own and searches with `?_search=`), then ANALYZE. `phones.key` is
  the portal's own key for a number (`agencies.phones`), so both sides look
  up the same string;
- bench/out/datasette-<N>-metadata.json, written on every start: a canned
  query `phone` (a number's agencies, by key), province and status facets on
  `agencies` and the settings below.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PINS = ROOT / "bench" / "peer-requirements.txt"
VENV = OUT / "datasette-venv"
STAMP = VENV / ".peer-requirements.sha256"
DATASETTE = VENV / "bin" / "datasette"

PHONE_QUERY = (
    "select a.uscc, a.name, a.status, a.province, p.number, p.label "
    "from phones p join agencies a on a.uscc = p.uscc where p.key = :key"
)
# What someone publishing this table would set. 20 rows a page, as the
# portal's search page and API lists show. The SQL time limit stays at
# Datasette's default: nothing measured comes near it, and a query cut off
# would show in the error counts. Facet suggestions off: they are for
# exploring a table (a query per column on every table page), while a
# published directory offers the facets it chose, here the portal's own
# pair, province and status (metadata below).
SETTINGS = {
    "default_page_size": 20,
    "sql_time_limit_ms": 1000,
    "suggest_facets": "off",
}

SCHEMA = """
CREATE TABLE [agencies] (
   [uscc] TEXT PRIMARY KEY,
   [name] TEXT,
   [province] TEXT,
   [city] TEXT,
   [status] TEXT,
   [source] TEXT,
   [retrieved_on] TEXT
);
CREATE TABLE [phones] (
   [key] TEXT,
   [number] TEXT,
   [label] TEXT,
   [uscc] TEXT REFERENCES [agencies]([uscc])
);
CREATE TABLE [former_names] (
   [uscc] TEXT REFERENCES [agencies]([uscc]),
   [name] TEXT
);
"""
# After the rows: what `sqlite-utils create-index`, `index-foreign-keys` and
# `enable-fts agencies name --tokenize trigram` run.
INDEXES = """
CREATE INDEX [idx_phones_key] ON [phones] ([key]);
CREATE INDEX [idx_phones_uscc] ON [phones] ([uscc]);
CREATE INDEX [idx_former_names_uscc] ON [former_names] ([uscc]);
CREATE VIRTUAL TABLE [agencies_fts] USING FTS5 ([name], tokenize='trigram', content=[agencies]);
INSERT INTO [agencies_fts] (rowid, [name]) SELECT rowid, [name] FROM [agencies];
ANALYZE;
"""


# --- The virtual environment --------------------------------------------------------------------


def ensure_venv() -> Path:
    """bench/out/datasette-venv holding exactly the pinned packages; the datasette command."""
    digest = hashlib.sha256(PINS.read_bytes() + sys.version.encode()).hexdigest()
    if DATASETTE.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return DATASETTE
    print(f"installing Datasette into {VENV.relative_to(ROOT)} …", flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    # The project's Python (a venv's python makes a venv on the same base).
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
    subprocess.run(
        [
            str(VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "--no-deps",  # the file pins every dependency itself
            "-r",
            str(PINS),
        ],
        check=True,
        timeout=900,
    )
    STAMP.write_text(digest + "\n")
    return DATASETTE


# --- The database -------------------------------------------------------------------------------


def database_name(n: int) -> str:
    return f"datasette-{n}"


def database_path(n: int) -> Path:
    return OUT / f"{database_name(n)}.db"


def _rows(source: Path, key_of):
    """(agency, phones, former names) per line of the generated directory."""
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            r = json.loads(line)
            agency = (
                r["uscc"],
                r["name"],
                r["province"],
                r["city"],
                r["status"],
                r["source"],
                r["retrieved_on"],
            )
            numbers = []
            for phone in r["phones"]:
                key = key_of(phone["number"])
                if key is not None:  # what the portal's import would refuse too
                    numbers.append((key, phone["number"], phone.get("label", ""), r["uscc"]))
            former = [(r["uscc"], name) for name in r.get("former_names", ())]
            yield agency, numbers, former


def _key_function():
    """The portal's key for a written number: `agencies.phones.normalize(number).key`.

    normalize() also looks up region and carrier (~170 µs a number, nine
    minutes for the three million numbers at N = 1,000,000); its key is
    classify()'s, which is all the key takes (~20 µs). Checked on every
    number of the first thousand agencies.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from agencies import phones

    def key_of(number: str) -> str | None:
        classified = phones.classify(number)
        return classified[0] if classified else None

    return key_of, phones.normalize


def build(n: int) -> Path:
    """bench/out/datasette-<N>.db from directory-<N>.jsonl, unless it exists."""
    path = database_path(n)
    if path.exists():
        return path
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench.run import directory_file

    source = directory_file(n)
    key_of, normalize = _key_function()
    print(f"building {path.relative_to(ROOT)} from {source.name} …", flush=True)
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    try:
        conn.executescript(SCHEMA)
        batch: list = []
        with conn:
            for i, row in enumerate(_rows(source, key_of)):
                if i < 1000:
                    for key, number, *_ in row[1]:
                        normal = normalize(number)
                        assert normal is not None and normal.key == key, (number, key)
                batch.append(row)
                if len(batch) == 5000:
                    _insert(conn, batch)
                    batch = []
            _insert(conn, batch)
        conn.executescript(INDEXES)
        counts = {
            table: conn.execute(f"select count(*) from [{table}]").fetchone()[0]
            for table in ("agencies", "phones", "former_names")
        }
    finally:
        conn.close()
    partial.rename(path)
    seconds = time.perf_counter() - started
    print(f"built in {seconds:.0f} s: {json.dumps(counts)}", flush=True)
    return path


def _insert(conn: sqlite3.Connection, batch: list) -> None:
    conn.executemany("INSERT INTO agencies VALUES (?, ?, ?, ?, ?, ?, ?)", [r[0] for r in batch])
    conn.executemany("INSERT INTO phones VALUES (?, ?, ?, ?)", [p for r in batch for p in r[1]])
    conn.executemany("INSERT INTO former_names VALUES (?, ?)", [f for r in batch for f in r[2]])


def write_metadata(n: int) -> Path:
    path = OUT / f"{database_name(n)}-metadata.json"
    metadata = {
        "title": f"Debt-collection agencies (synthetic, {n:,})",
        "databases": {
            database_name(n): {
                "tables": {
                    "agencies": {"facets": ["province", "status"], "label_column": "name"},
                },
                "queries": {"phone": {"title": "Agencies using a number", "sql": PHONE_QUERY}},
            }
        },
    }
    path.write_text(json.dumps(metadata, ensure_ascii=False, indent=2))
    return path


# --- Serving ------------------------------------------------------------------------------------


def _answers(port: int) -> bool:
    with suppress(OSError):
        url = f"http://127.0.0.1:{port}/-/versions.json"
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    return False


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Datasette:
    def __init__(self, n: int, port: int, process: subprocess.Popen, log: Path):
        self.n, self.port, self.process, self.log_path = n, port, process, log
        self.database = database_name(n)

    def version(self) -> dict:
        url = f"http://127.0.0.1:{self.port}/-/versions.json"
        with urllib.request.urlopen(url, timeout=10) as response:
            versions = json.load(response)
        return {
            "datasette": versions["datasette"]["version"],
            "sqlite": versions["sqlite"]["version"],
            "python": versions["python"]["version"],
        }

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def serving(n: int, port: int, log: Path):
    """Datasette on 127.0.0.1:`port`, in its own process group, stopped however the block ends.

    The file is served immutable (`-i`): how a published, read-only dataset
    is meant to be served (Datasette's docs), and the fair counterpart of
    the read-only portal. SQLite then opens it without locking, and
    Datasette counts each table once and keeps the count, as it does for
    every immutable file.
    """
    datasette = ensure_venv()
    db = build(n)
    metadata = write_metadata(n)
    if _port_in_use(port):
        raise SystemExit(f"127.0.0.1:{port} is already in use; pick another --peer-port.")
    command = [
        str(datasette),
        "serve",
        "-i",
        str(db),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--metadata",
        str(metadata),
    ]
    for name, value in SETTINGS.items():
        command += ["--setting", name, str(value)]
    OUT.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=OUT
        )
    server = Datasette(n, port, process, log)
    try:
        deadline = time.monotonic() + 120
        while not _answers(port):
            if process.poll() is not None:
                raise SystemExit(f"datasette exited ({process.returncode}):\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise SystemExit(f"datasette did not answer within 120 s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGTERM})
        try:
            server.stopped_cleanly = _stop(process)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _stop(process: subprocess.Popen) -> bool:
    """TERM to the whole group, KILL if it lingers. True if it stopped on TERM."""
    group = process.pid  # start_new_session: the group id is the leader's pid
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=15)
        clean = True
    except subprocess.TimeoutExpired:
        clean = False
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait(timeout=10)
    return clean


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=1_000_000)
    parser.add_argument("--serve", action="store_true", help="serve it until Ctrl-C or the limit")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--time-limit", type=int, default=3600, help="seconds of serving")
    args = parser.parse_args(argv)
    print(f"datasette: {ensure_venv().relative_to(ROOT)}")
    print(f"database: {build(args.agencies).relative_to(ROOT)}")
    if args.serve:
        log = OUT / f"{database_name(args.agencies)}-serve.log"
        with serving(args.agencies, args.port, log) as server:
            print(f"serving http://127.0.0.1:{args.port}/{server.database} {server.version()}")
            with suppress(KeyboardInterrupt):
                time.sleep(args.time_limit)


if __name__ == "__main__":
    main()
