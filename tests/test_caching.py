"""HTTP caching keyed by the data version: ETags, 304s, the page cache, and never stale."""

import pytest
from django.core.management import call_command

from portal.models import current_version
from tests.factories import make_agency, make_uscc

pytestmark = pytest.mark.django_db


def test_public_answers_carry_an_etag_and_may_be_kept(client, settings):
    settings.PORTAL_CACHE_MAX_AGE = 123
    for url in ("/", "/provinces/hunan/", "/api/v1/agencies", "/about/privacy/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["ETag"].startswith('"') and response["Cache-Control"] == (
            "public, max-age=123"
        )
        assert "Accept-Encoding" in response["Vary"]


@pytest.mark.parametrize("url", ["/healthz", "/readyz"])
def test_probes_are_never_kept(client, url):
    response = client.get(url)
    assert "ETag" not in response and "public" not in response.get("Cache-Control", "")


def test_admin_is_never_kept(admin_client, settings):
    response = admin_client.get(f"/{settings.PORTAL_ADMIN_PATH}")
    assert "ETag" not in response and "public" not in response.get("Cache-Control", "")


def test_a_matching_etag_is_a_304_without_rendering(client, django_assert_num_queries):
    make_agency("长沙示例资产管理有限公司")
    etag = client.get("/provinces/hunan/")["ETag"]
    # One query: the data version. No page, no counts.
    with django_assert_num_queries(1):
        response = client.get("/provinces/hunan/", headers={"if-none-match": etag})
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == etag
    # The weak form GZip hands out matches too; another URL's tag does not.
    assert (
        client.get("/provinces/hunan/", headers={"if-none-match": "W/" + etag}).status_code == 304
    )
    assert client.get("/provinces/", headers={"if-none-match": etag}).status_code == 200


def test_every_change_moves_the_version_and_the_etag(client):
    agency = make_agency("长沙示例资产管理有限公司")
    before_version = current_version()
    before = client.get("/provinces/hunan/")["ETag"]
    agency.name = "长沙示例新名资产管理有限公司"
    agency.save()
    assert current_version() == before_version + 1
    after = client.get("/provinces/hunan/", headers={"if-none-match": before})
    assert after.status_code == 200 and after["ETag"] != before
    assert "长沙示例新名资产管理有限公司" in after.content.decode()


def test_the_page_cache_serves_repeat_views_and_never_a_stale_page(
    client, settings, django_assert_num_queries
):
    settings.PORTAL_PAGE_CACHE = True
    agency = make_agency("长沙示例资产管理有限公司")
    first = client.get("/provinces/hunan/")
    with django_assert_num_queries(1):  # the data version; the page comes from the cache
        again = client.get("/provinces/hunan/")
    assert again.content == first.content and again["ETag"] == first["ETag"]
    agency.name = "长沙示例改名资产管理有限公司"
    agency.save()
    fresh = client.get("/provinces/hunan/").content.decode()
    assert "长沙示例改名资产管理有限公司" in fresh


def test_cached_pages_are_kept_gzipped_and_served_to_every_client(client, settings):
    import gzip

    settings.PORTAL_PAGE_CACHE = True
    make_agency("长沙示例资产管理有限公司")
    plain = client.get("/provinces/hunan/").content  # rendered, stored compressed
    for _ in range(2):  # the first and a repeat hit
        zipped = client.get("/provinces/hunan/", headers={"accept-encoding": "gzip, br"})
        assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
        assert gzip.decompress(zipped.content) == plain
        assert int(zipped["Content-Length"]) == len(zipped.content)
        assert zipped["ETag"].startswith("W/")
        again = client.get("/provinces/hunan/")  # a client that does not take gzip
        assert again.content == plain and "Content-Encoding" not in again
    # Either form of the tag is the same answer.
    etag = zipped["ETag"]
    assert client.get("/provinces/hunan/", headers={"if-none-match": etag}).status_code == 304
    response = client.get("/provinces/hunan/", headers={"if-none-match": etag.removeprefix("W/")})
    assert response.status_code == 304


def test_a_dead_cache_means_rendering_not_failing(client, settings, dead_cache):
    settings.PORTAL_PAGE_CACHE = True
    make_agency("长沙示例资产管理有限公司")
    with dead_cache:
        for _ in range(2):
            response = client.get("/provinces/hunan/")
            assert response.status_code == 200
            assert "长沙示例资产管理有限公司" in response.content.decode()


def test_errors_and_redirects_are_not_stored(client, settings):
    settings.PORTAL_PAGE_CACHE = True
    assert client.get("/provinces/atlantis/").status_code == 404
    assert "ETag" not in client.get("/provinces/atlantis/")
    assert client.get("/search/", {"q": "13907310000"}).status_code == 302


def test_an_import_moves_the_version_and_the_etag(client, tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(
        f'{{"uscc": "{make_uscc("43")}", "name": "长沙导入资产管理有限公司", "province": "43"}}\n',
        encoding="utf-8",
    )
    before_version = current_version()
    before = client.get("/provinces/hunan/")["ETag"]
    call_command("import_agencies", str(path), verbosity=0)
    assert current_version() > before_version
    after = client.get("/provinces/hunan/", headers={"if-none-match": before})
    assert after.status_code == 200 and after["ETag"] != before
    assert "长沙导入资产管理有限公司" in after.content.decode()


def test_a_new_release_retires_cached_pages_and_etags(client, settings, monkeypatch):
    """After a deploy the new code renders pages: neither the page cache nor a
    304 may hand out what the old code made (portal.release)."""
    from portal import release

    settings.PORTAL_PAGE_CACHE = True
    make_agency("长沙示例资产管理有限公司")
    old = client.get("/provinces/hunan/")
    monkeypatch.setattr(release, "current", lambda: "a-new-release")
    new = client.get("/provinces/hunan/", headers={"if-none-match": old["ETag"]})
    assert new.status_code == 200 and new["ETag"] != old["ETag"]


def test_the_release_is_a_digest_of_the_code(settings, tmp_path):
    from portal import release

    for folder in ("portal", "templates"):
        (tmp_path / folder).mkdir()
    (tmp_path / "portal" / "views.py").write_text("x = 1\n")
    (tmp_path / "templates" / "base.html").write_text("<p>one</p>\n")
    settings.BASE_DIR, settings.STATIC_ROOT = tmp_path, tmp_path / "static"
    release.current.cache_clear()
    try:
        first = release.current()
        assert release.current() == first and len(first) == 12
        (tmp_path / "templates" / "base.html").write_text("<p>two</p>\n")
        release.current.cache_clear()
        assert release.current() != first
    finally:
        release.current.cache_clear()
