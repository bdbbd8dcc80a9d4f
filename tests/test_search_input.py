"""The search box never dead-ends: it accepts what the server reads, a pasted
message goes to the message check, and a request line too long for the server
gets the site's own 414 page in the page's language — through gunicorn too.
"""

import os
import re
import runpy
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from agencies.search import textnorm
from agencies.search.understand import MAX_PASTE
from portal import requestline

ROOT = Path(__file__).resolve().parent.parent
MESSAGE = (
    "【鑫达法务部】您好，您在某平台的借款已严重逾期，请于今日18点前联系0731-88888888处理，"
    "否则我们将联系你的家人和单位。"
) * 4


def longest_search(prefix: str = "/zh-hant/search/") -> str:
    """The longest request target the search box can make, with the filters and
    page number the results page's links add."""
    q = urllib.parse.quote("长" * requestline.SEARCH_BOX_CHARS)
    status = urllib.parse.quote("存续")
    return f"{prefix}?q={q}&province=43&status={status}&page=999"


def test_the_workers_414_page_is_rendered_without_logging_a_visitor(tmp_path):
    """Each gunicorn worker renders its 414 page when it starts; that is not a
    request anyone made, and the log must not say it was. Run as a worker does,
    in a process of its own with the project's logging (the test run's logging
    is pytest's)."""
    script = (
        "from django.core.wsgi import get_wsgi_application\n"
        "from portal.serving import render_too_long\n"
        "print(render_too_long(get_wsgi_application())[:12].decode())\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_ENV_FILE": "",
        "DJANGO_SECRET_KEY": "test-only",
        # Debug on: the hashed static files a debug-off process needs are made by
        # collectstatic, which a test run does not do. Django logs a 414 either way.
        "DJANGO_DEBUG": "true",
        "DJANGO_LOG_LEVEL": "INFO",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-c", script]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "HTTP/1.1 414", run.stderr
    assert "Too Long" not in run.stderr, run.stderr


def test_the_limits_agree():
    gunicorn = runpy.run_path(str(ROOT / "portal" / "gunicorn.conf.py"))
    assert gunicorn["limit_request_line"] == requestline.SERVER_LIMIT == 8190
    assert gunicorn["limit_request_field_size"] == requestline.FIELD_LIMIT
    assert gunicorn["worker_class"] == "portal.serving.Worker"
    longest = requestline.line_length("GET", longest_search(), "HTTP/1.1")
    # The box's longest search is read by the app, which refuses before gunicorn does.
    assert longest <= requestline.APP_LIMIT < requestline.SERVER_LIMIT
    # A Referer carrying any URL gunicorn accepts still fits in a header field.
    referer = len("Referer: https://") + 253 + requestline.SERVER_LIMIT
    assert referer <= requestline.FIELD_LIMIT
    assert MAX_PASTE == requestline.SEARCH_BOX_CHARS


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/search/", "/search/?q=长沙", "/en/no-such-page/"])
def test_the_box_accepts_what_the_server_reads(client, url):
    html = client.get(url).content.decode()
    box = re.search(r'<input id="q" name="q"[^>]*>', html).group()
    assert f'maxlength="{requestline.SEARCH_BOX_CHARS}"' in box
    form = re.search(r'<form class="search-form"[^>]*>', html).group()
    assert 'data-check-url="' in form
    assert f'data-message-chars="{textnorm.MAX_QUERY_CHARS}"' in form
    assert "js/search-paste.js" in html


def test_the_paste_script_is_served():
    script = (ROOT / "static" / "js" / "search-paste.js").read_text()
    assert 'post.method = "post"' in script and 'text.name = "text"' in script


@pytest.mark.django_db
def test_a_pasted_message_is_offered_to_the_message_check_by_post(client):
    html = client.get("/search/", {"q": MESSAGE}).content.decode()
    form = re.search(
        r'<form class="to-check" method="post" action="/check/#result-heading">.*?</form>',
        html,
        re.S,
    )
    assert form, "no form to the message check"
    assert "用 POST 发送，内容不进网址" in form.group()
    textarea = re.search(
        r'<textarea id="check-text" name="text"[^>]*>(.*?)</textarea>', form.group(), re.S
    )
    assert "0731-88888888" in textarea.group(1)
    assert "后面的部分没有送到本站" not in html
    # The form's answer is the message check's.
    checked = client.post("/check/", {"text": MESSAGE})
    assert checked.status_code == 200 and "073188888888" in checked.content.decode()


@pytest.mark.django_db
def test_a_text_the_box_cut_says_so(client):
    cut = (MESSAGE * 10)[: requestline.SEARCH_BOX_CHARS]
    html = client.get("/search/", {"q": cut}).content.decode()
    assert f"查询框最多接受 {requestline.SEARCH_BOX_CHARS} 个字，后面的部分没有送到本站" in html
    english = client.get("/en/search/", {"q": cut}).content.decode()
    assert f"accepts at most {requestline.SEARCH_BOX_CHARS} characters" in english


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prefix", "lang", "words", "check"),
    [
        ("", "zh-Hans", "网址太长了", "/check/"),
        ("/zh-hant", "zh-Hant", "網址太長了", "/zh-hant/check/"),
        ("/en", "en", "This address is too long", "/en/check/"),
    ],
)
def test_a_request_line_longer_than_the_app_reads_is_the_sites_414(
    client, prefix, lang, words, check
):
    q = "长" * (requestline.SEARCH_BOX_CHARS + 100)
    response = client.get(f"{prefix}/search/", {"q": q})
    html = response.content.decode()
    assert response.status_code == 414
    assert f'<html lang="{lang}">' in html and words in html
    assert f'href="{check}"' in html and 'class="site-header"' in html
    # The language switcher leads to the page without the query refused here.
    assert q not in html and urllib.parse.quote(q) not in html


