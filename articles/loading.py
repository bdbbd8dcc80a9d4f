"""Reading, validating and syncing the Markdown articles in articles/content/.

`sync_articles` is a thin wrapper round `sync()`. Every file is read and
checked before anything is written; if any file has a problem the database is
left exactly as it was and every problem is reported as `FILE: field: message`.
"""

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from django.utils.text import slugify
from pypinyin import lazy_pinyin

from agencies.models import Province

from . import rendering
from .models import SITE_BYLINE, Article, Category, Tag

DEFAULT_DIR = Path(__file__).resolve().parent / "content"
CATEGORIES_FILE = "_categories.yaml"

REQUIRED_KEYS = ("title", "category", "summary", "published", "sources")
# title_en / summary_en: what /en/ pages show of an article whose text is
# Chinese only (portal.i18n).
OPTIONAL_KEYS = ("tags", "updated", "byline", "title_en", "summary_en")
DEFAULT_BYLINE = SITE_BYLINE
REFERENCES_HEADING = re.compile(r"^##\s+参考依据\s*$", re.MULTILINE)
FILE_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# These words are taken by other URLs under /articles/.
RESERVED_SLUGS = {"feed", "category", "tag"}
FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH_DATE = re.compile(r"^\d{4}-\d{2}$")
YEAR_DATE = re.compile(r"^\d{4}$")
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text.

    PyYAML turns 2026-11-28 into a date itself and raises a bare ValueError
    for 2026-13-40; as text, _as_date() can say what is wrong and where.
    """


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_yaml(text: str):
    return yaml.load(text, Loader=_FrontMatterLoader)  # a SafeLoader: no arbitrary objects


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self):
        return f"{self.file}: {self.field}: {self.message}"


class SyncError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class CategoryData:
    slug: str
    name: str
    description: str
    order: int
    name_en: str = ""
    description_en: str = ""


@dataclass
class ArticleData:
    slug: str
    source_path: str
    content_hash: str
    title: str
    category: str
    tags: list[str]
    summary: str
    title_en: str
    summary_en: str
    published: datetime.date
    updated: datetime.date
    byline: str
    sources: list[dict]
    body: str


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unpublished: list[str] = field(default_factory=list)
    categories_changed: int = 0

    def summary(self) -> str:
        return (
            f"新增 {len(self.created)} 篇，更新 {len(self.updated)} 篇，"
            f"未变 {len(self.unchanged)} 篇，下线 {len(self.unpublished)} 篇；"
            f"分类变更 {self.categories_changed} 个。"
        )


def tag_slug(name: str) -> str:
    """催收规则 → cui-shou-gui-ze; Latin letters and digits are kept (LPR利率 → lpr-li-lv)."""
    return slugify("-".join(lazy_pinyin(name.strip())))


def _as_date(value, *, allow_partial: bool = False) -> datetime.date | str | None:
    """A date from front matter: text such as 2026-11-28 (or a date object, from Python).

    Returns None when the value is not a valid date. With allow_partial, a
    "YYYY-MM" or "YYYY" value is returned as a string: old rules are often known
    only by month or year (the 1995 ban on debt-collection companies).
    """
    if isinstance(value, (datetime.datetime, bool)):
        return None
    if isinstance(value, datetime.date):
        return value
    if allow_partial and isinstance(value, int):
        value = str(value)  # YAML reads an unquoted 1995 as a number
    if not isinstance(value, str):
        return None
    text = value.strip()
    if allow_partial and YEAR_DATE.match(text):
        return text if 1900 <= int(text) <= 2100 else None
    if allow_partial and MONTH_DATE.match(text):
        year, month = (int(part) for part in text.split("-"))
        return text if 1 <= month <= 12 and 1900 <= year <= 2100 else None
    if not FULL_DATE.match(text):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def _nonempty_str(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def read_categories(directory: Path) -> tuple[list[CategoryData], list[Problem]]:
    path = directory / CATEGORIES_FILE
    name = CATEGORIES_FILE
    if not path.exists():
        return [], [Problem(name, "文件", "找不到分类文件")]
    try:
        data = _load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return [], [Problem(name, "文件", f"YAML 无法解析：{_yaml_error(exc)}")]
    except UnicodeDecodeError:
        return [], [Problem(name, "文件", "不是 UTF-8 编码的文本")]
    if not isinstance(data, list) or not data:
        return [], [Problem(name, "文件", "应为分类列表，每项包含 slug、name、description、order")]
    problems, categories, seen = [], [], set()
    for index, item in enumerate(data, start=1):
        where = f"第{index}项"
        if not isinstance(item, dict):
            problems.append(Problem(name, where, "应为包含 slug、name、description、order 的映射"))
            continue
        slug, cat_name = item.get("slug"), item.get("name")
        order, description = item.get("order", index), item.get("description", "")
        if not (isinstance(slug, str) and FILE_SLUG.match(slug)):
            problems.append(Problem(name, f"{where}.slug", "只能用小写字母、数字和连字符"))
            continue
        if slug in seen:
            problems.append(Problem(name, f"{where}.slug", f"重复的分类 {slug}"))
        seen.add(slug)
        if not _nonempty_str(cat_name):
            problems.append(Problem(name, f"{where}.name", "不能为空"))
        for key in ("description", "name_en", "description_en"):
            if not isinstance(item.get(key, ""), str):
                problems.append(Problem(name, f"{where}.{key}", "应为文字"))
        if not isinstance(order, int) or isinstance(order, bool) or order < 0:
            problems.append(Problem(name, f"{where}.order", "应为非负整数"))
        if not any(p.field.startswith(where) for p in problems):
            categories.append(
                CategoryData(
                    slug,
                    cat_name.strip(),
                    (description or "").strip(),
                    order,
                    (item.get("name_en") or "").strip(),
                    (item.get("description_en") or "").strip(),
                )
            )
    return categories, problems


def _yaml_error(exc: yaml.YAMLError, lines_before: int = 0) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"{problem}（文件第 {mark.line + 1 + lines_before} 行）"
    return problem


class _Problems(list):
    """The problems found in one file; each step of read_article() adds to it."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def add(self, field_name: str, message: str) -> None:
        self.append(Problem(self.file, field_name, message))


