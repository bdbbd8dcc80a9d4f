"""The agencies part of the JSON API (/api/v1/search, /agencies, /phones, /check): its router
and response schemas. portal/api.py mounts it; docs/api.md describes it.

The schemas read the same objects the HTML pages show (the AgencyQuerySet, the
search package, AgencyPhone.objects.for_number()), so the API cannot drift
from the pages, and they are also what /api/v1/openapi.json says.
"""

import datetime as dt
import importlib
import re
from dataclasses import asdict
from datetime import date, datetime
from typing import Literal, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Path, Query, Router
from pydantic import AliasPath, BaseModel, ConfigDict, Field, computed_field, field_validator
from pydantic_core import to_json

from portal.api_errors import ApiError, checked_by_view, responses
from portal.links import SiteUrl, absolute_url, reverse_one
from portal.paging import Page, PageParams, paginate
from portal.prepared import PreparedRows, rows_together

from . import phones
from . import uscc as uscc_lib
from .check import inputs, reading, tradenames
from .enums import ActionKind, ChangeField, ChangeVia, NameKind, PhoneKind, Status
from .filters import AgencyListFilter
from .models import (
    Agency,
    AgencyChange,
    AgencyName,
    AgencyPhone,
    Client,
    Province,
    RegulatoryAction,
    SuppressedPhone,
)
from .rows import number_rows
from .search.filters import SearchHitFilter
from .search.present import search_names
from .search.understand import InputKind, classify

router = Router(tags=["机构"])

USCC_PATTERN = r"^[0-9A-Z]{18}$"


# --- Schemas -------------------------------------------------------------------------------------
# Plain pydantic models read straight from the model instances (from_attributes):
# other names through validation_alias, related managers through a "before"
# validator, links as computed fields. Not ninja's Schema with resolve_*
# methods: it wraps every object in a Python getter, which made lists
# measurably slower than the hand-written API (docs/benchmarks.md). Notes on a
# schema are comments: a docstring would become its description in the document.


class ProvinceRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(pattern=r"^[0-9]{2}$")
    name: str


class AgencySummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uscc: str = Field(pattern=USCC_PATTERN)
    name: str
    province: ProvinceRef
    city: str
    status: Status
    is_live: bool = Field(description="存续或在业")
    is_sample: bool = Field(description="虚构的演示记录，不是真实机构。")

    # reverse_one(): Agency.get_absolute_url() without reverse()'s cost per row.
    @computed_field(description="机构网页", json_schema_extra={"format": "uri"})
    @property
    def url(self) -> SiteUrl:
        return reverse_one("agencies:agency-detail", "uscc", self.uscc)

    @computed_field(description="本接口中的完整记录", json_schema_extra={"format": "uri"})
    @property
    def api_url(self) -> SiteUrl:
        return reverse_one("api:agency", "uscc", self.uscc)


class PhoneLink(BaseModel):
    # The evidence that an agency uses a number: read from an AgencyPhone.
    model_config = ConfigDict(from_attributes=True)

    number: str = Field(
        validation_alias=AliasPath("phone", "key"), description="号码键（规范写法）"
    )
    number_as_reported: str = Field(description="来源中的原始写法")
    kind: PhoneKind = Field(validation_alias=AliasPath("phone", "kind"))
    label: str
    source: str
    source_url: str
    reported_on: date | None

    @computed_field(description="号码页", json_schema_extra={"format": "uri"})
    @property
    def url(self) -> SiteUrl:
        return reverse_one("agencies:phone-detail", "key", self.number)


class ClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    since: date | None
    until: date | None
    source_url: str


