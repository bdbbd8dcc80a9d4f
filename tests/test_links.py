"""Every link on the site's pages leads somewhere, in every language."""

import re
from html import unescape

import pytest
from django.core.management import call_command

from agencies.models import Agency

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="(/[^"#]*)')


@pytest.fixture
def demo():
    call_command("load_sample", verbosity=0)
    call_command("sync_articles", verbosity=0)


@pytest.mark.parametrize("prefix", ["", "/zh-hant", "/en"])
def test_no_internal_link_is_broken(client, demo, prefix):
    agency = Agency.objects.filter(province_id="43", phone_links__isnull=False).first()
    phone = agency.phone_links.first().phone
    pages = [
        "/",
        "/search/?q=示例",
        agency.get_absolute_url(),
        phone.get_absolute_url(),
        "/provinces/",
        "/provinces/hunan/",
        "/articles/",
        "/articles/verify-collection-agency/",
        "/about/data/",
        "/about/privacy/",
    ]
    links = set()
    for page in pages:
        response = client.get(prefix + page)
        assert response.status_code == 200, page
        links.update(unescape(href) for href in HREF.findall(response.content.decode()))
    broken = {}
    for link in sorted(links):
        if link.startswith("/static/"):
            continue
        status = client.get(link).status_code
        if status not in (200, 301, 302):
            broken[link] = status
    assert not broken
    assert len(links) > 50