def read_article(
    path: Path, directory: Path, categories: set[str], province_codes: set[str]
) -> tuple[ArticleData | None, list[Problem]]:
    """One Markdown file as ArticleData, or None and every problem found in it."""
    problems = _Problems(path.relative_to(directory).as_posix())
    opened = _open_article(path, problems)
    if opened is None:
        return None, problems
    raw, meta, body = opened
    _check_keys(meta, problems)
    title = _read_text(meta, "title", problems, max_length=200)
    summary = _read_text(meta, "summary", problems)
    title_en = _read_text(meta, "title_en", problems, max_length=200)
    summary_en = _read_text(meta, "summary_en", problems)
    category = _read_category(meta.get("category"), categories, problems)
    tags = _read_tags(meta.get("tags"), problems)
    published, updated = _read_dates(meta, problems)
    byline = meta.get("byline", DEFAULT_BYLINE)
    if not _nonempty_str(byline):
        problems.add("byline", "应为非空文字")
        byline = DEFAULT_BYLINE
    sources = _read_sources(meta.get("sources"), problems)
    _check_body(body, province_codes, problems)
    if problems:
        return None, problems
    return ArticleData(
        slug=path.stem,
        source_path=problems.file,
        content_hash=rendering.content_hash(raw),
        title=title,
        category=category,
        tags=tags,
        summary=summary,
        title_en=title_en,
        summary_en=summary_en,
        published=published,
        updated=updated,
        byline=byline.strip(),
        sources=sources,
        body=body,
    ), []


def _open_article(path: Path, problems: _Problems) -> tuple[bytes, dict, str] | None:
    """(the file's bytes, its front matter, its body); None when it can't be read as an article."""
    slug = path.stem
    if not FILE_SLUG.match(slug):
        problems.add("文件名", "只能用小写字母、数字和连字符，例如 limitation-period.md")
        return None
    if slug in RESERVED_SLUGS:
        problems.add("文件名", f"“{slug}”已被站内其他地址占用，请换一个文件名")
        return None
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        problems.add("文件", "不是 UTF-8 编码的文本")
        return None
    match = FRONT_MATTER.match(text)
    if not match:
        problems.add("front matter", "文件开头缺少用 --- 包围的 YAML 前置信息")
        return None
    try:
        meta = _load_yaml(match.group(1))
    except yaml.YAMLError as exc:
        # lines_before=1: the opening "---" line, which the YAML parser never saw.
        problems.add("front matter", f"YAML 无法解析：{_yaml_error(exc, lines_before=1)}")
        return None
    if not isinstance(meta, dict):
        problems.add("front matter", "前置信息应为“字段: 值”的映射")
        return None
    return raw, meta, match.group(2).strip("\n") + "\n"


