"""On PostgreSQL a public request's first query is also its connection's health
check (portal.dbcheck): the data version read (portal.models.current_version)
or, while the version is remembered, the record or number read or a province
page's list (its figures kept in the cache). No `SELECT 1`
round trip before it, and a kept connection the server dropped is replaced
without the visitor seeing an error."""

import pytest
from django.db import connection, connections

from agencies import phones
from tests.factories import add_phone, make_agency

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("migration_rows_back_afterwards"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite's health check sends no query"
    ),
]

NUMBER = "0731-00008888"


@pytest.fixture(
    autouse=True, params=[0, 60], ids=["version read each request", "version remembered"]
)
def _version_seconds(request, settings):
    # Remembered, the number read is the request's first query; read, the
    # version is. Long enough not to run out between two requests of a test.
    settings.PORTAL_DATA_VERSION_SECONDS = request.param


@pytest.fixture(params=["number API", "province page"])
def lookup(request, settings):
    """A URL whose answer needs a query, and the test that it was answered."""
    settings.PORTAL_PAGE_CACHE = False  # each request reads, none is served from the cache
    add_phone(make_agency("长沙示例资产管理有限公司"), NUMBER)
    # A connection opened now: the suite's own may be older than CONN_MAX_AGE,
    # and a new request would close it as obsolete rather than check it.
    connection.close()
    if request.param == "province page":
        return "/provinces/hunan/", lambda response: "长沙示例资产管理有限公司" in response.text
    return (
        f"/api/v1/phones/{phones.normalize(NUMBER).key}",
        lambda response: response.json()["count"] == 1,
    )


def _as_a_new_request_starts():
    # What close_old_connections() does when a request starts in production
    # (Django's test client leaves it out): the kept connection is checked again.
    connection.close_if_unusable_or_obsolete()
    assert connection.connection is not None and not connection.health_check_done


def _server_drops_the_connection() -> int:
    """End the kept connection's backend from another connection, as a server
    restart or an idle timeout would; its process id."""
    dropped = connection.connection.info.backend_pid
    killer = connection.get_new_connection(connection.get_connection_params())
    try:
        killer.execute("SELECT pg_terminate_backend(%s)", [dropped])
    finally:
        killer.close()
    return dropped


def test_a_request_on_a_kept_connection_sends_no_select_1(client, lookup, monkeypatch):
    url, answered = lookup
    client.get(url)
    _as_a_new_request_starts()
    checks = []
    monkeypatch.setattr(
        type(connections["default"]), "is_usable", lambda self: checks.append(1) or True
    )
    response = client.get(url)
    assert response.status_code == 200 and answered(response)
    assert checks == []


def test_a_connection_the_server_dropped_is_replaced_unseen(client, lookup):
    url, answered = lookup
    client.get(url)
    _as_a_new_request_starts()
    dropped = _server_drops_the_connection()
    response = client.get(url)
    assert response.status_code == 200 and answered(response)
    assert connection.connection.info.backend_pid != dropped


def test_without_the_check_a_dropped_connection_fails_the_request(client, lookup):
    # What the check is for: a connection already checked in this request is
    # not checked again, and the server having dropped it is an error page.
    url, _ = lookup
    client.get(url)
    _server_drops_the_connection()
    try:
        assert client.get(url).status_code == 503
    finally:
        connection.close()  # as the end of that request would have