class Action(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: ActionKind
    authority: str
    decided_on: date | None
    document_number: str
    summary: str
    source_url: str

    @computed_field
    @property
    def kind_label(self) -> str:
        return str(self.kind.label)


class HistoryEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    field: ChangeField = Field(description="变了的字段，用导入格式的字段名")
    field_label: str = Field(validation_alias="field", description="字段的中文名")
    old: str = Field(validation_alias="old_value", description="原值；列表新增一项时为空")
    new: str = Field(validation_alias="new_value", description="新值；删除一项时为空")
    changed_at: datetime
    via: ChangeVia = Field(description="import：导入；admin：后台人工更正")
    source: str = Field(description="新值的来源；人工更正时是编辑的更正说明")
    source_url: str
    retrieved_on: date | None

    @field_validator("field_label", mode="before")
    @classmethod
    def _label(cls, value):
        return str(ChangeField(value).label)


class AgencyDetail(AgencySummary):
    entity_type: str
    legal_representative: str
    registered_capital: str
    registered_capital_wan: str | None = Field(description="万元，十进制字符串")
    established_on: date | None
    registration_authority: str
    address: str
    business_scope: str
    # Both from agency.names (prefetched, one query), split by kind.
    former_names: list[str] = Field(validation_alias="names")
    aliases: list[str] = Field(validation_alias="names")
    phones: list[PhoneLink] = Field(validation_alias="phone_links")
    clients: list[ClientOut]
    actions: list[Action]
    source: str
    source_url: str
    retrieved_on: date | None
    updated_at: datetime
    history: list[HistoryEntry] = Field(
        validation_alias="changes", description="变更记录，最新的在前"
    )

    @field_validator("registered_capital_wan", mode="before")
    @classmethod
    def _decimal_string(cls, wan):
        return None if wan is None else str(wan)

    # The lists come from Agency.record_lists() (agency_detail below).
    @field_validator("former_names", mode="before")
    @classmethod
    def _former(cls, names):
        return [n.name for n in names if n.kind == NameKind.FORMER]

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, names):
        return [n.name for n in names if n.kind == NameKind.ALIAS]


class PhoneInfo(BaseModel):
    # A number as agencies.phones reads it: read from a phones.Phone.
    model_config = ConfigDict(from_attributes=True)

    # Read from phones.Phone.display; called `number` in the JSON.
    number: str = Field(validation_alias="display", description="常见写法，如 139 0731 0000")
    key: str = Field(description="规范号码键，用于 /phone/{key}/")
    kind: PhoneKind
    kind_label: str
    region: str = Field(description="归属地（按号段推断）")
    carrier: str = Field(description="原始运营商；可能已携号转网")


class LinkedAgency(AgencySummary):
    # An agency under a number, with the evidence (set on it by phone_detail()).
    link: PhoneLink


class PhoneDetail(PhoneInfo):
    suppressed: bool = Field(
        default=False,
        description="号码所有人要求不予显示：此时不给出归属地、运营商和任何机构",
    )
    shared: bool = Field(description="多家机构使用同一号码")
    count: int = Field(ge=0)
    agencies: list[LinkedAgency]


class UsccCheck(BaseModel):
    code: str
    valid: bool
    message: str
    expected: str | None = Field(
        description=(
            "校验位不对时，前 17 位加上按它们算出的校验位。不是更正：校验位说明不了错在哪一位，"
            "名录中的这个代码多半属于另一家公司"
        )
    )
    found: bool


class AgencyPage(Page[AgencySummary]):
    pass


# The check's text: at least one character that is not white space, and no
# NUL. Python's \s is str.isspace(), so this is the view's own test.
TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"

# called_at: blank, HH:MM, or an ISO 8601 date-time with its offset, seconds
# and fraction optional. Spelled out so that every string the pattern allows
# is a real moment inputs.called_at() can read: real calendar days (29
# February in leap years only), and years 0002–9998, whose times stay inside
# Python's calendar once moved to China time.
_HHMM = "([01][0-9]|2[0-3]):[0-5][0-9]"
_YEAR = "(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
_LEAP_YEAR = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
_DAY = (
    f"({_YEAR}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    f"|02-(0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)"
)
_OFFSET = "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
CALLED_AT_PATTERN = rf"^({_HHMM}|{_DAY}T{_HHMM}(:[0-5][0-9](\.[0-9]{{1,6}})?)?{_OFFSET})?$"


class CheckIn(BaseModel):
    text: str = Field(
        description=(
            f"收到的短信、微信消息或通话记录全文，最多 {reading.MAX_TEXT} 字（超出为 413），"
            "不能全是空白，不能含空字符（NUL）"
        ),
        json_schema_extra={
            "minLength": 1,
            "maxLength": reading.MAX_TEXT,
            "pattern": TEXT_PATTERN,
        },
    )
    called_at: str | None = Field(
        None,
        description=(
            "来电或收到消息的时间，可不填：HH:MM（24 小时制，北京时间），"
            "或带时区的 ISO 8601 日期时间（如 2026-03-05T15:30:00Z，秒可省略），按北京时间读取"
        ),
        examples=["23:30", "2026-03-05T23:30:00+08:00"],
        # Beside anyOf [string, null]: `pattern` constrains only the string.
        json_schema_extra={"pattern": CALLED_AT_PATTERN},
    )


