"""Serving as production does: health endpoints, headers on every response,
compression, and the deploy checks that only this project knows."""

import datetime
import gzip
import logging
import os
import random
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils.text import compress_string

from portal import health, release
from portal.middleware import GZIP_MIN_BYTES, gzip_body
from portal.privacy import AccessLogger, RedactingFilter, redact_path
from tests.factories import make_agency

pytestmark = pytest.mark.django_db

EVERY_KIND_OF_RESPONSE = [
    "/",  # HTML
    "/api/v1/agencies",  # JSON
    "/no-such-page/",  # an error page
    "/healthz",
    "/readyz",
]


@pytest.mark.parametrize("url", EVERY_KIND_OF_RESPONSE)
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response.cookies == {}


def test_the_policy_written_once_is_the_one_django_builds_and_follows_the_settings(
    client, settings
):
    from django.utils.csp import CSP, build_policy

    assert client.get("/")["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
    settings.SECURE_CSP = {**settings.SECURE_CSP, "img-src": [CSP.SELF]}
    settings.SECURE_CSP_REPORT_ONLY = {"default-src": [CSP.NONE]}
    response = client.get("/")
    assert response["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
    assert "data:" not in response["Content-Security-Policy"]
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'none'"


def test_a_nonce_used_by_a_response_is_written_into_its_policy(rf, settings):
    from django.http import HttpResponse
    from django.utils.csp import CSP

    from portal.middleware import ContentSecurityPolicyMiddleware

    settings.SECURE_CSP = {"script-src": [CSP.SELF, CSP.NONCE]}

    def view(request, use_nonce):
        return HttpResponse(f"<script nonce='{request._csp_nonce}'>" if use_nonce else "")

    policies = []
    for use_nonce in (True, True, False):
        request = rf.get("/")
        middleware = ContentSecurityPolicyMiddleware(lambda r, n=use_nonce: view(r, n))
        response = middleware(request)
        policies.append(response["Content-Security-Policy"])
    assert policies[0].startswith("script-src 'self' 'nonce-") and policies[0] != policies[1]
    assert policies[2] == "script-src 'self'"


@pytest.mark.parametrize("url", ["/", "/api/v1/agencies"])
def test_html_and_json_are_compressed_when_the_client_accepts_it(client, url):
    # Three agencies: a list long enough to be worth compressing (GZIP_MIN_BYTES).
    for name in ("长沙示例资产管理有限公司", "岳阳示例资产管理有限公司", "衡阳示例咨询有限公司"):
        make_agency(name)
    plain = client.get(url)
    packed = client.get(url, headers={"accept-encoding": "gzip, br"})
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert len(packed.content) < len(plain.content)


@pytest.mark.parametrize("url", ["/", "/api/v1/agencies"])
def test_compressed_answers_read_back_whole_and_alike_for_every_visitor(client, url):
    for name in ("长沙示例资产管理有限公司", "岳阳示例资产管理有限公司", "衡阳示例咨询有限公司"):
        make_agency(name)
    plain = client.get(url).content
    packed = [client.get(url, headers={"accept-encoding": "gzip"}).content for _ in range(2)]
    assert gzip.decompress(packed[0]) == plain
    # No random padding: a shared cache may hand the same bytes to everyone.
    assert packed[0] == packed[1]


def test_a_short_answer_goes_uncompressed_with_the_same_headers_for_every_client(client):
    # A number nobody reported: a few hundred bytes of JSON, where gzip would
    # save less than the headers weigh (portal.middleware.GZIP_MIN_BYTES).
    plain = client.get("/api/v1/phones/13900000000")
    packed = client.get("/api/v1/phones/13900000000", headers={"accept-encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert len(plain.content) < GZIP_MIN_BYTES
    assert "Content-Encoding" not in packed and packed.content == plain.content
    assert packed["ETag"] == plain["ETag"] and not packed["ETag"].startswith("W/")


@pytest.mark.parametrize("size", [200, 511, 512, 513, 1600, 4097, 16384, 16385, 200_000])
def test_a_body_of_any_size_compresses_as_well_as_with_djangos_window(size):
    body = bytes(random.Random(size).choice(b'abcdefgh<>"/ ') for _ in range(size))
    ours = gzip_body(body)
    assert gzip.decompress(ours) == body
    assert len(ours) <= len(compress_string(body)) + 16


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database:default": "ok", "cache": "ok"},
        "release": release.current(),
    }


def test_readyz_names_a_dead_cache(client, dead_cache):
    with dead_cache:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database:default"] == "ok"
    assert body["checks"]["cache"] != "ok"


@pytest.mark.parametrize(
    ("lag", "status", "check"),
    [
        (5.0, "ok", "ok"),
        (42.0, "degraded", "lagging: 42.0 s behind the primary (limit 30 s)"),
        (None, "degraded", "not replaying: the server is not in recovery"),
    ],
)
def test_readyz_reports_a_replicas_lag_without_failing(
    client, settings, monkeypatch, lag, status, check
):
    # Without a second server, the primary plays the part of a replica.
    monkeypatch.setattr(health, "replica_aliases", lambda: ["default"])
    monkeypatch.setattr(health, "replication_lag", lambda alias: lag)
    settings.PORTAL_REPLICA_MAX_LAG = 30
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == status
    assert body["checks"]["replication:default"] == check
    assert body["replication_lag_seconds"] == {"default": lag}


def _deploy_messages(capsys) -> str:
    try:
        call_command("check", "--deploy", "--fail-level", "WARNING")
    except SystemCheckError as error:
        return str(error)
    return capsys.readouterr().out


def test_deploy_check_refuses_the_example_contact_address(settings, capsys):
    settings.PORTAL_CONTACT_EMAIL = "corrections@example.org"
    assert "portal.E001" in _deploy_messages(capsys)
    settings.PORTAL_CONTACT_EMAIL = "not an address"
    assert "portal.E001" in _deploy_messages(capsys)
    settings.PORTAL_CONTACT_EMAIL = "jiucuo@cuishou-chaxun.cn"
    assert "portal.E001" not in _deploy_messages(capsys)


def test_deploy_check_refuses_sample_data(settings, capsys):
    settings.PORTAL_CONTACT_EMAIL = "jiucuo@cuishou-chaxun.cn"
    assert "portal.E002" not in _deploy_messages(capsys)
    make_agency("示例演示资产管理有限公司", is_sample=True)
    assert "portal.E002" in _deploy_messages(capsys)


def test_head_gets_the_headers_and_no_body(client):
    make_agency("长沙示例资产管理有限公司")
    get = client.get("/")
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(get.content))
    assert head["Content-Type"] == get["Content-Type"]


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/search/?q=13907310000", "/search/"),
        ("/phone/13907310000/", "/phone/…/"),
        ("/zh-hant/phone/13907310000/", "/zh-hant/phone/…/"),
        ("/api/v1/phones/0731-8888?x=1", "/api/v1/phones/…"),
        ("/api/v1/search?q=长沙", "/api/v1/search"),
        ("/provinces/hunan/?page=2", "/provinces/hunan/"),
    ],
)
def test_logged_paths_keep_nothing_searched(path, logged):
    assert redact_path(path) == logged


