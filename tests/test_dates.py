"""Every date on the site is written one way: 2026年3月5日, in <time datetime>."""

import datetime

import pytest
from django.utils import timezone

from portal.templatetags.portal_tags import day


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2026, 3, 5),
        "2026-03-05",
        # 2026-03-04 20:00 UTC is already 5 March in China.
        datetime.datetime(2026, 3, 4, 20, 0, tzinfo=datetime.UTC),
    ],
)
def test_dates_dates_from_files_and_times_read_the_same(value):
    with timezone.override("Asia/Shanghai"):
        assert day(value) == '<time datetime="2026-03-05">2026年3月5日</time>'


def test_nothing_stays_nothing_and_text_stays_text():
    assert day(None) == "" and day("") == ""
    assert day("2026年春") == "2026年春"