class CheckPhone(BaseModel):
    number: str = Field(description="常见写法")
    key: str = Field(description="规范号码键")
    kind: PhoneKind
    region: str = Field(description="号段登记地，不是对方的地址")
    url: SiteUrl = Field(json_schema_extra={"format": "uri"}, description="号码页")
    agencies: list[str] = Field(description="名录中使用这个号码的机构的统一社会信用代码")


class SimilarCode(BaseModel):
    uscc: str
    name: str


class CheckCode(BaseModel):
    code: str
    valid: bool
    message: str = Field(description="代码有误时说明哪里不对")
    expected: str | None = Field(
        description=(
            "只有校验位不对时，前 17 位加上按它们算出的校验位。不是更正：校验位说明不了错在哪一位"
        )
    )
    uscc: str | None = Field(description="名录中代码就是它的机构（只对正确的代码）")
    similar: SimilarCode | None = Field(
        description="代码有误时，名录中只有最后一位与它不同的代码：另一家公司，不是更正"
    )


class CheckAgency(AgencySummary):
    # An agency the message led to, with how (set on it by _with_how_found()).
    found_by: list[
        Literal["phone", "credit_code", "name", "place_and_trade_name", "trade_name"]
    ] = Field(
        description="怎样找到的：文中的号码、统一社会信用代码、名称（现名、曾用名或对外使用的名称），"
        "地名加字号（如“岳阳鼎盛”），或名录中只有这一家使用的字号（如“鼎盛”）"
    )
    matched_text: str = Field(description="文中出现的名称或字号原文（按名称或字号找到时）")


class CheckCandidates(BaseModel):
    # A trade name in the message that several agencies carry (reading.SharedName).
    model_config = ConfigDict(from_attributes=True)

    matched_text: str = Field(description="文中出现的字号（或地名加字号）原文")
    count: int = Field(ge=2, description="名录中使用这个字号的机构数")
    agencies: list[AgencySummary] = Field(
        description=(
            f"使用这个字号的机构（最多列出 {tradenames.SHOWN} 家）：文中说的是哪一家，无法确定"
        )
    )


class CheckMatch(BaseModel):
    start: int = Field(description="起点：text 中第一个字的下标（从 0 起，按 Unicode 码位）")
    end: int = Field(description="终点：最后一个字之后的下标，text[start:end] 即触发的文字")


class CheckSignal(BaseModel):
    code: str = Field(description="固定代码，如 threat_arrest、third_party_contact")
    level: Literal["violation", "warning", "info"] = Field(
        description="violation：可能违反可引用的规则；warning：诈骗或高风险迹象；info：说明"
    )
    title: str
    quote: str = Field(description="触发的原句（night_contact 为所填时间）")
    match: list[CheckMatch] = Field(
        description="触发这一信号的文字在所提交 text 中的位置（按 Unicode 码位计数；"
        "night_contact 为空）"
    )
    message: str = Field(description="规则怎么说、对你意味着什么")
    sources: list[str] = Field(description="所依据的法规和规定")
    article_url: SiteUrl = Field(json_schema_extra={"format": "uri"}, description="延伸阅读")


class CheckResult(BaseModel):
    phones: list[CheckPhone]
    credit_codes: list[CheckCode]
    agencies: list[CheckAgency]
    candidates: list[CheckCandidates] = Field(
        description="文中出现、但名录中有多家机构使用的字号：列出这些机构，不认定是哪一家"
    )
    signals: list[CheckSignal]
    steps: list[str] = Field(description="接下来可以做的事，按信号排列")
    truncated: bool = Field(description="号码太多，只读了前面的一部分")


def _absent_when_none(value) -> bool:
    return value is None


class SearchResults(Page[AgencySummary]):
    query: str = Field(description="清理后的输入")
    kind: InputKind = Field(description="输入被理解为：电话号码、统一社会信用代码、名称或空")
    # Present only for that kind of input, as before: clients test for the key.
    phone: PhoneInfo | None = Field(None, exclude_if=_absent_when_none)
    uscc: UsccCheck | None = Field(None, exclude_if=_absent_when_none)


