"""Rate limits per client on the requests that do work (off in the rest of the suite)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.PORTAL_RATE_LIMITS_ENABLED = True
    settings.PORTAL_RATE_LIMITS = {
        "search": ("/search/", "3/60", ""),
        "api": ("/api/", "2/60", ""),
        "login": (f"/{settings.PORTAL_ADMIN_PATH}login/", "2/600", "POST"),
    }
    return settings


def test_search_over_the_limit_gets_a_friendly_429(client, limits):
    for _ in range(3):
        assert client.get("/search/", {"q": "长沙"}).status_code == 200
    refused = client.get("/search/", {"q": "长沙"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    html = refused.content.decode()
    assert "请求太频繁" in html and f"请等 {refused['Retry-After']} 秒再试" in html
    # Pages that do no per-request work are not limited, and nor is anyone else.
    assert client.get("/").status_code == 200
    assert client.get("/search/", {"q": "长沙"}, REMOTE_ADDR="198.51.100.7").status_code == 200
    # The same page in another language is the same page: no way around the limit.
    assert client.get("/zh-hant/search/", {"q": "长沙"}).status_code == 429


def test_api_over_the_limit_gets_the_json_envelope(client, limits):
    for _ in range(2):
        assert client.get("/api/v1/search", {"q": "长沙"}).status_code == 200
    refused = client.get("/api/v1/search", {"q": "长沙"})
    assert refused.status_code == 429 and refused["Retry-After"]
    assert refused.json() == {
        "error": {
            "status": 429,
            "message": f"请求太频繁，请 {refused['Retry-After']} 秒后再试。",
            "parameter": None,
        }
    }


def test_admin_login_attempts_are_limited(client, limits):
    url = f"/{limits.PORTAL_ADMIN_PATH}login/"
    for _ in range(2):
        assert client.post(url, {"username": "x", "password": "y"}).status_code == 200
    assert client.post(url, {"username": "x", "password": "y"}).status_code == 429
    assert client.get(url).status_code == 200  # reading the form is not an attempt


def test_behind_a_proxy_the_forwarded_client_counts(client, limits):
    limits.PORTAL_TRUSTED_PROXIES = 1
    for _ in range(3):
        client.get("/search/", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client.get("/search/", HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    # A client can't dodge by writing its own X-Forwarded-For: the proxy appends.
    spoofed = client.get("/search/", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.1")
    assert spoofed.status_code == 429
    assert client.get("/search/", HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 200


def test_a_dead_cache_lets_requests_through(client, limits, dead_cache):
    with dead_cache:
        for _ in range(5):
            assert client.get("/search/", {"q": "长沙"}).status_code == 200


def test_limits_are_off_unless_configured(client):
    for _ in range(40):
        assert client.get("/search/", {"q": "长沙"}).status_code == 200