def test_django_request_log_lines_are_redacted(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/phone/abc123/", {"q": "张三 13907310000"})
    text = "\n".join(handler_format(record) for record in caplog.records)
    assert "Not Found: /phone/…/" in text
    assert "abc123" not in text and "13907310000" not in text and "张三" not in text
    assert all(getattr(record, "request", None) is None for record in caplog.records)


def handler_format(record: logging.LogRecord) -> str:
    """What a handler with the redacting filter writes for this record."""
    RedactingFilter().filter(record)
    return record.getMessage()


def test_gunicorn_access_lines_keep_nothing_searched():
    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "-")
    logger = AccessLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/phone/13907310000/",
        "QUERY_STRING": "q=13907310000",
        "RAW_URI": "/phone/13907310000/?q=13907310000",
        "REMOTE_ADDR": "203.0.113.9",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }

    class Response:
        status = "200 OK"
        sent = 10
        headers = []

    class Request:
        headers = [("X-FORWARDED-FOR", "198.51.100.7")]

    atoms = logger.atoms(Response(), Request(), environ, datetime.timedelta(milliseconds=3))
    # Time, method, redacted path (U, r), status, size, durations, worker, protocol.
    assert set(atoms) == {"t", "m", "s", "B", "b", "D", "M", "T", "L", "p", "H", "U", "r"}
    assert (atoms["s"], atoms["B"], atoms["M"], atoms["L"]) == ("200", 10, 3, "0.003000")
    ours = Path(__file__).resolve().parent.parent / "portal" / "gunicorn.conf.py"
    ours_format = re.search(r"^access_log_format = '(.*)'", ours.read_text(), re.M).group(1)
    assert "%(r)s" not in ours_format and "%(q)s" not in ours_format and "%(U)s" in ours_format
    # Ours, and gunicorn's default, which names the client address and headers.
    for access_format in (ours_format, config.access_log_format):
        line = access_format % atoms
        assert "/phone/…/" in line or access_format != ours_format
        for secret in ("13907310000", "203.0.113.9", "198.51.100.7"):
            assert secret not in line and secret not in str(atoms)