# --- Parameters ----------------------------------------------------------------------------------
# Each parameter's schema says exactly what the API accepts, and the view
# refuses anything else with a 400 (or, for a path that names no record, a
# 404) before any query runs: a client, and Schemathesis, can trust the
# document both ways. The patterns are checked here with Python's `re`, as
# the document's validators read them (pydantic would use another engine).

# The provinces the migration loads (a frozen list; the table never changes
# at run time), and every spelling of each that the filters understand.
PROVINCE_ROWS = importlib.import_module("agencies.migrations.0002_load_provinces").PROVINCES


def _province_spellings() -> list[str]:
    spellings = []
    for code, name, short, alt, slug in PROVINCE_ROWS:
        with translation.override("zh-hans"):  # 湖南 for 湖南省, as on the pages
            bare = Province(code=code, name=name).display_name
        spellings += [code, f"{code}0000", name, bare, short, alt, slug]
    return list(dict.fromkeys(s for s in spellings if s))


PROVINCE_VALUES = _province_spellings()
STATUS_VALUES = list(Status.values)
# One status, or several joined by commas (each may also be repeated).
_ONE_STATUS = "|".join(map(re.escape, STATUS_VALUES))
STATUS_LIST_PATTERN = rf"^({_ONE_STATUS})(,({_ONE_STATUS}))*$"

# The credit code in a path: its 18 characters as the registry writes them
# (GB 32100: no I, O, S, V, Z; characters 3–8 a division code), in either
# case. Its check character cannot be a pattern: a code of this shape whose
# check character disagrees is a 404, since no agency can have it.
_USCC_CHAR = "0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y"
USCC_PATH_PATTERN = rf"^[{_USCC_CHAR}]{{2}}[0-9]{{6}}[{_USCC_CHAR}]{{10}}$"

# A number in a path: digits (half- or full-width), an optional leading +,
# and the separators people write between groups, up to what
# agencies.phones reads of an input. Whether it is a number at all is the
# endpoint's answer (404 if not), so the pattern only bounds the spelling.
PHONE_PATH_PATTERN = rf"^[+＋]?[0-9０-９ .·()（）\-–—]{{3,{phones.MAX_INPUT - 1}}}$"


class NameFilters(BaseModel):
    # Declared for the document only: _exact_filters() checks the values, then
    # the filtersets read them from request.GET (repeated statuses too).

    province: str = Field(
        "",
        description="省份：代码（43、430000）、名称（湖南省、湖南）、简称（湘）或拼音（hunan）",
        json_schema_extra=checked_by_view(enum=PROVINCE_VALUES),
    )
    status: list[str] = Field(
        default_factory=list,
        description="登记状态，可重复（status=存续&status=在业）或用英文逗号分隔（存续,在业）",
        json_schema_extra=checked_by_view(
            items={
                "type": "string",
                "anyOf": [{"enum": STATUS_VALUES}, {"pattern": STATUS_LIST_PATTERN}],
            }
        ),
    )


class UsccPath(BaseModel):
    uscc: str = Field(
        description="统一社会信用代码，18 位（字母大小写不限）",
        json_schema_extra={"pattern": USCC_PATH_PATTERN, "examples": ["91430100MA4L0P5U37"]},
    )


class PhonePath(BaseModel):
    key: str = Field(
        description=(
            "号码，常见写法均可（如 0731-88888888、+86 139 0731 0000）；返回中的 key 是规范写法"
        ),
        json_schema_extra={
            "pattern": PHONE_PATH_PATTERN,
            "examples": ["13907310000", "0731-88888888", "400-800-1234"],
        },
    )


def _exact_filters(request) -> None:
    """400 for a province or status the document does not list (NameFilters)."""
    province = request.GET.get("province")
    if province is not None and province not in PROVINCE_VALUES:
        message = _(
            "没有这个省份：“%(value)s”。"
            "可以用代码（如 43）、名称（湖南省、湖南）、简称（湘）或拼音（hunan）。"
        )
        raise ApiError(400, message % {"value": province[:40]}, "province")
    for status in request.GET.getlist("status"):
        if status not in STATUS_VALUES and not re.search(STATUS_LIST_PATTERN, status):
            message = _(
                "没有这个登记状态：“%(value)s”。可以是 %(choices)s，可重复，或用英文逗号分隔。"
            )
            choices = "、".join(STATUS_VALUES)
            raise ApiError(400, message % {"value": status[:40], "choices": choices}, "status")


