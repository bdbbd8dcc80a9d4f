"""The staff admin, the only place besides the import commands where data changes."""

import pytest

from agencies.enums import NameKind
from tests.factories import add_name, add_phone, make_agency

pytestmark = pytest.mark.django_db


def test_staff_can_browse_and_open_an_agency(admin_client):
    agency = make_agency("长沙示例资产管理有限公司")
    add_phone(agency, "13900001234")
    add_name(agency, "示例法务部", NameKind.ALIAS)
    listing = admin_client.get("/admin/agencies/agency/")
    assert listing.status_code == 200 and agency.name in listing.content.decode()
    page = admin_client.get(f"/admin/agencies/agency/{agency.pk}/change/")
    assert page.status_code == 200
    assert "示例法务部" in page.content.decode()
    found = admin_client.get("/admin/agencies/agency/?q=长沙")
    assert found.status_code == 200 and agency.name in found.content.decode()


def test_articles_are_read_only_in_the_admin(admin_client):
    listing = admin_client.get("/admin/articles/article/")
    assert (
        listing.status_code == 200
        and "/admin/articles/article/add/" not in listing.content.decode()
    )
    assert admin_client.get("/admin/articles/article/add/").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/admin/agencies/agency/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
