"""/phone/<key>/: always answers for a real number, redirects other spellings, 404s the rest."""

import pytest

ADVICE = [
    "/articles/harassment-what-to-do/",
    "/articles/collector-conduct-rules/",
    "/articles/verify-collection-agency/",
    "/articles/impersonation-court-police-lawyer/",
]


def test_known_mobile_number(client, directory):
    response = client.get("/phone/13907310000/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "139 0731 0000" in text
    assert "手机" in text and "湖南" in text and "中国移动" in text
    assert "携号转网" in text and "伪造" in text
    assert directory["xinda"].name in text
    assert "2023年度报告" in text and "2024年3月1日" in text
    for url in ADVICE:
        assert url in text
    assert not response.cookies


def test_the_agencies_come_before_the_kind_region_and_carrier(client, directory):
    html = client.get("/phone/13907310000/").content.decode()
    main = html[html.index("<main") :]
    assert main.index(directory["xinda"].name) < main.index("号码类型") < main.index("携号转网")


def test_an_unknown_number_says_so_before_the_kind_region_and_carrier(client, db):
    html = client.get("/phone/13800000000/").content.decode()
    main = html[html.index("<main") :]
    said = main.index("本站名录中没有机构登记或公布过这个号码")
    # What it does not mean, in the same place.
    assert said < main.index("没有收录不代表这个号码安全") < main.index("号码类型")


def test_shared_number_says_so(client, directory):
    text = client.get("/phone/4008001234/").content.decode()
    assert directory["huarong"].name in text and directory["xinda_sh"].name in text
    assert "这个号码与 2 家机构有关" in text


def test_unknown_number_still_answers(client, db):
    response = client.get("/phone/13800000000/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "138 0000 0000" in text
    assert "本站名录中没有机构登记或公布过这个号码" in text


def test_landline_region(client, db):
    text = client.get("/phone/073188888888/").content.decode()
    assert "0731-88888888" in text and "固定电话" in text and "长沙" in text


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("0731-88888888", "073188888888"),
        ("+8613907310000", "13907310000"),
        ("0086 139 0731 0000", "13907310000"),
        ("１３９０７３１００００", "13907310000"),
        ("400-800-1234", "4008001234"),
    ],
)
def test_other_spellings_redirect_permanently(client, db, written, key):
    response = client.get(f"/phone/{written}/")
    assert response.status_code == 301
    assert response["Location"] == f"/phone/{key}/"


@pytest.mark.parametrize("key", ["abc", "12", "长沙", "1" * 30, "%00"])
def test_not_a_number_is_404_in_chinese(client, db, key):
    response = client.get(f"/phone/{key}/")
    assert response.status_code == 404
    assert "不是一个能识别的电话号码" in response.content.decode()


def test_query_count_constant(build_directory, count_queries):
    build_directory()
    small = count_queries("/phone/4008001234/")
    for _ in range(4):
        build_directory()  # five times the agencies, all sharing the 400 number
    # The data version and the number's agencies (whether its owner asked us
    # not to show it only for a number without agencies: see below).
    assert count_queries("/phone/4008001234/") == small <= 4


def test_the_suppression_list_is_asked_only_for_a_number_without_agencies(client, directory):
    """Suppressing a number deletes its links, and neither the import nor the admin
    adds them back (agencies.suppression; tests/test_corrections.py): a number
    with agencies is not on the list, as the API also infers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url, asked in (("/phone/13907310000/", False), ("/phone/13900000000/", True)):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        sql = " ".join(query["sql"] for query in ctx.captured_queries)
        assert ("agencies_suppressedphone" in sql) is asked, url