def _check(filterset) -> None:
    if not filterset.filtering:
        return  # no filter named, none to refuse
    if not filterset.form.is_valid():
        name, errors = next(iter(filterset.form.errors.items()))
        raise ApiError(400, f"{name}：{' '.join(errors)}", name)


def _name_page(request, folded: str, paging: PageParams) -> dict:
    filterset = SearchHitFilter(request.GET)
    _check(filterset)
    results = search_names(
        folded,
        filterset,
        page=paging.page,
        page_size=paging.page_size,
        version=getattr(request, "data_version", None),
    )
    return paginate(
        request, paging, results.page, partial=results.partial, each=lambda hit: hit.agency
    )


def _exact_answer(query) -> tuple[list, dict]:
    """For a number or a credit code: the agencies (a few at most) and the block
    that describes the input (`phone` or `uscc`); nothing for empty input."""
    if query.kind == InputKind.PHONE:
        links = AgencyPhone.objects.for_number(query.phone.key)
        return [link.agency for link in links], {"phone": query.phone}
    if query.kind == InputKind.USCC:
        agency = None
        if not query.uscc_error:
            agency = Agency.objects.for_listing().filter(uscc=query.uscc).first()
        check = {
            "code": query.uscc,
            "valid": query.uscc_error is None,
            "message": query.uscc_error.message if query.uscc_error else "",
            "expected": query.uscc_expected or None,
            "found": agency is not None,
        }
        return ([agency] if agency else []), {"uscc": check}
    return [], {}


# --- Endpoints -----------------------------------------------------------------------------------
# Each returns an instance of its response schema: ninja then serialises it
# as it is, instead of validating the answer again through a wrapper model;
# the record and the number return their JSON themselves (see below).


@router.get(
    "/search",
    response=responses(SearchResults),
    operation_id="search",
    url_name="search",
    summary="一个输入框：号码、统一社会信用代码或名称",
    description=(
        "先判断输入是电话号码、统一社会信用代码还是名称（kind），再查询。"
        "名称按完全一致、开头一致、包含、曾用名或别名、拼音的顺序排列；"
        "province、status 只筛选名称查询的结果。"
    ),
)
def search(
    request,
    filters: Query[NameFilters],
    paging: Query[PageParams],
    q: str = Query(
        "", description="来电号码、公司名称（简繁、拼音、首字母均可）或统一社会信用代码"
    ),
):
    # Checked for every kind of input, though only names use them: a value
    # the document refuses is refused whatever `q` is.
    _exact_filters(request)
    query = classify(q)
    body = {"query": query.text, "kind": query.kind}
    if query.kind == InputKind.NAME:
        return SearchResults.model_validate({**body, **_name_page(request, query.folded, paging)})
    rows, about = _exact_answer(query)
    page = paginate(request, paging, paging.page_of(rows))
    return SearchResults.model_validate({**body, **page, **about})


@router.get(
    "/agencies",
    response=responses(AgencyPage),
    operation_id="listAgencies",
    url_name="agencies",
    summary="机构列表（可按省份、状态筛选，可按名称查询）",
    description="没有 q 时按统一社会信用代码排序；有 q 时与 /api/v1/search 的名称查询相同。",
)
def agency_list(
    request,
    filters: Query[NameFilters],
    paging: Query[PageParams],
    q: str = Query("", description="名称关键词"),
):
    _exact_filters(request)
    folded = classify(q).folded if q else ""
    if folded:
        return AgencyPage.model_validate(_name_page(request, folded, paging))
    filterset = AgencyListFilter(request.GET, queryset=Agency.objects.for_listing())
    _check(filterset)
    # Credit-code order: unique, so stable, and served by its unique index.
    return AgencyPage.model_validate(
        paginate(request, paging, paging.page_of(filterset.qs.order_by("uscc")))
    )


@router.get(
    "/agencies/{uscc}",
    response=responses(AgencyDetail),
    operation_id="getAgency",
    url_name="agency",
    summary="一家机构的完整记录，含号码、曾用名、委托方、监管记录和来源",
)
def agency_detail(request, path: Path[UsccPath]):
    if not re.search(USCC_PATH_PATTERN, path.uscc):
        # Out of the document's pattern: say what is wrong, as the search does.
        try:
            uscc_lib.validate(path.uscc[:40])
            message = _("地址中的统一社会信用代码只写 18 位数字和字母，不加空格或符号。")
        except uscc_lib.UsccError as error:
            message = error.message
        raise ApiError(400, message, "uscc")
    try:
        code = uscc_lib.validate(path.uscc)
    except uscc_lib.UsccError as error:
        # Only the check character can be wrong here: no agency has this code.
        raise ApiError(404, error.message, "uscc") from None
    body = record_answer(request, code)
    if body is None:
        raise ApiError(404, f"本站名录中没有统一社会信用代码为 {code} 的机构。")
    return json_answer(body)


