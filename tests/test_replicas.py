"""Read replicas: the routing rules (portal.routers), then the real thing.

The rules are checked in every run. The tests marked `replica` need a real
streaming replica of the primary cluster, named by REPLICA_TEST_URL, and the
settings pointed at it (DATABASE_REPLICA_URLS); `make test-replica` starts one
with scripts/pg-replica.sh and runs them. A separate variable, because these
tests pause the replica's replay: that must only ever happen to a throwaway
replica someone named for the purpose, never to one that DATABASE_REPLICA_URLS
happens to list.

They run with transaction=True: a replica sees only what the primary has
committed, so the data must really be committed, not kept in the rolled-back
transaction that wraps an ordinary test.
"""

import json
import os
import time
from contextlib import contextmanager

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency, Province
from portal.models import current_version
from portal.routers import (
    ReplicaReadsMiddleware,
    ReplicaRouter,
    is_public_read,
    replica_aliases,
    replica_reads,
)
from tests.factories import make_uscc

# --- The rules, without a replica ------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "public"),
    [
        ("GET", "/provinces/hunan/", True),
        ("HEAD", "/provinces/hunan/", True),
        ("GET", "/api/v1/agencies", True),
        ("GET", "/search/?q=长沙", True),
        ("POST", "/provinces/hunan/", False),
        ("OPTIONS", "/api/v1/agencies", False),
        ("GET", "/admin/agencies/agency/", False),
        ("GET", "/admin/login/", False),
        ("GET", "/healthz", False),
        ("GET", "/readyz", False),
    ],
)
def test_which_requests_may_read_a_replica(method, path, public):
    request = RequestFactory().generic(method, path)
    assert is_public_read(request) is public


def test_reads_go_to_the_replica_only_when_a_public_request_chose_one(monkeypatch):
    router = ReplicaRouter()
    assert router.db_for_read(Agency) == "default"  # a command, the shell
    with replica_reads("replica2"):
        assert router.db_for_read(Agency) == "replica2"
        with replica_reads(None):
            assert router.db_for_read(Agency) == "default"
        # A transaction open on the primary reads what it wrote.
        monkeypatch.setattr(connections["default"], "in_atomic_block", True)
        assert router.db_for_read(Agency) == "default"
    monkeypatch.undo()
    assert router.db_for_read(Agency) == "default"


def test_writes_and_migrations_go_to_the_primary():
    router = ReplicaRouter()
    with replica_reads("replica1"):
        assert router.db_for_write(Agency) == "default"
    assert router.allow_migrate("default", "agencies") is True
    assert router.allow_migrate("replica1", "agencies") is False
    assert router.allow_relation(Agency(), Province()) is True


@pytest.mark.django_db
def test_a_request_inside_a_primary_transaction_leaves_the_replicas_alone():
    # The test case's transaction is open on the primary, so reads go there
    # (rule 3) and no replica is even connected to: there is no replica9, and
    # touching it would raise.
    middleware = ReplicaReadsMiddleware(lambda request: HttpResponse("页面"))
    middleware.replicas = ["replica9"]
    response = middleware(RequestFactory().get("/provinces/hunan/"))
    assert response.content.decode() == "页面"


# --- A real streaming replica ------------------------------------------------

REPLICA_TEST_URL = os.environ.get("REPLICA_TEST_URL", "")

REAL_REPLICA = [
    pytest.mark.replica,
    pytest.mark.skipif(
        not (REPLICA_TEST_URL and os.environ.get("DATABASE_URL")),
        reason="needs REPLICA_TEST_URL and DATABASE_URL (make test-replica)",
    ),
    # Provinces come from a data migration; the flush after each test removes
    # them, and the serialized copy brings them back.
    pytest.mark.django_db(transaction=True, databases="__all__", serialized_rollback=True),
]
REPLAY_TIMEOUT = 60


