"""繁體中文: OpenCC's s2tw plus the site's phrase dictionary (portal/traditional_phrases.txt),
one conversion for pages, the UI catalogue, articles, rules and records."""

import io
import re

import opencc
import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from portal import i18n
from portal.i18n import read_phrases, to_traditional, traditional
from tests.factories import make_agency

ROOT = settings.BASE_DIR
CORPUS = ROOT / "tests" / "data" / "traditional_phrases.tsv"
CATALOGUE = ROOT / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"


def corpus() -> list[tuple[str, str]]:
    pairs = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            simplified, expected = line.split("\t")
            pairs.append((simplified, expected))
    return pairs


# --- the dictionary -----------------------------------------------------------------


def test_the_phrase_file_reads_and_keeps_the_site_standards():
    phrases = read_phrases()
    assert phrases["发卡"] == "發卡" and phrases["签"] == "簽"
    back = opencc.OpenCC("t2s")
    for simplified, converted in phrases.items():
        # A typo on either side shows: the Traditional form reads back as the phrase.
        assert back.convert(converted) == simplified, (simplified, converted)
        assert "裏" not in converted, simplified  # 裡 is the standard
    assert "里" not in traditional("这里、里面、心里、哪里")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("发卡\n", "expected a phrase and its Traditional form"),
        ("发卡 發卡 髮卡\n", "expected a phrase and its Traditional form"),
        ("发卡 發卡銀\n", "differ in length"),
        ("发卡 發卡\n# a comment\n发卡 發卡\n", ":3: 发卡 is listed twice"),
    ],
)
def test_a_malformed_phrase_file_names_the_line(tmp_path, text, problem):
    path = tmp_path / "phrases.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        read_phrases(path)


def test_comments_and_blank_lines_are_not_phrases(tmp_path):
    path = tmp_path / "phrases.txt"
    path.write_text("# 发卡 發卡\n\n发送  發送  # why\n", encoding="utf-8")
    assert read_phrases(path) == {"发送": "發送"}


def test_the_longest_phrase_wins_and_is_not_converted_again():
    # 签 alone is 簽, 标签 is 標籤, and 目标签约 is signing again (目标 + 签约).
    assert traditional("签协议，贴标签，完成目标签约") == "簽協議，貼標籤，完成目標簽約"
    # 里头发现: s2tw alone takes 头发 (hair).
    assert traditional("里头发现") == "裡頭發現"
    assert i18n.opencc_traditional("里头发现") == "裡頭髮現"
    # The text around a phrase still gets OpenCC's own phrases.
    assert traditional("头发干净，发卡银行") == "頭髮乾淨，發卡銀行"


# --- the corpus of domain phrases ------------------------------------------------------


def test_the_corpus_covers_the_domain():
    pairs = corpus()
    assert len(pairs) >= 150
    assert len({simplified for simplified, _ in pairs}) == len(pairs)  # no repeats


@pytest.mark.parametrize(("simplified", "expected"), corpus())
def test_domain_phrases_convert_as_taiwan_and_hong_kong_readers_expect(simplified, expected):
    assert traditional(simplified) == expected


# --- what the site converts --------------------------------------------------------------

# Forms a reader in Taiwan or Hong Kong would notice at once, each with what was meant.
WRONG_FORMS = {
    "髮卡": "發卡 (a card issuer, not a hair clip)",
    "髮(送|現|生|給|來|出|布|佈|票|放|短信|消息)": "發 (to send, to happen): 頭髮 is hair",
    "(?<!標)籤": "簽 (to sign): 籤 only in 標籤",
    "隻(說明|讀|是|能|要|有|在)": "只 (only), not the measure word",
    "裏": "裡, the site's standard",
    "乾部|幹淨": "幹部, 乾淨",
    "複議|復雜": "復議 (reconsideration), 複雜",
    "盡量|采(用|取|集)": "儘量, 採用",
}
_WRONG = re.compile("|".join(f"(?:{form})" for form in WRONG_FORMS))


def converted_sources():
    sources = sorted((ROOT / "articles" / "content").glob("*.md"))
    sources.append(ROOT / "articles" / "content" / "_categories.yaml")
    sources.append(ROOT / "agencies" / "check" / "signals.yaml")
    return sources


@pytest.mark.parametrize("path", converted_sources(), ids=lambda path: path.name)
def test_no_article_or_rule_converts_to_a_known_wrong_form(path):
    converted = traditional(path.read_text(encoding="utf-8"))
    found = [converted[max(0, m.start() - 4) : m.end() + 4] for m in _WRONG.finditer(converted)]
    assert not found, found


def test_the_ui_catalogue_follows_the_dictionary():
    """Every entry is the conversion today, or a reviewer's own correction: none is
    left as OpenCC alone wrote it before a phrase corrected it."""
    stale, wrong = [], []
    for entry in polib.pofile(str(CATALOGUE)):
        msgstr = entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr
        if msgstr != traditional(entry.msgid) and msgstr == i18n.opencc_traditional(entry.msgid):
            stale.append(entry.msgid)
        if _WRONG.search(msgstr):
            wrong.append(msgstr)
    assert not stale, "run manage.py traditional_catalogue, then compilemessages"
    assert not wrong


def test_the_catalogue_command_refreshes_machine_entries_and_keeps_reviewed_ones(
    tmp_path, monkeypatch
):
    from portal.management.commands import traditional_catalogue

    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    po.append(polib.POEntry(msgid="联系发卡银行", msgstr="聯繫髮卡銀行"))  # OpenCC alone
    po.append(polib.POEntry(msgid="不签", msgstr="不签署"))  # a reviewer's wording
    po.append(polib.POEntry(msgid="保留发送记录", msgstr=""))  # new
    po.append(polib.POEntry(msgid="这里", msgstr="這兒", flags=["fuzzy"]))  # changed source
    path = tmp_path / "django.po"
    po.save(str(path))
    monkeypatch.setattr(traditional_catalogue, "CATALOGUE", path)

    out = io.StringIO()
    call_command("traditional_catalogue", stdout=out)

    filled = {e.msgid: e.msgstr for e in polib.pofile(str(path))}
    assert filled == {
        "联系发卡银行": "聯繫發卡銀行",
        "不签": "不签署",
        "保留发送记录": "保留發送記錄",
        "这里": "這裡",
    }
    assert "新填写 2 条，按词表更新 1 条，保留已审校的 1 条" in out.getvalue()


@pytest.mark.django_db
def test_records_on_traditional_pages_use_the_dictionary(client):
    agency = make_agency(
        "长沙签约资产管理有限公司",
        business_scope="受发卡银行委托催收；保留发送记录",
        address="长沙市开福区",
    )
    html = client.get("/zh-hant" + agency.get_absolute_url()).content.decode()
    assert "長沙簽約資產管理有限公司" in html
    assert "受發卡銀行委託催收；保留發送記錄" in html
    assert "髮" not in html and "籤" not in html


def test_elements_marked_translate_no_keep_their_script():
    html = '<p>发卡银行</p><a translate="no" lang="zh-Hans">简体中文</a><p>不签</p>'
    assert to_traditional(html) == (
        '<p>發卡銀行</p><a translate="no" lang="zh-Hans">简体中文</a><p>不簽</p>'
    )


def test_the_compiled_catalogue_is_the_po_file():
    """The .mo the site reads holds the same Traditional strings as the reviewed .po."""
    mo = polib.mofile(str(CATALOGUE.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in mo}
    for entry in polib.pofile(str(CATALOGUE)):
        msgstr = entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr
        assert compiled[(entry.msgctxt, entry.msgid)] == msgstr, entry.msgid