@router.get(
    "/phones/{key}",
    response=responses(PhoneDetail),
    operation_id="getPhone",
    url_name="phone",
    summary="一个号码：类型、归属地、原始运营商，以及使用它的机构和来源",
    description=(
        "没有人导入过的号码也有回答（count 为 0）；不是号码的输入是 404。"
        "号码所有人要求不予显示的号码：suppressed 为 true，不给出归属地、运营商和机构。"
    ),
)
def phone_detail(request, path: Path[PhonePath]):
    key = path.key
    number = phones.normalize(key) if re.search(PHONE_PATH_PATTERN, key) else None
    if number is None:
        raise ApiError(404, _("“%(key)s”不是一个能识别的电话号码。") % {"key": key[:40]})
    return json_answer(number_answer(request, number))


# --- The record and the number, straight to JSON ----------------------------------------------
# The two answers clients ask for most, one record each. They are read as rows
# (portal.prepared.PreparedRows: SQL compiled once, no model instances) and
# written as dicts of exactly their schema's shape (AgencyDetail, PhoneDetail
# above, which still make the document), encoded in one step by pydantic's
# Rust encoder. Validating an answer built here from typed columns was most of
# its cost (docs/benchmarks.md); tests/test_api_speed.py holds every answer to
# what its schema makes of the same record, key order included.

_SUMMARY = ("uscc", "name", "province__code", "province__name", "city", "status", "is_sample")
_DETAIL = (
    "id",
    *_SUMMARY,
    "entity_type",
    "legal_representative",
    "registered_capital",
    "registered_capital_wan",
    "established_on",
    "registration_authority",
    "address",
    "business_scope",
    "source",
    "source_url",
    "retrieved_on",
    "updated_at",
)
_LINK = ("phone__key", "number_as_reported", "phone__kind", "label", "source", "source_url")
_LINK_DATE = "reported_on"
_CHANGE = (
    "field",
    "old_value",
    "new_value",
    "changed_at",
    "via",
    "source",
    "source_url",
    "retrieved_on",
)

# Agency.record_lists() in the same orders (tests/test_api_speed.py compares
# them), as rows; 0 is never an agency's id.
_AGENCY_ROW = PreparedRows(
    lambda code: Agency.objects.filter(uscc=code).values_list(*_DETAIL), marker=""
)
_RECORD_ROWS = {
    "names": PreparedRows(
        lambda pk: (
            AgencyName.objects.filter(agency_id=pk)
            .order_by("kind", "name")
            .values_list("name", "kind")
        ),
        marker=0,
    ),
    "phones": PreparedRows(
        lambda pk: (
            AgencyPhone.objects.filter(agency_id=pk)
            .order_by("phone__key")
            .values_list(*_LINK, _LINK_DATE)
        ),
        marker=0,
    ),
    "clients": PreparedRows(
        lambda pk: (
            Client.objects.filter(agency_id=pk)
            .order_by("name")
            .values_list("name", "since", "until", "source_url")
        ),
        marker=0,
    ),
    "actions": PreparedRows(
        lambda pk: (
            RegulatoryAction.objects.filter(agency_id=pk)
            .order_by("-decided_on", "id")
            .values_list(
                "kind", "authority", "decided_on", "document_number", "summary", "source_url"
            )
        ),
        marker=0,
    ),
    "history": PreparedRows(
        lambda pk: AgencyChange.objects.filter(agency_id=pk).newest_first().values_list(*_CHANGE),
        marker=0,
    ),
}
_LIVE = frozenset(Status.live_values())
# Dates and times written as the API always wrote them (ninja's encoder:
# milliseconds, "Z" for UTC).
_ENCODER = DjangoJSONEncoder()


def _when(value):
    return None if value is None else _ENCODER.default(value)


def json_answer(body: dict) -> HttpResponse:
    """A 200 in the API's JSON (UTF-8, Chinese as characters; portal.api's content type)."""
    return HttpResponse(to_json(body), content_type="application/json")