@pytest.mark.django_db
def test_the_api_answers_a_long_request_line_with_its_envelope(client):
    response = client.get("/api/v1/search", {"q": "长" * (requestline.SEARCH_BOX_CHARS + 100)})
    assert response.status_code == 414
    assert response.json()["error"]["status"] == 414


@pytest.mark.django_db
def test_the_longest_search_is_answered(client):
    response = client.get(longest_search())
    assert response.status_code == 200


# --- Through gunicorn ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raw_get(
    port: int, target: str, headers: str = "", timeout: float = 10
) -> tuple[str, dict, str]:
    """(status line, headers, body) of one GET sent as bytes, so that nothing shortens it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
        sock.sendall(head.encode())
        data = b""
        deadline = time.monotonic() + timeout
        while chunk := sock.recv(65536):
            data += chunk
            assert time.monotonic() < deadline, "no complete answer in time"
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return status, fields, body.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn with portal/gunicorn.conf.py on a free port of 127.0.0.1, one worker,
    a migrated SQLite database of its own (the limits do not depend on the
    database); stopped, whatever happens, within seconds."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        # Debug on only for the static files' unhashed names (no collectstatic).
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": "test",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "PORTAL_RATE_LIMITS": "false",
        "REDIS_URL": "",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": "-",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    log = (tmp / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "portal/gunicorn.conf.py",
            "portal.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp / "gunicorn.log").read_text()
            try:
                if raw_get(port, "/healthz", timeout=2)[0].startswith("HTTP/1.1 200"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start in 30 s"
            time.sleep(0.2)
        yield port, tmp / "gunicorn.log"
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)
        log.close()


def test_gunicorn_answers_the_longest_search(gunicorn):
    port, _ = gunicorn
    status, _, body = raw_get(port, longest_search())
    assert status.startswith("HTTP/1.1 200"), status
    assert "長" in body  # the query echoed, on the Traditional page


def test_gunicorn_passes_a_line_the_app_refuses_to_the_sites_414(gunicorn):
    port, _ = gunicorn
    q = urllib.parse.quote("长" * (requestline.SEARCH_BOX_CHARS + 50))
    target = f"/en/search/?q={q}"
    assert requestline.APP_LIMIT < len(target) + 14 <= requestline.SERVER_LIMIT
    status, fields, body = raw_get(port, target)
    assert status.startswith("HTTP/1.1 414"), status
    assert fields["content-language"] == "en" and "content-security-policy" in fields
    assert '<html lang="en">' in body and "This address is too long" in body
    assert 'class="site-header"' in body and 'href="/en/check/"' in body


def test_a_line_longer_than_gunicorn_reads_still_gets_the_sites_page(gunicorn):
    port, log = gunicorn
    target = "/search/?q=" + urllib.parse.quote("长" * 2000)
    assert len(target) > requestline.SERVER_LIMIT
    status, fields, body = raw_get(port, target)
    assert status.startswith("HTTP/1.1 414"), status
    assert "Request Line is too large" not in body
    assert '<html lang="zh-Hans">' in body and "网址太长了" in body
    assert 'class="site-header"' in body and "content-security-policy" in fields
    assert int(fields["content-length"]) == len(body.encode())
    assert "answered with the site's 414 page" in log.read_text()


def test_a_referer_holding_the_longest_search_is_accepted(gunicorn):
    port, _ = gunicorn
    referer = f"Referer: http://127.0.0.1{longest_search()}\r\n"
    status, _, _ = raw_get(port, "/search/?q=%E9%95%BF%E6%B2%99", headers=referer)
    assert status.startswith("HTTP/1.1 200"), status
