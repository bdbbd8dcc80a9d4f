"""The API's fast answers and the request path's early returns (issue 22).

The record and number answers are written as dicts straight from database rows
(agencies.api.record_answer, number_answer) instead of through their response
schemas: here each is held to what its schema makes of the same record — the
JSON ninja wrote before, key order included — so the two cannot drift apart.
The document itself is still the schemas' (tests/test_api_schema.py).
Sessions, users and messages run for the staff admin only (portal.middleware).
"""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies import api as agencies_api
from agencies import phones
from agencies.enums import ActionKind, ChangeField, ChangeVia
from agencies.models import (
    Agency,
    AgencyChange,
    AgencyPhone,
    RegulatoryAction,
    SuppressedPhone,
    agency_by_uscc,
)
from tests.factories import add_client


def as_ninja_wrote_it(model, obj, request) -> str:
    """`obj` validated by `model` and rendered as ninja renders a response schema."""
    dumped = model.model_validate(obj).model_dump(context={"request": request})
    return json.dumps(dumped, cls=DjangoJSONEncoder, ensure_ascii=False)


def fast(body: dict) -> str:
    """The fast answer, re-encoded the same way (spacing aside, the bytes compare)."""
    return json.dumps(json.loads(agencies_api.json_answer(body).content), ensure_ascii=False)


class Record:
    """An agency with its record lists as attributes, as AgencyDetail reads it."""

    def __init__(self, agency: Agency):
        self._agency = agency
        self.__dict__.update(agency.record_lists(all_changes=True))

    def __getattr__(self, name):
        return getattr(self._agency, name)


@pytest.fixture
def full_record(directory):
    """An agency with something in every list, and values of every type."""
    agency = directory["xinda"]
    Agency.objects.filter(pk=agency.pk).update(
        registered_capital_wan=Decimal("1000.5"), established_on=date(2018, 5, 1)
    )
    add_client(agency, "某某银行", since=date(2020, 1, 1), source_url="https://example.org/c")
    add_client(agency, "另一家银行", until=date(2022, 6, 30))
    for decided_on in (date(2023, 5, 6), None, date(2021, 1, 2)):
        RegulatoryAction.objects.create(
            agency=agency,
            kind=ActionKind.PENALTY,
            authority="长沙市市场监督管理局",
            decided_on=decided_on,
            document_number="长市监罚〔2023〕1号",
            summary="违规催收",
        )
    for minute, (field, old, new) in enumerate(
        [(ChangeField.NAME, "旧名", "新名"), (ChangeField.PHONES, "", "13907310000")]
    ):
        AgencyChange.objects.create(
            agency=agency,
            field=field,
            old_value=old,
            new_value=new,
            changed_at=datetime(2024, 6, 1, 8, minute, 3, 123456, tzinfo=UTC),
            via=ChangeVia.IMPORT,
            source="测试来源",
            retrieved_on=date(2024, 6, 1),
        )
    return Agency.objects.get(pk=agency.pk)


def test_record_answer_is_what_the_schema_writes(rf, directory, full_record):
    request = rf.get("/api/v1/agencies/x")
    for agency in [full_record, *directory.values()]:
        agency = agency_by_uscc(agency.uscc)
        expected = as_ninja_wrote_it(agencies_api.AgencyDetail, Record(agency), request)
        assert fast(agencies_api.record_answer(request, agency.uscc)) == expected
    assert agencies_api.record_answer(request, "91430100MA4L0P5U37") is None


def test_record_lists_come_in_the_pages_order(rf, full_record):
    body = agencies_api.record_answer(rf.get("/"), full_record.uscc)
    lists = full_record.record_lists(all_changes=True)
    assert [a["decided_on"] for a in body["actions"]] == [
        None if a.decided_on is None else a.decided_on.isoformat() for a in lists["actions"]
    ]
    assert [c["name"] for c in body["clients"]] == [c.name for c in lists["clients"]]
    assert [p["number"] for p in body["phones"]] == [p.phone.key for p in lists["phone_links"]]
    assert [h["new"] for h in body["history"]] == [c.new_value for c in lists["changes"]]
    # Times as the API has always written them: milliseconds, Z for UTC.
    assert body["history"][0]["changed_at"] == "2024-06-01T08:01:03.123Z"


