"""sync_articles: create, update, leave alone, unpublish, and refuse bad files whole."""

import datetime
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from articles.loading import SyncError, read_article, sync, tag_slug
from articles.models import Article, Category, Tag

FIXTURES = Path(__file__).parent / "data" / "articles"
ALL_SLUGS = {"alpha-rules", "beta-rights", "gamma-rules", "delta-credit"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(tmp_path) -> Path:
    """A writable copy of the fixture articles."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURES, target)
    return target


def snapshot():
    """Everything a sync could change, in comparable form."""
    return (
        sorted(
            Article.objects.values_list(
                "slug", "title", "content_hash", "is_published", "synced_at"
            )
        ),
        sorted(Category.objects.values_list("slug", "name", "order")),
        sorted(Tag.objects.values_list("slug", "name")),
    )


def writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_first_sync_creates_everything(content):
    report = sync(content)

    assert set(report.created) == ALL_SLUGS
    assert report.updated == report.unchanged == report.unpublished == []
    assert list(Category.objects.values_list("slug", flat=True)) == [
        "rules",
        "rights",
        "credit",
        "reference",
    ]
    alpha = Article.objects.get(slug="alpha-rules")
    assert alpha.title == "阿尔法：催收的规则"
    assert alpha.category.slug == "rules"
    assert alpha.byline == "测试编辑部"
    assert alpha.published_on == alpha.updated_on == datetime.date(2026, 1, 10)
    assert alpha.is_published
    assert alpha.source_path == "alpha-rules.md"
    assert len(alpha.content_hash) == 64
    assert sorted(alpha.tags.values_list("slug", "name")) == [
        ("cui-shou-gui-ze", "催收规则"),
        ("xin-yong-ka", "信用卡"),
    ]
    # YAML dates become ISO strings; month-only dates stay as written.
    assert alpha.sources == [
        {
            "title": "《商业银行信用卡业务监督管理办法》第六十八条",
            "date": "2011-01-13",
            "url": "https://www.nfra.gov.cn/",
        },
        {"title": "某行业指引", "date": "2026-01"},
    ]
    assert alpha.toc == [
        {"level": 2, "id": "谁可以被催收", "text": "谁可以被催收"},
        {"level": 3, "id": "信用卡欠款", "text": "信用卡欠款"},
        {"level": 2, "id": "参考依据", "text": "参考依据"},
    ]
    assert alpha.reading_minutes == 1
    assert 'data-live-stat="province:43"' in alpha.body_html
    assert "## 谁可以被催收" in alpha.body  # the Markdown is kept for search

    gamma = Article.objects.get(slug="gamma-rules")
    assert gamma.updated_on == gamma.published_on  # `updated` defaults to `published`
    assert gamma.sources == [{"title": "中国银行业协会指引", "date": "2026"}]
    delta = Article.objects.get(slug="delta-credit")
    assert delta.byline == "本站编辑部"  # default byline


def test_second_sync_writes_nothing(content):
    sync(content)
    before = snapshot()

    with CaptureQueriesContext(connection) as queries:
        report = sync(content)

    assert set(report.unchanged) == ALL_SLUGS
    assert report.created == report.updated == report.unpublished == []
    assert writes(queries.captured_queries) == []
    assert snapshot() == before


def test_changed_file_updates_only_its_article(content):
    sync(content)
    untouched = Article.objects.get(slug="beta-rights").synced_at
    edit(content / "alpha-rules.md", "title: 阿尔法：催收的规则", "title: 阿尔法：改过的标题")
    edit(content / "alpha-rules.md", "tags: [催收规则, 信用卡]", "tags: [催收规则, 第三人]")

    report = sync(content)

    assert report.updated == ["alpha-rules"]
    assert set(report.unchanged) == ALL_SLUGS - {"alpha-rules"}
    alpha = Article.objects.get(slug="alpha-rules")
    assert alpha.title == "阿尔法：改过的标题"
    assert sorted(alpha.tags.values_list("name", flat=True)) == ["催收规则", "第三人"]
    assert Article.objects.get(slug="beta-rights").synced_at == untouched
    # 信用卡 is no longer used by any article, so its empty page goes away.
    assert not Tag.objects.filter(name="信用卡").exists()


def test_category_changes_are_applied(content):
    sync(content)
    edit(content / "_categories.yaml", "name: 征信与债务", "name: 征信、利率与债务")

    report = sync(content)

    assert report.categories_changed == 1
    assert Category.objects.get(slug="credit").name == "征信、利率与债务"


def test_removed_file_unpublishes_and_returning_file_republishes(content):
    sync(content)
    saved = (content / "beta-rights.md").read_text(encoding="utf-8")
    (content / "beta-rights.md").unlink()

    report = sync(content)

    assert report.unpublished == ["beta-rights"]
    beta = Article.objects.get(slug="beta-rights")  # kept, not deleted
    assert not beta.is_published
    assert Article.objects.published().count() == 3

    (content / "beta-rights.md").write_text(saved, encoding="utf-8")
    report = sync(content)
    assert report.updated == ["beta-rights"]
    assert Article.objects.get(slug="beta-rights").is_published


def test_dry_run_changes_nothing(content):
    report = sync(content, dry_run=True)

    assert set(report.created) == ALL_SLUGS
    assert not Article.objects.exists()
    assert not Category.objects.exists()


@pytest.mark.parametrize(
    ("filename", "old", "new", "expected"),
    [
        (
            "alpha-rules.md",
            "title: 阿尔法：催收的规则\n",
            "",
            "alpha-rules.md: title: 缺少必填字段",
        ),
        (
            "alpha-rules.md",
            "published: 2026-01-10",
            "published: 2026-13-40",
            "alpha-rules.md: published: 日期无效：“2026-13-40”，应为 YYYY-MM-DD",
        ),
        (
            "alpha-rules.md",
            "published: 2026-01-10",
            "published: 十月一日",
            "alpha-rules.md: published: 日期无效：“十月一日”，应为 YYYY-MM-DD",
        ),
        (
            "beta-rights.md",
            "updated: 2026-03-01",
            "updated: 2025-01-01",
            "beta-rights.md: updated: 更新日期不能早于发布日期",
        ),
        (
            "alpha-rules.md",
            "category: rules",
            "category: nonsense",
            "alpha-rules.md: category: "
            "未知分类“nonsense”（可用：credit、reference、rights、rules）",
        ),
        (
            "alpha-rules.md",
            "category: rules",
            "category: [rules, rights]",
            "alpha-rules.md: category: 应为一个分类的地址名，例如 rules",
        ),
        (
            "alpha-rules.md",
            "tags: [催收规则, 信用卡]",
            "tags: 催收规则",
            "alpha-rules.md: tags: 应为列表，例如 [催收规则, 信用卡]",
        ),
        (
            "alpha-rules.md",
            "tags: [催收规则, 信用卡]",
            "tags: [催收规则, [信用卡]]",
            "alpha-rules.md: tags: 每个标签都应是非空文字",
        ),
        (
            "alpha-rules.md",
            "summary: 测试文章甲",
            "summary: [测试文章甲",
            "alpha-rules.md: front matter: YAML 无法解析：",
        ),
        (
            "alpha-rules.md",
            "---\ntitle:",
            "title:",
            "alpha-rules.md: front matter: 文件开头缺少用 --- 包围的 YAML 前置信息",
        ),
        (
            "alpha-rules.md",
            "byline: 测试编辑部",
            "author: 测试编辑部",
            "alpha-rules.md: author: 未知字段",
        ),
        (
            "delta-credit.md",
            "sources:\n  - title: 民间借贷司法解释第二十五条\n",
            "sources: []\n",
            "delta-credit.md: sources: 应为至少一条来源的列表",
        ),
        (
            "alpha-rules.md",
            'date: "2026-01"',
            "date: 2026年1月",
            "alpha-rules.md: sources[2].date: "
            "日期无效：“2026年1月”，应为 YYYY-MM-DD、YYYY-MM 或 YYYY",
        ),
        (
            "alpha-rules.md",
            "url: https://www.nfra.gov.cn/",
            "url: javascript:alert(1)",
            "alpha-rules.md: sources[1].url: 应为以 http:// 或 https:// 开头的网址",
        ),
        (
            "gamma-rules.md",
            "## 参考依据",
            "## 出处",
            "gamma-rules.md: 正文: 缺少“## 参考依据”一节",
        ),
        (
            "alpha-rules.md",
            "[[stats:province=43]]",
            "[[stats:province=99]]",
            "alpha-rules.md: 正文: 统计标记里的省级代码 99 不存在",
        ),
        (
            "alpha-rules.md",
            "[[stats:province=43]]",
            "[[stats:city=changsha]]",
            "alpha-rules.md: 正文: 无法识别的统计标记 [[stats:city=changsha]]",
        ),
        (
            "alpha-rules.md",
            "[[stats:province=43]]",
            "湖南共有 [[stats:province=43]] 家",
            "alpha-rules.md: 正文: 统计标记必须单独成段（前后各空一行）",
        ),
    ],
)
def test_bad_file_is_reported_and_nothing_changes(content, filename, old, new, expected):
    sync(content)
    before = snapshot()
    # A good change elsewhere must not be applied either: all or nothing.
    edit(content / "beta-rights.md", "title: 贝塔：遇到骚扰怎么办", "title: 贝塔：不该出现")
    edit(content / filename, old, new)

    with pytest.raises(SyncError) as caught:
        sync(content)

    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith(expected) for m in messages), messages
    assert snapshot() == before


def test_every_problem_is_reported_at_once(content):
    edit(content / "alpha-rules.md", "category: rules", "category: nonsense")
    edit(content / "beta-rights.md", "published: 2026-02-01", "published: 2026-02-30")
    (content / "Bad Name.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    (content / "feed.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")

    with pytest.raises(SyncError) as caught:
        sync(content)

    files = [p.file for p in caught.value.problems]
    assert files == ["Bad Name.md", "alpha-rules.md", "beta-rights.md", "feed.md"]
    assert not Article.objects.exists()


def test_underscore_files_are_not_articles(content):
    (content / "_notes.md").write_text("草稿，不是文章。", encoding="utf-8")
    report = sync(content)
    assert set(report.created) == ALL_SLUGS


def test_bad_categories_file(content):
    (content / "_categories.yaml").write_text("- slug: Rules!\n  name: x\n", encoding="utf-8")
    with pytest.raises(SyncError) as caught:
        sync(content)
    assert "_categories.yaml: 第1项.slug: 只能用小写字母、数字和连字符" in map(
        str, caught.value.problems
    )


def test_tags_whose_pinyin_clash_are_refused(content):
    # 征信 and 正心 are both zheng-xin: they would share /articles/tag/zheng-xin/.
    edit(content / "alpha-rules.md", "tags: [催收规则, 信用卡]", "tags: [征信]")
    edit(content / "beta-rights.md", "tags: [维权投诉, 催收规则]", "tags: [正心]")
    with pytest.raises(SyncError) as caught:
        sync(content)
    assert [p.field for p in caught.value.problems] == ["tags"]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("催收规则", "cui-shou-gui-ze"),
        ("个人信息", "ge-ren-xin-xi"),
        ("LPR利率", "lpr-li-lv"),
        (" 湖南 ", "hu-nan"),
    ],
)
def test_tag_slug(name, slug):
    assert tag_slug(name) == slug


def test_command_reports_problems_and_exits_non_zero(content):
    edit(content / "alpha-rules.md", "published: 2026-01-10", "published: 2026-01-99")
    stderr = StringIO()

    with pytest.raises(CommandError, match="发现 1 个问题，没有做任何修改"):
        call_command("sync_articles", "--dir", str(content), stderr=stderr)

    assert (
        stderr.getvalue().strip()
        == "alpha-rules.md: published: 日期无效：“2026-01-99”，应为 YYYY-MM-DD"
    )
    assert not Article.objects.exists()


def test_command_prints_a_summary(content):
    stdout = StringIO()
    call_command("sync_articles", "--dir", str(content), stdout=stdout)
    assert "新增 4 篇，更新 0 篇，未变 0 篇，下线 0 篇" in stdout.getvalue()

    stdout = StringIO()
    call_command("sync_articles", "--dir", str(content), "--dry-run", stdout=stdout)
    assert "（试运行，未写入）新增 0 篇，更新 0 篇，未变 4 篇" in stdout.getvalue()


def test_missing_directory(tmp_path):
    with pytest.raises(SyncError, match="目录不存在"):
        sync(tmp_path / "nope")


FRONT_MATTER_LINES = st.sampled_from(
    [
        "title: 标题",
        "title: [未闭合",
        "category: rules",
        "category: [rules]",
        "category: {a: b}",
        "tags: [催收规则]",
        "tags: 催收规则",
        "tags: [[x], {y: z}]",
        "summary: 摘要",
        "summary: 123",
        "published: 2026-01-01",
        "published: 2026-02-30",
        "published: 2026",
        "published: [2026]",
        "updated: 2025-01-01",
        "byline: ",
        "sources: [{title: 出处}]",
        "sources: [{title: 出处, date: 1995}]",
        "sources: [{date: 2026-13}]",
        "sources: 出处",
        "sources: [[x]]",
        "? [complex, key]\n: value",
        "1: 数字键",
        "&a x: *a",
        "!!python/object:os.system x: y",
        "\t缩进错误",
    ]
)


@given(
    lines=st.lists(FRONT_MATTER_LINES, max_size=8),
    body=st.sampled_from(["", "正文", "## 参考依据\n\n- 出处", "[[stats:province=x]]"]),
)
@settings(max_examples=150, deadline=None)
def test_any_front_matter_gives_problems_or_an_article_never_a_crash(tmp_path_factory, lines, body):
    directory = tmp_path_factory.mktemp("fuzz")
    path = directory / "fuzzed.md"
    path.write_text("---\n" + "\n".join(lines) + "\n---\n" + body, encoding="utf-8")

    article, problems = read_article(path, directory, {"rules"}, {"43"})

    assert (article is None) == bool(problems)
    for problem in problems:
        assert str(problem).startswith("fuzzed.md: ")
