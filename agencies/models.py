"""The agency registry: provinces, agencies and the sourced facts attached to them.

Query logic lives on the QuerySet classes below; views, filters, commands and
the API call these methods rather than building lookups of their own.
"""

from functools import partial

from django.db import connections, models
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from portal.i18n import is_chinese_page
from portal.links import reverse_one
from portal.prepared import Prepared
from portal.sql import one_of

from . import phones
from . import uscc as uscc_lib
from .enums import ActionKind, ChangeField, ChangeVia, NameKind, PhoneKind, Status
from .search import textnorm


class ProvinceQuerySet(models.QuerySet):
    def with_agency_counts(self):
        """`agency_count` from the tallies (agencies.figures): no scan of the agency table."""
        return self.annotate(agency_count=Coalesce(Sum("tallies__n"), 0))

    def by_code_or_name(self, raw: str):
        """Match "43", "430000", "湖南省", "湖南", "湘" or "hunan"."""
        value = (raw or "").strip()
        if not value:
            return self.none()
        if value.isdigit():
            return self.filter(code=value[:2])
        return self.filter(
            Q(name=value)
            | Q(short_name=value)
            | Q(short_name_alt=value)
            | Q(slug=value.lower())
            | Q(name__startswith=value)
        )


# The names English-language sources use (/en/ pages), by GB/T 2260 code.
PROVINCE_NAMES_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan",
    "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang", "71": "Taiwan", "81": "Hong Kong", "82": "Macao",
}  # fmt: skip


class Province(models.Model):
    code = models.CharField(_("GB/T 2260 代码"), max_length=2, primary_key=True)
    name = models.CharField(_("名称"), max_length=20, unique=True)
    short_name = models.CharField(_("简称"), max_length=4)
    # A second common short name (e.g. 滇 for 云南), used only to recognise input.
    short_name_alt = models.CharField(_("另一简称"), max_length=4, blank=True)
    slug = models.SlugField(_("拼音"), max_length=30, unique=True)

    objects = ProvinceQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("省级行政区")
        verbose_name_plural = _("省级行政区")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_one("agencies:province-detail", "slug", self.slug)

    @property
    def name_en(self) -> str:
        return PROVINCE_NAMES_EN.get(self.code, "")

    @property
    def display_name(self) -> str:
        """湖南 rather than 湖南省 where space is short; Hunan on English pages."""
        if not is_chinese_page():
            return self.name_en or self.name
        for suffix in (
            "维吾尔自治区",
            "壮族自治区",
            "回族自治区",
            "特别行政区",
            "自治区",
            "省",
            "市",
        ):
            if self.name.endswith(suffix):
                return self.name.removesuffix(suffix)
        return self.name


class AgencyQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status__in=Status.live_values())

    def in_province(self, province):
        return self.filter(province=province)

    def with_status(self, statuses):
        return self.filter(status__in=statuses)

    def in_city(self, city: str):
        return self.filter(city=city)

    def samples(self):
        return self.filter(is_sample=True)

    def recently_updated(self):
        return self.order_by("-updated_at", "uscc")

    def rows_by_pk(self, ids, fields: tuple[str, ...]) -> list[tuple]:
        """(pk, *fields, province code, province name) of the agencies with these
        primary keys, in no particular order; `fields` are the agency's own
        columns, read as values_list() gives them (a date, a bool) on either
        database.

        Written out, the keys as one parameter (portal.sql.one_of): a name
        search reads its page's twenty hits by primary key, and building that
        join with the ORM cost more than the twenty index probes (issue 22).
        """
        connection = connections[self.db]
        quote = connection.ops.quote_name
        meta = self.model._meta
        columns = [meta.pk.get_col("a"), *(meta.get_field(name).get_col("a") for name in fields)]
        # Django's own conversions (SQLite's dates and booleans), as
        # portal.prepared.PreparedRows applies them.
        compiler = self.query.get_compiler(connection=connection)
        converters = compiler.get_converters(columns)
        among, params = one_of(connection, f"a.{quote(meta.pk.column)}", ids, "bigint")
        selected = ", ".join(f"a.{quote(column.target.column)}" for column in columns)
        province = meta.get_field("province")
        sql = (
            f"SELECT {selected}, p.{quote('code')}, p.{quote('name')} "
            f"FROM {quote(meta.db_table)} a JOIN {quote(Province._meta.db_table)} p "
            f"ON p.{quote(province.target_field.column)} = a.{quote(province.column)} "
            f"WHERE {among}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return rows
        return [tuple(row) for row in compiler.apply_converters(rows, converters)]

    def for_listing(self):
        """What a list row shows: the province without an extra query per row."""
        return self.select_related("province")

    def for_detail(self):
        """Everything the API detail and the export show, in a fixed number of queries."""
        return self.select_related("province").prefetch_related(
            *(Prefetch(name, queryset=query) for name, query in _record_lists().items())
        )

    def sorted_by(self, key: str):
        orderings = {
            "name": ("name_sort", "uscc"),
            "-name": ("-name_sort", "-uscc"),
            "established": ("established_on", "uscc"),
            "-established": ("-established_on", "-uscc"),
        }
        return self.order_by(*orderings.get(key, orderings["name"]))

    def cities(self):
        return self.exclude(city="").values_list("city", flat=True).order_by("city").distinct()


# History entries an agency page shows (newest first); the API and exports carry all.
CHANGES_SHOWN = 50


def _record_lists() -> dict:
    """The lists a record shows, in the order it shows them (related name: queryset)."""
    return {
        "names": AgencyName.objects.order_by("kind", "name"),
        "phone_links": AgencyPhone.objects.select_related("phone").order_by("phone__key"),
        "clients": Client.objects.order_by("name"),
        "actions": RegulatoryAction.objects.order_by("-decided_on", "id"),
        "changes": AgencyChange.objects.newest_first(),
    }


class Agency(models.Model):
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    # textnorm.sort_key(name), kept in step by save() and the import: lists
    # "by name" follow pinyin, not code points.
    name_sort = models.CharField(_("名称拼音"), max_length=200, editable=False, default="")
    entity_type = models.CharField(_("企业类型"), max_length=100, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=100, blank=True)
    registered_capital = models.CharField(_("注册资本（登记原文）"), max_length=100, blank=True)
    registered_capital_wan = models.DecimalField(
        _("注册资本（万元）"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    status = models.CharField(
        _("登记状态"), max_length=4, choices=Status.choices, default=Status.OTHER
    )
    registration_authority = models.CharField(_("登记机关"), max_length=200, blank=True)
    address = models.CharField(_("住所"), max_length=300, blank=True)
    # db_index=False here and on the foreign keys below: each is the first
    # column of a composite index or unique constraint that serves the same
    # lookups, and a redundant index only costs writes (migration 0006).
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="agencies",
        verbose_name=_("省份"),
        db_index=False,
    )
    city = models.CharField(_("城市"), max_length=50, blank=True)
    business_scope = models.TextField(_("经营范围"), blank=True)

    source = models.CharField(_("来源"), max_length=200, blank=True)
    source_url = models.URLField(_("来源网址"), max_length=500, blank=True)
    retrieved_on = models.DateField(_("获取日期"), null=True, blank=True)

    is_sample = models.BooleanField(
        _("示例数据"), default=False, help_text=_("虚构的演示记录，页面上会标注“示例数据”。")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        ordering = ["name_sort", "uscc"]
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        indexes = [
            # Province page: filter by province (and city/status), sort by name.
            models.Index(fields=["province", "name_sort", "uscc"], name="agency_province_name"),
            # API list: a province in credit-code order. Without it PostgreSQL
            # walks the uscc index past every other province (1 s at 1M rows).
            models.Index(fields=["province", "uscc"], name="agency_province_uscc"),
            # The province page filtered by city, or by one status, in name order.
            models.Index(
                fields=["province", "city", "name_sort", "uscc"], name="agency_province_city"
            ),
            models.Index(
                fields=["province", "status", "name_sort", "uscc"], name="agency_province_status"
            ),
            # The province page sorted by founding date, either way: the whole ORDER BY
            # (uscc breaks ties), so a page is read off the index, forwards or
            # backwards, instead of sorting the province.
            models.Index(
                fields=["province", "established_on", "uscc"], name="agency_province_established"
            ),
            # Home page "recently updated": the whole ORDER BY, so the first ten
            # rows are read off the index (with updated_at alone SQLite sorted
            # the table to break ties by uscc).
            models.Index(fields=["-updated_at", "uscc"], name="agency_updated"),
            # The sample-data banner asks "is there any sample record?" on every page.
            models.Index(fields=["is_sample"], name="agency_is_sample"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, update_fields=None, **kwargs):
        self.name_sort = textnorm.sort_key(self.name)
        if update_fields is not None and "name" in update_fields:
            update_fields = {*update_fields, "name_sort"}
        super().save(*args, update_fields=update_fields, **kwargs)

    def get_absolute_url(self):
        return reverse_one("agencies:agency-detail", "uscc", self.uscc)

    def record_lists(self, *, all_changes: bool = False) -> dict[str, list]:
        """names, phone_links, clients, actions and changes of this one agency, as
        for_detail() orders them (changes: the newest CHANGES_SHOWN + 1, so a page
        knows there are older ones; `all_changes` for the API's whole history):
        five plain queries, compiled once per process (portal.prepared) — about
        a tenth of what prefetch_related's machinery, or building them each
        time, costs.
        """
        lists = _RECORD_LISTS_ALL if all_changes else _RECORD_LISTS
        return {name: prepared(self.pk) for name, prepared in lists.items()}

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def is_live(self) -> bool:
        return self.status in Status.live_values()

    @property
    def derived_province_code(self) -> str:
        return uscc_lib.province_code(self.uscc)


class AgencyName(models.Model):
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="names", db_index=False
    )
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类别"), max_length=10, choices=NameKind.choices)

    class Meta:
        verbose_name = _("曾用名或别名")
        verbose_name_plural = _("曾用名与别名")
        constraints = [
            # Re-importing a file must not add the same name twice.
            models.UniqueConstraint(fields=["agency", "kind", "name"], name="agencyname_unique"),
        ]

    def __str__(self):
        return self.name


class PhoneQuerySet(models.QuerySet):
    def with_agency_counts(self):
        return self.annotate(agency_count=Count("agency_links"))


class Phone(models.Model):
    """One telephone number, whatever way it was written; see agencies.phones for keys."""

    key = models.CharField(_("号码键"), max_length=32, unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=PhoneKind.choices)

    objects = PhoneQuerySet.as_manager()

    class Meta:
        ordering = ["key"]
        verbose_name = _("电话号码")
        verbose_name_plural = _("电话号码")

    def __str__(self):
        return self.key

    def get_absolute_url(self):
        return reverse_one("agencies:phone-detail", "key", self.key)


class AgencyPhoneQuerySet(models.QuerySet):
    def agency_ids_for(self, keys: list[str]) -> list[tuple[str, int]]:
        """(number key, agency id) for every agency that uses one of the numbers.

        Written out, the keys as one parameter (portal.sql.one_of): the message
        check asks this for every text with a number in it, and building the
        join with the ORM cost more than the two index probes it needs.
        """
        connection = connections[self.db]
        quote = connection.ops.quote_name
        among, params = one_of(connection, "p." + quote("key"), keys, "text")
        sql = (
            f"SELECT p.{quote('key')}, l.{quote('agency_id')} "
            f"FROM {quote(self.model._meta.db_table)} l "
            f"JOIN {quote(Phone._meta.db_table)} p ON p.{quote('id')} = l.{quote('phone_id')} "
            f"WHERE {among}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def for_number(self, key: str):
        """Every agency that uses the number (a phones key), with the evidence, in one query."""
        return (
            self.filter(phone__key=key)
            .select_related("agency__province", "phone")
            # Credit-code order: the same on every database, whatever its collation.
            .order_by("agency__uscc")
        )


class AgencyPhone(models.Model):
    """The evidence that an agency uses a number: who said so, where and when."""

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="phone_links", db_index=False
    )
    phone = models.ForeignKey(
        Phone, on_delete=models.CASCADE, related_name="agency_links", db_index=False
    )
    number_as_reported = models.CharField(_("原始写法"), max_length=64)
    label = models.CharField(_("说明"), max_length=100, blank=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    source_url = models.URLField(_("来源网址"), max_length=500, blank=True)
    reported_on = models.DateField(_("报告日期"), null=True, blank=True)

    objects = AgencyPhoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("机构电话")
        verbose_name_plural = _("机构电话")
        constraints = [
            models.UniqueConstraint(fields=["agency", "phone"], name="agencyphone_unique"),
        ]
        indexes = [
            # Number page: every agency behind one phone key.
            models.Index(fields=["phone", "agency"], name="agencyphone_phone"),
        ]

    def __str__(self):
        return f"{self.agency} · {self.phone}"


class Client(models.Model):
    """A lender that discloses working with the agency."""

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="clients", db_index=False
    )
    name = models.CharField(_("委托方"), max_length=200)
    since = models.DateField(_("起始日期"), null=True, blank=True)
    until = models.DateField(_("结束日期"), null=True, blank=True)
    source_url = models.URLField(_("来源网址"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("委托方")
        verbose_name_plural = _("委托方")
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="client_unique"),
        ]

    def __str__(self):
        return self.name


class RegulatoryAction(models.Model):
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="actions", db_index=False
    )
    kind = models.CharField(_("类别"), max_length=10, choices=ActionKind.choices)
    authority = models.CharField(_("作出机关"), max_length=200, blank=True)
    decided_on = models.DateField(_("日期"), null=True, blank=True)
    document_number = models.CharField(_("文号"), max_length=200, blank=True)
    summary = models.TextField(_("摘要"), blank=True)
    source_url = models.URLField(_("来源网址"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("监管记录")
        verbose_name_plural = _("监管记录")
        indexes = [
            models.Index(fields=["agency", "kind"], name="action_agency_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.document_number}".strip()

    def identity(self) -> tuple:
        """What makes two imported actions the same record (used to avoid duplicates)."""
        return (self.kind, self.authority, self.decided_on, self.document_number)


class AgencyChangeQuerySet(models.QuerySet):
    def newest_first(self):
        return self.order_by("-changed_at", "-id")


class AgencyChange(models.Model):
    """One change to a field the agency page shows, as an import or an editor made it.

    Values are text in the import format (dates ISO, the province by name,
    a phone by its key), so an export can carry them and an import bring them
    back unchanged. The source is that of the new value: the file's source for
    an import, the editor's note for a correction in the admin.
    """

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    field = models.CharField(_("字段"), max_length=30, choices=ChangeField.choices)
    old_value = models.TextField(_("原值"), blank=True)
    new_value = models.TextField(_("新值"), blank=True)
    changed_at = models.DateTimeField(_("变更时间"))
    via = models.CharField(_("方式"), max_length=10, choices=ChangeVia.choices)
    source = models.CharField(_("新值来源"), max_length=500, blank=True)
    source_url = models.URLField(_("来源网址"), max_length=500, blank=True)
    retrieved_on = models.DateField(_("获取日期"), null=True, blank=True)
    # Who made a correction in the admin; kept for staff, never shown publicly.
    editor = models.CharField(_("编辑"), max_length=150, blank=True)

    objects = AgencyChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")
        indexes = [
            # The agency page's 变更记录, newest first, read off the index.
            models.Index(fields=["agency", "-changed_at", "-id"], name="agencychange_agency"),
            # suppress_phone: the entries that name a number, without reading the
            # whole history (only number entries are in these, and they are short).
            models.Index(
                fields=["new_value"], condition=Q(field="phones"), name="agencychange_phone_new"
            ),
            models.Index(
                fields=["old_value"], condition=Q(field="phones"), name="agencychange_phone_old"
            ),
        ]

    def __str__(self):
        return f"{self.get_field_display()}: {self.old_value} → {self.new_value}"

    @property
    def is_date(self) -> bool:
        return self.field in ChangeField.date_values()

    @property
    def is_list(self) -> bool:
        return self.field in ChangeField.list_values()

    @property
    def old_shown(self) -> str:
        return self._shown(self.old_value)

    @property
    def new_shown(self) -> str:
        return self._shown(self.new_value)

    def _shown(self, value: str) -> str:
        """A status in the page's language, a number as people write it; the rest as recorded."""
        if self.field == ChangeField.STATUS and value in Status.values:
            return str(Status(value).label)
        if self.field == ChangeField.PHONES and value:
            number = phones.normalize(value)
            return number.display if number else value
        return value


class SuppressedPhoneQuerySet(models.QuerySet):
    def keys(self) -> set[str]:
        return set(self.values_list("key", flat=True))

    def covers(self, key: str) -> bool:
        return self.filter(key=key).exists()


class SuppressedPhone(models.Model):
    """A number its owner asked us not to show (agencies.suppression).

    While it is listed, no page, API answer or export shows it and no import
    adds it back. What was shown about it is kept in `held`, out of public
    reach, so that lifting the suppression (a mistake, a withdrawn request)
    puts it back as it was.
    """

    key = models.CharField(_("号码键"), max_length=32, unique=True)
    reason = models.TextField(_("原因"))
    requested_by = models.CharField(
        _("经办人"), max_length=150, help_text=_("谁处理了这个请求（员工姓名或账号）。")
    )
    created_at = models.DateTimeField(_("屏蔽时间"), auto_now_add=True)
    held = models.JSONField(_("暂存的号码记录"), default=dict, blank=True, editable=False)

    objects = SuppressedPhoneQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("屏蔽号码")
        verbose_name_plural = _("屏蔽号码")

    def __str__(self):
        return self.key


# --- Figures kept up to date when data changes (agencies.figures) ----------------------------


class AgencyTally(models.Model):
    """How many agencies a province has, per city, status and sample flag.

    Every count a directory page shows (the home page, the province list, a
    province page's total, facets and filtered totals, an article's live
    figure) is a sum over these rows — a few hundred at most — instead of a
    count over the agency table.
    """

    pk = models.CompositePrimaryKey("province", "city", "status", "is_sample")
    # db_index off: the primary key starts with it.
    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, related_name="tallies", db_index=False
    )
    city = models.CharField(max_length=50)
    status = models.CharField(max_length=4)
    is_sample = models.BooleanField()
    n = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("机构计数")
        verbose_name_plural = _("机构计数")

    def __str__(self):
        return f"{self.province_id} {self.city} {self.status}: {self.n}"


class RegistryTotal(models.Model):
    """A whole-table count shown on /about/data/: phones, links, clients, actions."""

    name = models.CharField(max_length=30, primary_key=True)
    n = models.PositiveBigIntegerField()

    def __str__(self):
        return f"{self.name}: {self.n}"


class SourceTally(models.Model):
    """How many agencies cite each source (the data page's "largest sources")."""

    source = models.CharField(max_length=200, primary_key=True)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["-n", "source"], name="sourcetally_largest")]

    def __str__(self):
        return f"{self.source}: {self.n}"


# The name-search index's models live with the rest of search (agencies/search/);
# importing them here is how Django finds them for this app.
from .search.models import (  # noqa: E402, F401
    SearchEntry,
    SearchGramCount,
    SearchToken,
    TradeNameKey,
)


def _record_list(name: str, agency_id: int, capped: bool = True) -> QuerySet:
    query = _record_lists()[name].filter(agency_id=agency_id)
    return query[: CHANGES_SHOWN + 1] if name == "changes" and capped else query


_LIST_NAMES = ("names", "phone_links", "clients", "actions", "changes")
# 0 is never an agency's id: the marker prepared queries are compiled with.
_RECORD_LISTS = {name: Prepared(partial(_record_list, name), marker=0) for name in _LIST_NAMES}
_RECORD_LISTS_ALL = {
    name: Prepared(partial(_record_list, name, capped=False), marker=0) for name in _LIST_NAMES
}


# The record and number pages' main reads, compiled once per process too.
_AGENCY_BY_USCC = Prepared(lambda code: Agency.objects.for_listing().filter(uscc=code), marker="")
_LINKS_FOR_NUMBER = Prepared(lambda key: AgencyPhone.objects.for_number(key), marker="")


def agency_by_uscc(code: str) -> Agency | None:
    """`Agency.objects.for_listing().filter(uscc=code).first()`, prepared (portal.prepared)."""
    found = _AGENCY_BY_USCC(code)
    return found[0] if found else None


def links_for_number(key: str) -> list[AgencyPhone]:
    """`list(AgencyPhone.objects.for_number(key))`, prepared (portal.prepared)."""
    return _LINKS_FOR_NUMBER(key)