def number_as_before(number: phones.Phone, request) -> str:
    """PhoneDetail as phone_detail() built it from model instances."""
    suppressed = SuppressedPhone.objects.covers(number.key)
    links = [] if suppressed else list(AgencyPhone.objects.for_number(number.key))
    for link in links:
        link.agency.link = link
    body = {
        "display": number.display,
        "key": number.key,
        "kind": number.kind,
        "kind_label": number.kind_label,
        "region": "" if suppressed else number.region,
        "carrier": "" if suppressed else number.carrier,
        "suppressed": suppressed,
        "shared": len({link.agency_id for link in links}) > 1,
        "count": len(links),
        "agencies": [link.agency for link in links],
    }
    return as_ninja_wrote_it(agencies_api.PhoneDetail, body, request)


@pytest.mark.parametrize("raw", ["400-800-1234", "0731-88888888", "95511", "13800000000"])
def test_number_answer_is_what_the_schema_writes(rf, directory, raw):
    request = rf.get("/api/v1/phones/x")
    number = phones.normalize(raw)
    assert fast(agencies_api.number_answer(request, number)) == number_as_before(number, request)


def test_a_suppressed_number_says_nothing(rf, db):
    number = phones.normalize("13907310000")
    SuppressedPhone.objects.create(key=number.key, reason="本人要求", requested_by="测试")
    request = rf.get("/")
    body = agencies_api.number_answer(request, number)
    assert body["suppressed"] is True and body["region"] == "" and body["agencies"] == []
    assert fast(body) == number_as_before(number, request)


def test_record_and_number_read_in_few_queries(client, directory):
    agency = directory["xinda"]
    # The data version, the agency, its five lists.
    with CaptureQueriesContext(connection) as record:
        assert client.get(f"/api/v1/agencies/{agency.uscc}").status_code == 200
    assert len(record) == 7
    # The data version and the number's agencies: a number with agencies is not
    # suppressed (suppressing deletes its links), so no look-up of the list.
    with CaptureQueriesContext(connection) as number:
        assert client.get("/api/v1/phones/0731-88888888").status_code == 200
    assert len(number) == 2
    with CaptureQueriesContext(connection) as unknown:
        assert client.get("/api/v1/phones/13800000000").json()["count"] == 0
    assert len(unknown) == 3


# --- The request path ---------------------------------------------------------------------------


def test_public_requests_skip_the_admins_middleware(client, directory):
    response = client.get("/api/v1/agencies/" + directory["xinda"].uscc)
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "user")
    assert not hasattr(request, "_messages") and response.cookies == {}
    assert "Cookie" not in response.get("Vary", "")


def test_the_admin_still_has_sessions_users_and_messages(client, settings, admin_user):
    response = client.get("/" + settings.PORTAL_ADMIN_PATH)
    assert response.status_code == 302  # to its login page: a user was looked for
    client.force_login(admin_user)
    response = client.get("/" + settings.PORTAL_ADMIN_PATH)
    assert response.status_code == 200
    request = response.wsgi_request
    assert request.user.is_staff and hasattr(request, "session") and hasattr(request, "_messages")


def test_private_paths_in_every_language(rf):
    from portal.middleware import is_private

    for path in ("/check/", "/en/check/", "/zh-hant/check/", "/api/v1/check"):
        assert is_private(rf.get(path)), path
    for path in ("/", "/checks/", "/api/v1/checker", "/en/search/", "/x/check/"):
        assert not is_private(rf.get(path)), path


def test_rate_limit_counts_from_the_first_request(client, db, settings):
    settings.PORTAL_RATE_LIMITS_ENABLED = True
    settings.PORTAL_RATE_LIMITS = {"api": ("/api/", "3/60", "")}
    from portal import ratelimit

    limit = ratelimit.configured_limits()[0]
    counts = [ratelimit._count(limit, "client")[0] for _ in range(4)]
    assert counts == [1, 2, 3, 4]
