"""The data version as a process remembers it (portal.models.current_version):
a moment late about another process's import, never about its own change,
never newer than the data on a page."""

import pytest
from django.db import connection
from django.db.models import F

from agencies import phones
from portal import models
from portal.models import DataVersion, current_version
from tests.factories import add_phone, make_agency

NUMBER = "0731-00008888"
# Outside a transaction (a test's own would keep the version from being
# remembered); the provinces come back for the test and for the tests after.
in_no_transaction = pytest.mark.django_db(transaction=True, serialized_rollback=True)
pytestmark = pytest.mark.usefixtures("migration_rows_back_afterwards")


@pytest.fixture
def number_url(settings):
    settings.PORTAL_DATA_VERSION_SECONDS = 30
    add_phone(make_agency("长沙示例资产管理有限公司"), NUMBER)
    return f"/api/v1/phones/{phones.normalize(NUMBER).key}"


def _import_elsewhere():
    # What another process's import does to this one's database: a new version,
    # committed, without this process's bump() running.
    DataVersion.objects.filter(id=1).update(version=F("version") + 1)


class _Clock:
    """The clock current_version() reads, and only that one."""

    def __init__(self, monkeypatch):
        self.now = 1000.0
        monkeypatch.setattr(models, "monotonic", lambda: self.now)


@in_no_transaction
def test_another_processs_import_shows_once_the_window_passes(client, number_url, monkeypatch):
    clock = _Clock(monkeypatch)
    before = client.get(number_url)["ETag"]
    _import_elsewhere()
    clock.now += 29
    assert client.get(number_url)["ETag"] == before
    clock.now += 2
    after = client.get(number_url)
    assert after.status_code == 200 and after["ETag"] != before


@in_no_transaction
def test_a_change_made_here_shows_at_once(client, number_url, monkeypatch):
    _Clock(monkeypatch)
    before = client.get(number_url)
    assert before.json()["count"] == 1
    add_phone(make_agency("岳阳示例资产管理有限公司"), NUMBER)  # saved here: bump()
    after = client.get(number_url, headers={"if-none-match": before["ETag"]})
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.json()["count"] == 2


@in_no_transaction
def test_a_remembered_version_saves_the_request_its_read(
    client, number_url, django_assert_num_queries
):
    client.get(number_url)
    connection.close_if_unusable_or_obsolete()  # as a new request starts
    # The number and nothing else: no version read, no SELECT 1 on PostgreSQL.
    with django_assert_num_queries(1):
        assert client.get(number_url).json()["count"] == 1


@pytest.mark.django_db
def test_inside_a_transaction_the_version_is_read_every_time(client, number_url):
    # A test's own transaction (or a writer's): its reads must see its writes.
    client.get(number_url)
    _import_elsewhere()
    assert current_version() == DataVersion.objects.get(id=1).version


@in_no_transaction
def test_zero_seconds_reads_every_time(client, number_url, settings):
    settings.PORTAL_DATA_VERSION_SECONDS = 0
    before = client.get(number_url)["ETag"]
    _import_elsewhere()
    assert client.get(number_url)["ETag"] != before