class _Site(NamedTuple):
    # What SiteUrl writes before a path (portal.links), and the language the
    # paths are in: worked out once per answer, not per link.
    origin: str
    language: str


def _site(request) -> _Site:
    return _Site(absolute_url(request, "/").removesuffix("/"), translation.get_language())


def _summary(row, site: _Site) -> tuple[dict, dict]:
    """AgencySummary's fields from its seven columns, and its two links (which a
    schema writes after every other field, its subclasses' included)."""
    uscc, name, province, province_name, city, status, is_sample = row
    fields = {
        "uscc": uscc,
        "name": name,
        "province": {"code": province, "name": province_name},
        "city": city,
        "status": status,
        "is_live": status in _LIVE,
        "is_sample": is_sample,
    }
    links = {
        "url": site.origin + reverse_one("agencies:agency-detail", "uscc", uscc, site.language),
        "api_url": site.origin + reverse_one("api:agency", "uscc", uscc, site.language),
    }
    return fields, links


def _phone_link(row, site: _Site) -> dict:
    """PhoneLink from the columns _LINK + reported_on."""
    key, as_reported, kind, label, source, source_url, reported_on = row
    return {
        "number": key,
        "number_as_reported": as_reported,
        "kind": kind,
        "label": label,
        "source": source,
        "source_url": source_url,
        "reported_on": _when(reported_on),
        "url": site.origin + reverse_one("agencies:phone-detail", "key", key, site.language),
    }


def record_answer(request, code: str) -> dict | None:
    """The AgencyDetail of the agency with credit code `code`, or None."""
    found = _AGENCY_ROW(code)
    if not found:
        return None
    pk, *summary = found[0][:8]
    (
        entity_type, legal_representative, registered_capital, wan, established_on,
        registration_authority, address, business_scope, source, source_url, retrieved_on,
        updated_at,
    ) = found[0][8:]  # fmt: skip
    # One round trip for the five lists where the database is across a network.
    read = rows_together([(rows, pk) for rows in _RECORD_ROWS.values()])
    lists = dict(zip(_RECORD_ROWS, read, strict=True))
    site = _site(request)
    fields, links = _summary(summary, site)
    names = lists["names"]
    return {
        **fields,
        "entity_type": entity_type,
        "legal_representative": legal_representative,
        "registered_capital": registered_capital,
        "registered_capital_wan": None if wan is None else str(wan),
        "established_on": _when(established_on),
        "registration_authority": registration_authority,
        "address": address,
        "business_scope": business_scope,
        "former_names": [name for name, kind in names if kind == NameKind.FORMER],
        "aliases": [name for name, kind in names if kind == NameKind.ALIAS],
        "phones": [_phone_link(row, site) for row in lists["phones"]],
        "clients": [
            {"name": name, "since": _when(since), "until": _when(until), "source_url": url}
            for name, since, until, url in lists["clients"]
        ],
        "actions": [
            {
                "kind": kind,
                "authority": authority,
                "decided_on": _when(decided_on),
                "document_number": document_number,
                "summary": summary_text,
                "source_url": url,
                "kind_label": str(ActionKind(kind).label),
            }
            for kind, authority, decided_on, document_number, summary_text, url in lists["actions"]
        ],
        "source": source,
        "source_url": source_url,
        "retrieved_on": _when(retrieved_on),
        "updated_at": _when(updated_at),
        "history": [
            {
                "field": field,
                "field_label": str(ChangeField(field).label),
                "old": old,
                "new": new,
                "changed_at": _when(changed_at),
                "via": via,
                "source": change_source,
                "source_url": change_url,
                "retrieved_on": _when(change_retrieved),
            }
            for field, old, new, changed_at, via, change_source, change_url, change_retrieved in (
                lists["history"]
            )
        ],
        **links,
    }


