"""Real-browser tests: Playwright driving Debian's Chromium against a live server.

Every test here is marked `browser`. They need Chromium (`apt-get install
chromium`; Playwright's own browser download cannot reach its server from
here): found on PATH or named by PORTAL_CHROMIUM. Without it they are skipped
with that message, unless PORTAL_REQUIRE_BROWSER is set (as `.ci/run` does),
when a missing browser is a failure: CI must never pass by skipping them.
`make test-quick` leaves them out.

The site under test is the demo itself: the sample directory and the
articles, loaded once into the test database and served by Django's live
server on 127.0.0.1. Tests only read, so they share it; they run after every
other test, so no other test sees it.
"""

import os
import shutil
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from agencies.models import Agency, AgencyPhone

# Playwright's sync API keeps an asyncio loop in this thread, and Django then
# refuses ORM calls from it (SynchronousOnlyOperation), although nothing here
# is asynchronous: the ORM and the browser never run at the same moment.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"375": PHONE, "1280": DESKTOP}


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    mine = [item for item in items if str(item.fspath).startswith(here)]
    for item in mine:
        item.add_marker(pytest.mark.browser)
        # Declares the database, so that pytest-django creates the test
        # database even when only these tests run. Each test's own
        # transaction is rolled back; the site's data (`site`) was committed
        # before it and stays.
        item.add_marker(pytest.mark.django_db)
    # Last, so that the demo data they load once (`site`) is seen by no other
    # test; the test database goes at the end of the run.
    items[:] = [item for item in items if item not in mine] + mine


def _chromium() -> str | None:
    named = os.environ.get("PORTAL_CHROMIUM")
    if named:
        return named
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser(site):
    # Depends on `site` so that it closes first: the browser's keep-alive
    # sockets are gone before the live server stops.
    path = _chromium()
    if path is None:
        message = "Chromium not found: apt-get install chromium (or set PORTAL_CHROMIUM)"
        if os.environ.get("PORTAL_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def site(django_db_setup, django_db_blocker):
    """The demo site's URL, with the sample directory and the articles, loaded once."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        call_command("load_sample", verbosity=0)
        call_command("sync_articles", verbosity=0)
    server = LiveServer("127.0.0.1")
    server._live_server_modified_settings.enable()
    try:
        yield server.url
    finally:
        server._live_server_modified_settings.disable()
        _wait_for_request_threads()
        server.stop()
        with django_db_blocker.unblock():
            _end_server_sessions()


def _wait_for_request_threads(timeout: float = 10.0):
    """Let the live server's request threads finish before it stops.

    They are daemons, so stopping the server does not wait for them; one
    still closing the browser's last keep-alive connection would then touch
    the in-memory SQLite connection after the server has handed it back to
    this thread, and Django raises (a failure of CI on 2026-12-03).
    """
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(max(0.0, deadline - time.monotonic()))


def _end_server_sessions():
    """Close what the live server's request threads left open on PostgreSQL.

    Those threads are daemons: stopping the server does not wait for one
    still answering the browser's last request (a favicon, a keep-alive),
    and its connection would stop pytest-django from dropping the test
    database ("being accessed by other users").
    """
    if connection.vendor != "postgresql":
        return
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")
        # Termination is asynchronous: wait until the sessions are gone.
        for _ in range(50):
            cursor.execute(f"SELECT count(*) {others}")
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.1)
    connection.close()


def open_page(browser, viewport: dict, *, javascript: bool = True):
    context = browser.new_context(
        viewport=viewport,
        java_script_enabled=javascript,
        locale="zh-CN",
        # A phone-sized window is a phone: touch, and the mobile user agent's
        # scaling rules.
        has_touch=viewport is PHONE,
        is_mobile=viewport is PHONE,
    )
    return context, context.new_page()


@pytest.fixture(params=list(VIEWPORTS), ids=lambda key: f"{key}px")
def page(request, browser, site):
    context, page = open_page(browser, VIEWPORTS[request.param])
    page.viewport_name = request.param
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def sample(site, django_db_blocker):
    """Records of the loaded sample directory the journeys start from."""
    with django_db_blocker.unblock():
        agency = (
            Agency.objects.filter(province_id="43", phone_links__phone__kind="mobile")
            .order_by("uscc")
            .first()
        )
        mobile = agency.phone_links.filter(phone__kind="mobile").first().phone.key
        named = Agency.objects.filter(province_id="43").order_by("uscc").last()
        # The number shared by the most agencies: the longest answer a number page gives.
        shared = (
            AgencyPhone.objects.values("phone__key")
            .annotate(n=Count("agency", distinct=True))
            .order_by("-n", "phone__key")
            .first()["phone__key"]
        )
    return {"agency": agency, "mobile": mobile, "named": named, "shared": shared}