def _check_keys(meta: dict, problems: _Problems) -> None:
    for key in REQUIRED_KEYS:
        if key not in meta or meta[key] in (None, ""):
            problems.add(key, "缺少必填字段")
    allowed = REQUIRED_KEYS + OPTIONAL_KEYS
    for key in meta:
        if key not in allowed:
            problems.add(str(key), f"未知字段（可用字段：{'、'.join(allowed)}）")


def _read_text(meta: dict, key: str, problems: _Problems, max_length: int = 0) -> str:
    """A text field, stripped ("" when missing: _check_keys() reports that)."""
    value = meta.get(key)
    if value in (None, ""):
        return ""
    if not _nonempty_str(value):
        problems.add(key, "应为文字")
        return ""
    value = value.strip()
    if max_length and len(value) > max_length:
        problems.add(key, f"不能超过 {max_length} 字")
    return value


def _read_category(category, categories: set[str], problems: _Problems) -> str:
    if category in (None, ""):
        return ""
    if not isinstance(category, str):
        problems.add("category", "应为一个分类的地址名，例如 rules")
    elif category not in categories:
        known = "、".join(sorted(categories)) or "（无）"
        problems.add("category", f"未知分类“{category}”（可用：{known}）")
    return category


def _read_tags(tags, problems: _Problems) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list):
        problems.add("tags", "应为列表，例如 [催收规则, 信用卡]")
        return []
    if not all(_nonempty_str(t) for t in tags):
        problems.add("tags", "每个标签都应是非空文字")
        return []
    tags = list(dict.fromkeys(t.strip() for t in tags))
    for tag in tags:
        if not tag_slug(tag):
            problems.add("tags", f"标签“{tag}”无法生成地址")
    return tags


def _read_dates(meta: dict, problems: _Problems) -> tuple[datetime.date | None, ...]:
    """(published, updated); updated defaults to published and may not precede it."""
    published = updated = None
    if meta.get("published") not in (None, ""):
        published = _as_date(meta["published"])
        if published is None:
            problems.add("published", f"日期无效：“{meta['published']}”，应为 YYYY-MM-DD")
    if meta.get("updated") not in (None, ""):
        updated = _as_date(meta["updated"])
        if updated is None:
            problems.add("updated", f"日期无效：“{meta['updated']}”，应为 YYYY-MM-DD")
        elif published and updated < published:
            problems.add("updated", "更新日期不能早于发布日期")
    return published, updated or published


def _check_body(body: str, province_codes: set[str], problems: _Problems) -> None:
    if not body.strip():
        problems.add("正文", "正文为空")
    elif not REFERENCES_HEADING.search(body):
        problems.add("正文", "缺少“## 参考依据”一节")
    for message in rendering.stats_problems(body, province_codes):
        problems.add("正文", message)


def _read_sources(value, problems: _Problems) -> list[dict]:
    if value in (None, ""):
        return []  # already reported as missing
    if not isinstance(value, list) or not value:
        problems.add("sources", "应为至少一条来源的列表")
        return []
    sources = []
    for index, item in enumerate(value, start=1):
        source = _read_source(item, f"sources[{index}]", problems)
        if source is not None:
            sources.append(source)
    return sources


def _read_source(item, where: str, problems: _Problems) -> dict | None:
    if not isinstance(item, dict):
        problems.add(where, "应包含 title，可选 date、url")
        return None
    unknown = set(item) - {"title", "date", "url"}
    if unknown:
        problems.add(where, f"未知字段：{'、'.join(sorted(map(str, unknown)))}")
    if not _nonempty_str(item.get("title")):
        problems.add(f"{where}.title", "缺少来源标题")
        return None
    source = {"title": item["title"].strip()}
    if item.get("date") not in (None, ""):
        day = _as_date(item["date"], allow_partial=True)
        if day is None:
            problems.add(
                f"{where}.date", f"日期无效：“{item['date']}”，应为 YYYY-MM-DD、YYYY-MM 或 YYYY"
            )
        else:
            source["date"] = day if isinstance(day, str) else day.isoformat()
    if item.get("url") not in (None, ""):
        url = item["url"]
        if not (isinstance(url, str) and re.match(r"^https?://[^\s/]+", url.strip())):
            problems.add(f"{where}.url", "应为以 http:// 或 https:// 开头的网址")
        else:
            source["url"] = url.strip()
    return source