def number_answer(request, number: phones.Phone) -> dict:
    """The PhoneDetail of a number agencies.phones has read."""
    # Suppressing a number deletes its links in the same transaction
    # (agencies.suppression), so a number with agencies is not suppressed; one
    # without is looked up on the list (one more query, only then).
    rows = number_rows(number.key)  # in agencies.rows.NUMBER_COLUMNS' order
    suppressed = not rows and SuppressedPhone.objects.covers(number.key)
    site = _site(request)
    agencies = []
    for row in rows:
        uscc, name, city, status, is_sample, _established, code, province, *link = row
        key, kind, as_reported, label, source, source_url, reported_on = link
        fields, links = _summary((uscc, name, code, province, city, status, is_sample), site)
        link = (key, as_reported, kind, label, source, source_url, reported_on)
        agencies.append({**fields, "link": _phone_link(link, site), **links})
    return {
        "number": number.display,
        "key": number.key,
        "kind": str(number.kind),
        "kind_label": phones.kind_label(number.kind, site.language),
        # A number its owner asked us not to show: nothing said about where it
        # was allotted either.
        "region": "" if suppressed else number.region,
        "carrier": "" if suppressed else number.carrier,
        "suppressed": suppressed,
        "shared": len({row[0] for row in rows}) > 1,
        "count": len(rows),
        "agencies": agencies,
    }


def _called_at(raw: str | None) -> dt.time | None:
    # Read as the page's form reads it, once the document's pattern allows it.
    if not raw:
        return None
    try:
        if not re.search(CALLED_AT_PATTERN, raw):
            raise ValueError(raw)
        # Python's `$` also matches before a final newline: "\n" is blank too.
        return inputs.called_at(raw) if raw.strip() else None
    except ValueError:
        raise ApiError(
            400,
            "called_at 应是 HH:MM 形式的时间（例如 23:30），"
            "或带时区的 ISO 8601 日期时间（例如 2026-03-05T23:30:00+08:00）。",
            "called_at",
        ) from None


def _with_how_found(found: reading.FoundAgency):
    # CheckAgency reads the agency itself (like LinkedAgency and its link).
    found.agency.found_by = found.found_by
    found.agency.matched_text = found.matched_text
    return found.agency


def check_answer(result: reading.Reading) -> CheckResult:
    """The reading as the API (and its document) words it."""
    return CheckResult.model_validate(
        {
            "phones": [
                {
                    "number": found.number.display,
                    "key": found.number.key,
                    "kind": found.number.kind,
                    "region": found.number.region,
                    "url": found.number.url,
                    "agencies": found.agencies,
                }
                for found in result.phones
            ],
            "credit_codes": [
                {
                    **asdict(code),
                    "expected": code.expected or None,
                    "uscc": code.uscc or None,
                    "similar": (
                        {"uscc": code.similar, "name": code.similar_name} if code.similar else None
                    ),
                }
                for code in result.credit_codes
            ],
            "agencies": [_with_how_found(found) for found in result.agencies],
            "candidates": result.candidates,
            "signals": [
                {
                    "code": signal.rule.code,
                    "level": signal.rule.level,
                    "title": signal.rule.title,
                    "quote": signal.quote,
                    "match": [{"start": start, "end": end} for start, end in signal.matches],
                    "message": signal.rule.message,
                    "sources": signal.rule.sources,
                    "article_url": signal.article_url,
                }
                for signal in result.signals
            ],
            "steps": result.steps,
            "truncated": result.truncated,
        }
    )


@router.post(
    "/check",
    response=responses(CheckResult, also=(413, 415)),
    operation_id="checkMessage",
    url_name="check",
    summary="检查一条催收消息：其中的号码、代码、机构，以及哪些说法与规则不符",
    description=(
        "把收到的短信、微信消息或通话记录全文 POST 过来（JSON），返回其中的电话号码、"
        "统一社会信用代码、名录中出现的机构，以及与已知说法相符的信号（signals）。"
        "这是对文字的自动解读，不是法律意见；没有找到登记机构，既不证明对方可信，也不证明不可信。"
        "文字不保存、不记录、不缓存：每个回答（错误也一样）都带 Cache-Control: no-store。"
        "请求体须是 UTF-8 的 JSON（Content-Type: application/json，否则为 415）。"
    ),
)
def check(request, payload: CheckIn):
    # Before the other checks, as the page's form does (its field validators
    # run before clean_text).
    if "\x00" in payload.text:
        raise ApiError(400, str(inputs.NUL_IN_TEXT), "text")
    if not payload.text.strip():  # TEXT_PATTERN says the same
        raise ApiError(400, "text 不能为空：请粘贴收到的消息全文。", "text")
    if len(payload.text) > reading.MAX_TEXT:
        raise ApiError(
            413, f"text 太长：最多 {reading.MAX_TEXT} 字，这里是 {len(payload.text)} 字。", "text"
        )
    return check_answer(reading.read(payload.text, _called_at(payload.called_at)))