class Replica:
    """The test's handle on the replica server: replay control and waiting."""

    def __init__(self, url: str):
        config = dj_database_url.parse(url)
        self.host, self.port = config["HOST"], int(config["PORT"] or 5432)
        # Connections of the test's own, to each server's maintenance database:
        # replay and WAL positions concern whole servers, and these queries
        # stay out of what the tests capture on Django's connections.
        self.server = server_connection(config)
        self.primary = server_connection(settings.DATABASES["default"])

    def value(self, sql: str, *params):
        return self.server.execute(sql, params).fetchone()[0]

    def wait_for(self, condition: str) -> None:
        lsn = self.primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + REPLAY_TIMEOUT
        while not self.value(f"SELECT {condition} >= %s::pg_lsn", lsn):
            assert time.monotonic() < deadline, f"the replica did not reach {lsn}: {condition}"
            time.sleep(0.05)

    def wait_for_replay(self) -> None:
        """Until the replica has applied everything the primary has committed so far."""
        self.wait_for("pg_last_wal_replay_lsn()")

    def wait_for_receipt(self) -> None:
        """Until the replica has received (not necessarily applied) all of it."""
        self.wait_for("pg_last_wal_receive_lsn()")

    def pause(self) -> None:
        self.server.execute("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + REPLAY_TIMEOUT
        while self.value("SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline, "replay did not pause"
            time.sleep(0.05)

    def resume(self) -> None:
        self.server.execute("SELECT pg_wal_replay_resume()")

    def close(self) -> None:
        self.server.close()
        self.primary.close()


def server_connection(config: dict) -> psycopg.Connection:
    return psycopg.connect(
        host=config["HOST"],
        port=int(config["PORT"] or 5432),
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def replica():
    replica = Replica(REPLICA_TEST_URL)
    ours = [
        alias
        for alias in replica_aliases()
        if (settings.DATABASES[alias]["HOST"], int(settings.DATABASES[alias]["PORT"] or 5432))
        == (replica.host, replica.port)
    ]
    # Fail rather than skip: a CI run that meant to test the replica must not
    # pass by testing nothing.
    assert ours == replica_aliases() == ["replica1"], (
        "set DATABASE_REPLICA_URLS to REPLICA_TEST_URL, and nothing else "
        f"(replicas configured: {replica_aliases()}, REPLICA_TEST_URL: {REPLICA_TEST_URL})"
    )
    assert replica.value("SELECT pg_is_in_recovery()"), "REPLICA_TEST_URL is not a replica"
    # The test database, its tables and the serialized rows, on the replica too.
    replica.wait_for_replay()
    try:
        yield replica
    finally:
        replica.resume()
        replica.close()


def import_agencies(tmp_path, *records: dict, name: str = "import.jsonl") -> None:
    path = tmp_path / name
    path.write_text(
        "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records),
        encoding="utf-8",
    )
    call_command("import_agencies", str(path), verbosity=0)


def record(uscc: str, name: str) -> dict:
    return {"uscc": uscc, "name": name, "province": "湖南省", "source": "测试来源"}


@contextmanager
def queries():
    """(primary, replica): what each database ran inside the block."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica1"]) as replica,
    ):
        yield primary, replica


def sql(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


class TestWithAStreamingReplica:
    pytestmark = REAL_REPLICA

    def test_pages_read_the_replica_and_an_import_writes_the_primary(
        self, client, replica, tmp_path
    ):
        uscc = make_uscc("43")
        with queries() as (primary, replica_queries):
            import_agencies(tmp_path, record(uscc, "长沙复制测试资产管理有限公司"))
        # The import's existence checks and its writes: all on the primary.
        assert sql(primary) and not sql(replica_queries)

        replica.wait_for_replay()
        for url in ["/provinces/hunan/", "/api/v1/agencies", f"/agencies/{uscc}/"]:
            with queries() as (primary, replica_queries):
                response = client.get(url)
            assert response.status_code == 200, url
            assert "长沙复制测试资产管理有限公司" in response.content.decode(), url
            assert sql(primary) == [], url
            # The data version behind the ETag came from the replica as well.
            assert any("portal_dataversion" in text for text in sql(replica_queries)), url

    def test_the_admin_reads_and_writes_the_primary(self, client, replica):
        user = get_user_model().objects.create_superuser("staff", "staff@example.org", "x")
        client.force_login(user)
        replica.wait_for_replay()
        before = client.get("/provinces/hunan/")
        url = "/admin/agencies/province/43/change/"
        form = {
            "code": "43",
            "name": "湖南省（改名测试）",
            "short_name": "湘",
            "short_name_alt": "",
            "slug": "hunan",
            "_save": "保存",
        }
        with queries() as (primary, replica_queries):
            assert client.get(url).status_code == 200
            saved = client.post(url, form)
        assert saved.status_code == 302, saved.content.decode()[:2000]
        assert sql(primary) and not sql(replica_queries)

        replica.wait_for_replay()
        after = client.get("/provinces/hunan/")
        assert "湖南省（改名测试）" in after.content.decode()
        assert after["ETag"] != before["ETag"]

    def test_while_the_replica_lags_a_page_is_old_and_consistent(
        self, client, replica, tmp_path, settings
    ):
        first, second = make_uscc("43"), make_uscc("43")
        import_agencies(tmp_path, record(first, "长沙旧名资产管理有限公司"), name="one.jsonl")
        replica.wait_for_replay()
        old = client.get("/provinces/hunan/")
        assert "长沙旧名资产管理有限公司" in old.content.decode()

        replica.pause()
        # One import, two changes: a rename and a new agency.
        import_agencies(
            tmp_path,
            record(first, "长沙新名资产管理有限公司"),
            record(second, "长沙新增资产管理有限公司"),
            name="two.jsonl",
        )
        replica.wait_for_receipt()
        lagging = client.get("/provinces/hunan/")
        text = lagging.content.decode()
        # The page as it was before the import, under the ETag it had then.
        assert "长沙旧名资产管理有限公司" in text
        assert "长沙新名资产管理有限公司" not in text and "长沙新增资产管理有限公司" not in text
        assert lagging["ETag"] == old["ETag"]
        revalidated = client.get("/provinces/hunan/", headers={"if-none-match": old["ETag"]})
        assert revalidated.status_code == 304
        settings.PORTAL_REPLICA_MAX_LAG = 0
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["replication:replica1"].startswith("lagging: ")
        assert ready.json()["replication_lag_seconds"]["replica1"] > 0

        replica.resume()
        replica.wait_for_replay()
        caught_up = client.get("/provinces/hunan/")
        text = caught_up.content.decode()
        # The whole import at once, under a new ETag.
        assert "长沙新名资产管理有限公司" in text and "长沙新增资产管理有限公司" in text
        assert "长沙旧名资产管理有限公司" not in text
        assert caught_up["ETag"] != old["ETag"]
        settings.PORTAL_REPLICA_MAX_LAG = 30
        ready = client.get("/readyz").json()
        assert ready["status"] == "ok", ready
        assert ready["checks"]["replication:replica1"] == "ok"

    def test_one_request_reads_one_snapshot(self, replica, tmp_path):
        uscc = make_uscc("43")
        import_agencies(tmp_path, record(uscc, "长沙快照旧名资产管理有限公司"), name="one.jsonl")
        replica.wait_for_replay()
        replica.pause()
        import_agencies(tmp_path, record(uscc, "长沙快照新名资产管理有限公司"), name="two.jsonl")
        replica.wait_for_receipt()
        seen = {}

        def page(request):
            seen["version"] = current_version()
            # The replica applies the import between two reads of one page.
            replica.resume()
            replica.wait_for_replay()
            seen["name"] = Agency.objects.get(uscc=uscc).name
            seen["version again"] = current_version()
            return HttpResponse()

        with queries() as (primary, replica_queries):
            ReplicaReadsMiddleware(page)(RequestFactory().get("/provinces/hunan/"))
        assert sql(primary) == [] and sql(replica_queries)
        # Still the moment the request started: old name, old version.
        assert seen["name"] == "长沙快照旧名资产管理有限公司"
        assert seen["version again"] == seen["version"]
        first = dict(seen)
        # The next request starts from the replayed import.
        ReplicaReadsMiddleware(page)(RequestFactory().get("/provinces/hunan/"))
        assert seen["name"] == "长沙快照新名资产管理有限公司"
        assert seen["version"] == seen["version again"] > first["version"]

    def test_a_replica_that_does_not_answer_is_skipped(
        self, client, replica, tmp_path, monkeypatch
    ):
        uscc = make_uscc("43")
        import_agencies(tmp_path, record(uscc, "长沙备用资产管理有限公司"))
        replica.wait_for_replay()
        dead = connections["replica1"]
        dead.close()
        # Port 9 (discard): nothing listens there, so connecting is refused.
        monkeypatch.setitem(dead.settings_dict, "PORT", 9)
        with CaptureQueriesContext(connections["default"]) as primary:
            response = client.get(f"/agencies/{uscc}/")
        assert response.status_code == 200
        assert "长沙备用资产管理有限公司" in response.content.decode()
        assert primary.captured_queries
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["database:replica1"].startswith("OperationalError")
        assert ready.json()["checks"]["database:default"] == "ok"
        dead.close()
