"""Serving as production does: health endpoints, headers on every response,
compression, and the deploy checks that only this project knows."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

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


@pytest.mark.parametrize("url", ["/", "/api/v1/agencies"])
def test_html_and_json_are_compressed_when_the_client_accepts_it(client, url):
    make_agency("长沙示例资产管理有限公司")
    plain = client.get(url)
    packed = client.get(url, headers={"accept-encoding": "gzip, br"})
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert len(packed.content) < len(plain.content)


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
    }


def test_readyz_names_a_dead_cache(client):
    # A port where nothing listens: the cache is configured but unreachable.
    dead_redis = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    with override_settings(CACHES=dead_redis):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database:default"] == "ok"
    assert body["checks"]["cache"] != "ok"


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