def test_privacy_page_says_what_is_kept_and_how_to_ask_for_removal(client, settings):
    settings.PORTAL_CONTACT_EMAIL = "jiucuo@cuishou-chaxun.cn"
    response = client.get("/about/privacy/")
    html = response.content.decode()
    assert response.status_code == 200 and response.cookies == {}
    assert "不写进数据库，也不写进日志" in html
    assert "IP 地址" in html and "不给访客设置任何 Cookie" in html
    assert 'href="mailto:jiucuo@cuishou-chaxun.cn"' in html
    assert 'href="/about/privacy/"' in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("name", "kwarg", "value"),
    [
        ("agencies:agency-detail", "uscc", "91430100MA4L00000X"),
        ("agencies:phone-detail", "key", "+14155550123"),
        ("agencies:phone-detail", "key", "073100001111"),
        # Not ASCII letters and digits: quoted as reverse() quotes them.
        ("agencies:phone-detail", "key", "０７３１ 0000%1111"),
        ("agencies:phone-detail", "key", "０７３１００００１１１１"),
        ("agencies:province-detail", "slug", "hunan"),
        ("articles:detail", "slug", "harassment-what-to-do"),
        ("articles:tag", "slug", "cui-shou-gui-ze"),
    ],
)
def test_cached_paths_equal_reverse(name, kwarg, value):
    from django.urls import reverse

    from portal.links import reverse_one

    assert reverse_one(name, kwarg, value) == reverse(name, kwargs={kwarg: value})


def test_a_database_that_stops_answering_is_a_503_on_pages_and_in_the_api(client):
    from django.db import OperationalError, connection

    agency = make_agency("长沙示例资产管理有限公司")

    def refuse_agency_reads(execute, sql, params, many, context):
        # At the cursor, whatever built the query (the ORM, a prepared query).
        if '"agencies_agency' in sql:
            raise OperationalError("connection refused")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_agency_reads):
        page = client.get(f"/agencies/{agency.uscc}/")
        api = client.get(f"/api/v1/agencies/{agency.uscc}")
    assert page.status_code == 503 and page["Retry-After"]
    assert "数据库暂时无法连接" in page.content.decode()
    assert "Traceback" not in page.content.decode()
    assert api.status_code == 503 and api["Retry-After"]
    assert api.json() == {
        "error": {"status": 503, "message": "服务暂时不可用，请稍后再试。", "parameter": None}
    }


def test_a_stalled_redis_costs_a_request_under_a_second(tmp_path):
    """A Redis that accepts connections and never answers (a host hung, not
    down) must not hold a page for the system's timeouts: the cache settings
    bound each call, and the page is rendered without it (portal.caching)."""
    root = Path(__file__).resolve().parent.parent
    with socket.socket() as stalled:
        # Listening, never accepting: the kernel completes the handshake and
        # nothing ever answers.
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(8)
        port = stalled.getsockname()[1]
        script = (
            "import time, django; django.setup()\n"
            "from django.core.cache import cache\n"
            "started = time.monotonic()\n"
            "try:\n    cache.get('x')\nexcept Exception as error:\n"
            "    print(type(error).__name__, round(time.monotonic() - started, 2))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "portal.settings",
                "REDIS_URL": f"redis://127.0.0.1:{port}/0",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    name, seconds = done.stdout.split()
    assert name == "TimeoutError", done.stderr
    assert float(seconds) < 1.0


@pytest.mark.parametrize(
    ("received", "replayed", "lagging"),
    [
        ("0/D01B298", "0/D01B298", False),  # all received is replayed
        # Restarted, primary idle: the receiver reports the start of the segment
        # it resumes from, before what was replayed. Nothing is missing.
        ("0/D000000", "0/D01B298", False),
        ("0/D020000", "0/D01B298", True),  # received and not yet replayed
    ],
)
def test_replica_lag_is_zero_once_everything_received_is_replayed(received, replayed, lagging):
    """portal.health's lag query, with the replica's positions given (this runs
    on a primary, where the real functions say nothing)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the lag query is PostgreSQL's")
    sql = (
        health._LAG_SQL.replace("pg_last_wal_receive_lsn()", f"'{received}'::pg_lsn")
        .replace("pg_last_wal_replay_lsn()", f"'{replayed}'::pg_lsn")
        .replace("pg_last_xact_replay_timestamp()", "(now() - interval '1 hour')")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        _, lag = cursor.fetchone()
    assert (float(lag) > 0) == lagging
