"""Corrections and removals (issue 15, part 3): suppress_phone, unsuppress_phone, the admin."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agencies.models import AgencyChange, AgencyPhone, Phone, SuppressedPhone
from tests.factories import add_phone, make_agency
from tests.test_import import run_import, write_jsonl

pytestmark = pytest.mark.django_db

NEUTRAL = "此号码应号码所有人要求不予显示"
NUMBER, KEY = "0731-84521234", "073184521234"


def export() -> str:
    out = io.StringIO()
    call_command("export_agencies", stdout=out)
    return out.getvalue()


def suppress(number=NUMBER, reason="本人 2026年12月1日 来信要求", by="值班编辑") -> str:
    out = io.StringIO()
    call_command("suppress_phone", number, "--reason", reason, "--by", by, stdout=out)
    return out.getvalue()


@pytest.fixture
def agency():
    agency = make_agency("长沙衡信资产管理有限公司")
    add_phone(agency, NUMBER)
    add_phone(agency, "13907312468")
    return agency


def test_a_suppressed_number_is_gone_from_every_page_and_answer(client, agency):
    assert "1 家机构" in suppress("0731 8452 1234")  # any way of writing it

    record = client.get(f"/agencies/{agency.uscc}/").content.decode()
    assert "84521234" not in record and "13907312468" in record

    page = client.get(f"/phone/{KEY}/").content.decode()
    assert NEUTRAL in page and agency.name not in page

    search = client.get("/search/", {"q": NUMBER}, follow=True).content.decode()
    assert NEUTRAL in search and agency.name not in search

    answer = client.get(f"/api/v1/phones/{KEY}").json()
    assert answer["suppressed"] is True
    assert answer["agencies"] == [] and answer["count"] == 0 and answer["region"] == ""

    detail = client.get(f"/api/v1/agencies/{agency.uscc}").json()
    assert [p["number"] for p in detail["phones"]] == ["13907312468"]

    assert "84521234" not in export()
    assert not Phone.objects.filter(key=KEY).exists()


def test_the_message_check_names_no_agency_for_it(client, agency):
    suppress()
    answer = client.post(
        "/api/v1/check", {"text": f"我是衡信的，请回电 {NUMBER}"}, content_type="application/json"
    ).json()
    phone = next(p for p in answer["phones"] if p["key"] == KEY)
    assert phone["agencies"] == []


def test_the_list_keeps_who_when_and_why(agency):
    suppress()
    entry = SuppressedPhone.objects.get()
    assert (entry.key, entry.reason, entry.requested_by) == (
        KEY,
        "本人 2026年12月1日 来信要求",
        "值班编辑",
    )
    assert entry.created_at is not None


def test_suppression_survives_a_reimport(agency, tmp_path):
    suppress()
    record = {"uscc": agency.uscc, "name": agency.name, "phones": [NUMBER, "13907312468"]}
    out, _ = run_import(write_jsonl(tmp_path / "again.jsonl", record))
    assert "按屏蔽名单略过号码 1 处" in out
    assert not AgencyPhone.objects.filter(phone__key=KEY).exists()
    # Nor does a new agency bring it in.
    other = {"uscc": "91430100TE00090018", "name": "另一家公司", "source": "甲", "phones": [NUMBER]}
    run_import(write_jsonl(tmp_path / "other.jsonl", other))
    assert not Phone.objects.filter(key=KEY).exists()


def test_history_entries_naming_the_number_go_with_it(agency, tmp_path, client):
    record = {"uscc": agency.uscc, "name": agency.name, "phones": ["0731-84520000"]}
    run_import(write_jsonl(tmp_path / "add.jsonl", record))
    assert AgencyChange.objects.filter(new_value="073184520000").exists()
    suppress("0731-84520000")
    assert not AgencyChange.objects.filter(new_value="073184520000").exists()
    assert "84520000" not in client.get(f"/agencies/{agency.uscc}/").content.decode()
    # An old export that still has the entry does not bring it back either.
    exported = {
        "uscc": agency.uscc,
        "name": agency.name,
        "history": [
            {
                "field": "phones",
                "new": "073184520000",
                "changed_at": "2026-12-01T00:00:00+00:00",
                "via": "import",
            }
        ],
    }
    run_import(write_jsonl(tmp_path / "old.jsonl", exported))
    assert not AgencyChange.objects.filter(new_value="073184520000").exists()


def test_unsuppress_puts_back_what_was_shown(agency, client):
    link = AgencyPhone.objects.get(phone__key=KEY)
    suppress()
    out = io.StringIO()
    call_command("unsuppress_phone", NUMBER, stdout=out)
    assert "恢复到 1 家机构" in out.getvalue()
    back = AgencyPhone.objects.get(phone__key=KEY)
    assert (back.agency_id, back.number_as_reported, back.label, back.source) == (
        link.agency_id,
        link.number_as_reported,
        link.label,
        link.source,
    )
    assert NEUTRAL not in client.get(f"/phone/{KEY}/").content.decode()
    assert not SuppressedPhone.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["suppress_phone", "转分机", "--reason", "x", "--by", "y"], "不是一个能识别的电话号码"),
        (["suppress_phone", NUMBER, "--reason", "  ", "--by", "y"], "请写明原因"),
        (["suppress_phone", NUMBER], "请写明原因"),
        (["unsuppress_phone", NUMBER], "不在屏蔽名单上"),
    ],
)
def test_bad_requests_get_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        call_command(*args, stdout=io.StringIO())


def test_suppressing_twice_is_refused(agency):
    suppress()
    with pytest.raises(CommandError, match="已在屏蔽名单上"):
        suppress()


# --- The admin ---------------------------------------------------------------------------------


def test_staff_can_suppress_and_lift_in_the_admin(admin_client, agency):
    response = admin_client.post(
        "/admin/agencies/suppressedphone/add/", {"number": NUMBER, "reason": "电话来访要求"}
    )
    assert response.status_code == 302
    entry = SuppressedPhone.objects.get()
    assert entry.requested_by == "admin" and entry.reason == "电话来访要求"
    assert not AgencyPhone.objects.filter(phone__key=KEY).exists()
    listing = admin_client.get("/admin/agencies/suppressedphone/").content.decode()
    assert KEY in listing and "电话来访要求" in listing

    again = admin_client.post(
        "/admin/agencies/suppressedphone/add/", {"number": NUMBER, "reason": "重复"}
    )
    assert "已在屏蔽名单上" in again.content.decode()

    admin_client.post(f"/admin/agencies/suppressedphone/{entry.pk}/delete/", {"post": "yes"})
    assert not SuppressedPhone.objects.exists()
    assert AgencyPhone.objects.filter(phone__key=KEY).exists()


def test_a_suppressed_number_cannot_be_added_back_in_the_admin(admin_client, agency):
    suppress()
    response = admin_client.post("/admin/agencies/phone/add/", {"key": KEY, "kind": "landline"})
    assert "这个号码在屏蔽名单上" in response.content.decode()
    assert not Phone.objects.filter(key=KEY).exists()


def _change_form(agency, **changes) -> dict:
    """The admin change form's POST for `agency`, as a browser submits it, with changes."""
    data = {
        "uscc": agency.uscc,
        "name": agency.name,
        "entity_type": agency.entity_type,
        "legal_representative": agency.legal_representative,
        "registered_capital": agency.registered_capital,
        "registered_capital_wan": "",
        "established_on": agency.established_on.isoformat() if agency.established_on else "",
        "status": agency.status,
        "registration_authority": agency.registration_authority,
        "address": agency.address,
        "province": agency.province_id,
        "city": agency.city,
        "business_scope": agency.business_scope,
        "source": agency.source,
        "source_url": agency.source_url,
        "retrieved_on": "",
        "change_note": "",
    }
    for prefix in ("names", "phone_links", "clients", "actions"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(changes)
    return data


def test_a_correction_in_the_admin_is_recorded_with_the_editors_note(admin_client, client):
    agency = make_agency("长沙衡信资产管理有限公司")
    url = f"/admin/agencies/agency/{agency.pk}/change/"
    note = "据该公司 2026年12月1日 来函及营业执照更正"
    data = _change_form(agency, name="湖南衡信资产管理有限公司", status="注销", change_note=note)
    data.update({"names-TOTAL_FORMS": "1", "names-0-name": "衡信法务", "names-0-kind": "alias"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]

    entries = {
        (c.field, c.old_value, c.new_value): c for c in AgencyChange.objects.filter(agency=agency)
    }
    assert set(entries) == {
        ("name", "长沙衡信资产管理有限公司", "湖南衡信资产管理有限公司"),
        ("status", "存续", "注销"),
        ("aliases", "", "衡信法务"),
    }
    for entry in entries.values():
        assert (entry.via, entry.source, entry.editor) == ("admin", note, "admin")

    page = client.get(f"/agencies/{agency.uscc}/").content.decode()
    assert f"人工更正：{note}" in page
    # The editor's account stays in the admin.
    assert "admin" not in page[page.index('id="history"') :].split("</section>")[0]
    assert "editor" not in json.dumps(client.get(f"/api/v1/agencies/{agency.uscc}").json())


def test_a_correction_without_a_note_is_refused(admin_client):
    agency = make_agency("长沙衡信资产管理有限公司")
    url = f"/admin/agencies/agency/{agency.pk}/change/"
    response = admin_client.post(url, _change_form(agency, name="别的名字"))
    assert response.status_code == 200
    assert "更正已有记录时必须填写更正说明" in response.content.decode()
    agency.refresh_from_db()
    assert agency.name == "长沙衡信资产管理有限公司"
    assert not AgencyChange.objects.exists()


def test_listing_a_number_nobody_imported_changes_the_data_version(client):
    from portal.models import current_version

    before = current_version()
    page = client.get(f"/phone/{KEY}/")
    assert NEUTRAL not in page.content.decode()
    suppress()
    assert current_version() > before  # cached copies and ETags of the page go stale
    assert NEUTRAL in client.get(f"/phone/{KEY}/").content.decode()
    call_command("unsuppress_phone", KEY, stdout=io.StringIO())
    assert NEUTRAL not in client.get(f"/phone/{KEY}/").content.decode()


def test_moving_a_name_from_former_to_alias_in_the_admin_is_recorded(admin_client):
    from agencies.models import AgencyName

    agency = make_agency("长沙衡信资产管理有限公司")
    name = AgencyName.objects.create(agency=agency, name="衡信法务部", kind="former")
    data = _change_form(agency, change_note="据该公司来函：这是对外名称，不是曾用名")
    data.update(
        {
            "names-TOTAL_FORMS": "1",
            "names-INITIAL_FORMS": "1",
            "names-0-id": str(name.pk),
            "names-0-agency": str(agency.pk),
            "names-0-name": "衡信法务部",
            "names-0-kind": "alias",
        }
    )
    response = admin_client.post(f"/admin/agencies/agency/{agency.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entries = set(AgencyChange.objects.values_list("field", "old_value", "new_value"))
    assert entries == {("former_names", "衡信法务部", ""), ("aliases", "", "衡信法务部")}
