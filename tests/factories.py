"""Small factories for edge cases. Deterministic: codes come from a counter."""

import itertools
from datetime import date

from agencies import uscc
from agencies.enums import NameKind, Status
from agencies.models import Agency, AgencyName, AgencyPhone, Client, Phone, Province
from agencies.phones import normalize

_counter = itertools.count(1)


def make_uscc(province_code: str = "43", serial: int | None = None) -> str:
    """A valid code registered in `province_code` (chars 3–4)."""
    n = next(_counter) if serial is None else serial
    body = f"91{province_code}0100TE{n:07d}"[:17]
    return uscc.with_check_digit(body)


def make_agency(name: str = "示例资产管理有限公司", province_code: str = "43", **fields) -> Agency:
    fields.setdefault("uscc", make_uscc(province_code))
    fields.setdefault("status", Status.EXISTING)
    fields.setdefault("city", "长沙市" if province_code == "43" else "")
    fields.setdefault("established_on", date(2018, 5, 1))
    fields.setdefault("source", "测试来源")
    province = Province.objects.get(code=province_code)
    return Agency.objects.create(name=name, province=province, **fields)


def add_phone(agency: Agency, raw: str, **fields) -> AgencyPhone:
    parsed = normalize(raw)
    assert parsed is not None, raw
    phone, _ = Phone.objects.get_or_create(key=parsed.key, defaults={"kind": parsed.kind})
    fields.setdefault("label", "年报联系电话")
    fields.setdefault("source", "测试来源")
    return AgencyPhone.objects.create(agency=agency, phone=phone, number_as_reported=raw, **fields)


def add_name(agency: Agency, name: str, kind: str = NameKind.FORMER) -> AgencyName:
    return AgencyName.objects.create(agency=agency, name=name, kind=kind)


def add_client(agency: Agency, name: str, **fields) -> Client:
    return Client.objects.create(agency=agency, name=name, **fields)