def read_directory(directory: Path) -> tuple[list[CategoryData], list[ArticleData]]:
    """Read and check every file; raise SyncError listing every problem found."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SyncError([Problem(str(directory), "目录", "目录不存在")])
    categories, problems = read_categories(directory)
    category_slugs = {c.slug for c in categories}
    province_codes = set(Province.objects.values_list("code", flat=True))
    articles = []
    for path in sorted(directory.glob("*.md")):
        if path.name.startswith("_"):
            continue  # _drafts.md and the like are notes, not articles
        article, file_problems = read_article(path, directory, category_slugs, province_codes)
        problems.extend(file_problems)
        if article:
            articles.append(article)
    problems.extend(_tag_slug_clashes(articles))
    if problems:
        raise SyncError(problems)
    return categories, articles


def _tag_slug_clashes(articles: list[ArticleData]) -> list[Problem]:
    """Two tag names with the same pinyin (征信 / 正心) would share one address."""
    owners: dict[str, tuple[str, str]] = {}
    problems = []
    for article in articles:
        for name in article.tags:
            slug = tag_slug(name)
            first = owners.setdefault(slug, (name, article.source_path))
            if first[0] != name:
                problems.append(
                    Problem(
                        article.source_path,
                        "tags",
                        f"标签“{name}”与“{first[0]}”（{first[1]}）的拼音地址相同：{slug}",
                    )
                )
    return problems


def sync(directory: Path = DEFAULT_DIR, *, dry_run: bool = False) -> SyncReport:
    categories, articles = read_directory(directory)
    report = SyncReport()
    with transaction.atomic():
        category_by_slug = _sync_categories(categories, report)
        tag_by_name = _sync_tags({name for a in articles for name in a.tags})
        existing = {a.slug: a for a in Article.objects.all()}
        for data in articles:
            current = existing.get(data.slug)
            if current and current.content_hash == data.content_hash and current.is_published:
                report.unchanged.append(data.slug)
                continue
            _save_article(current, data, category_by_slug, tag_by_name)
            (report.updated if current else report.created).append(data.slug)
        in_files = {a.slug for a in articles}
        gone = [a.slug for a in existing.values() if a.is_published and a.slug not in in_files]
        if gone:
            Article.objects.filter(slug__in=gone).update(is_published=False)
        report.unpublished = sorted(gone)
        # A tag nobody uses any more would be an empty page; an article that was
        # only unpublished keeps its tags, for the day its file comes back.
        Tag.objects.filter(articles__isnull=True).delete()
        Category.objects.exclude(slug__in=category_by_slug).filter(articles__isnull=True).delete()
        if dry_run:
            transaction.set_rollback(True)
    return report


def _sync_categories(categories: list[CategoryData], report: SyncReport) -> dict[str, Category]:
    existing = {c.slug: c for c in Category.objects.all()}
    result = {}
    for data in categories:
        category = existing.get(data.slug)
        values = {
            "name": data.name,
            "description": data.description,
            "order": data.order,
            "name_en": data.name_en,
            "description_en": data.description_en,
        }
        if category is None:
            category = Category.objects.create(slug=data.slug, **values)
            report.categories_changed += 1
        elif any(getattr(category, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(category, key, value)
            category.save()
            report.categories_changed += 1
        result[data.slug] = category
    return result


def _sync_tags(names: set[str]) -> dict[str, Tag]:
    """Tags are matched by slug, so renaming a tag keeps its row and its address."""
    wanted = {tag_slug(name): name for name in names}
    existing = {t.slug: t for t in Tag.objects.filter(slug__in=wanted)}
    for slug, tag in existing.items():
        if tag.name != wanted[slug]:
            tag.name = wanted[slug]
            tag.save(update_fields=["name"])
    missing = [Tag(slug=slug, name=wanted[slug]) for slug in sorted(set(wanted) - set(existing))]
    if missing:
        Tag.objects.bulk_create(missing)
        existing.update({t.slug: t for t in Tag.objects.filter(slug__in=wanted)})
    return {tag.name: tag for tag in existing.values()}


def _save_article(
    article: Article | None,
    data: ArticleData,
    category_by_slug: dict[str, Category],
    tag_by_name: dict[str, Tag],
) -> None:
    rendered = rendering.render(data.body, data.sources)
    article = article or Article(slug=data.slug)
    article.title = data.title
    article.summary = data.summary
    article.title_en = data.title_en
    article.summary_en = data.summary_en
    article.body = data.body
    article.body_html = rendered.html
    article.toc = rendered.toc
    article.reading_minutes = rendered.reading_minutes
    article.category = category_by_slug[data.category]
    article.byline = data.byline
    article.published_on = data.published
    article.updated_on = data.updated
    article.sources = data.sources
    article.is_published = True
    article.source_path = data.source_path
    article.content_hash = data.content_hash
    article.save()
    article.tags.set([tag_by_name[name] for name in data.tags])
