"""The sample directory: big enough to show every page, and unmistakably fictitious."""

import re

import pytest
from django.core.management import call_command
from django.db.models import Count

from agencies import uscc
from agencies.enums import PhoneKind
from agencies.models import Agency, AgencyName, AgencyPhone, Client, Phone, RegulatoryAction
from agencies.sample import generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample_loaded():
    call_command("load_sample", verbosity=0)


def test_generation_is_deterministic_with_unique_names():
    records = generate()
    assert records == generate()
    names = [record["name"] for record in records]
    assert len(set(names)) == len(names)


def test_sample_covers_every_province_and_is_densest_in_hunan(sample_loaded):
    assert Agency.objects.count() >= 300
    per_province = dict(
        Agency.objects.values_list("province").annotate(n=Count("id")).values_list("province", "n")
    )
    assert len(per_province) == 34
    assert max(per_province, key=per_province.get) == "43"


def test_every_record_reads_as_fictitious(sample_loaded):
    assert not Agency.objects.filter(is_sample=False).exists()
    for agency in Agency.objects.all():
        assert "示例" in agency.name
        assert uscc.is_valid(agency.uscc)
    for name in AgencyName.objects.values_list("name", flat=True):
        assert "示例" in name


def test_sample_numbers_follow_artificial_patterns(sample_loaded):
    kinds = set(Phone.objects.values_list("kind", flat=True))
    assert {
        PhoneKind.MOBILE,
        PhoneKind.LANDLINE,
        PhoneKind.TOLL_FREE,
        PhoneKind.SERVICE,
        PhoneKind.FOREIGN,
    } <= kinds
    for key, kind in Phone.objects.values_list("key", "kind"):
        if kind == PhoneKind.MOBILE:
            assert key[3:7] == "0000", key
        elif kind == PhoneKind.LANDLINE:
            assert re.search(r"0000\d{4}$", key), key
        elif kind == PhoneKind.FOREIGN:
            assert re.fullmatch(r"\+1\d{3}55501\d\d", key), key


def test_sample_has_every_kind_of_fact(sample_loaded):
    assert AgencyName.objects.filter(kind="former").exists()
    assert AgencyName.objects.filter(kind="alias").exists()
    assert Client.objects.exists()
    assert RegulatoryAction.objects.values("kind").distinct().count() == 3
    shared = Phone.objects.annotate(n=Count("agency_links")).filter(n__gt=1)
    assert shared.exists(), "some numbers should be shared by several companies"
    assert not AgencyPhone.objects.exclude(source__contains="示例").exists()


def test_loading_twice_changes_nothing(sample_loaded):
    before = Agency.objects.count(), AgencyPhone.objects.count(), AgencyName.objects.count()
    stamps = dict(Agency.objects.values_list("uscc", "updated_at"))
    call_command("load_sample", verbosity=0)
    after = Agency.objects.count(), AgencyPhone.objects.count(), AgencyName.objects.count()
    assert before == after
    assert stamps == dict(Agency.objects.values_list("uscc", "updated_at"))


def test_remove_deletes_only_sample_records(sample_loaded):
    from tests.factories import make_agency

    real = make_agency("某真实名称有限公司")
    call_command("load_sample", "--remove", verbosity=0)
    assert list(Agency.objects.all()) == [real]
