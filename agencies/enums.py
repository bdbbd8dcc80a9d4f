"""Fixed vocabularies, each with a tolerant parser for import files and query strings."""

import unicodedata

from django.db import models
from django.utils.translation import gettext_lazy as _


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().lower()


class TolerantChoicesMixin:
    """`parse()` accepts the value, the label, or a listed synonym, in any case or width."""

    @classmethod
    def synonyms(cls) -> dict[str, str]:
        return {}

    @classmethod
    def parse(cls, raw):
        if raw is None:
            return None
        folded = _fold(str(raw))
        if not folded:
            return None
        for member in cls:
            if folded in {_fold(member.value), _fold(str(member.label))}:
                return member
        # Synonym keys are folded the same way, so the registry's full-width
        # punctuation ("存续（在营、开业、在册）") matches.
        target = {_fold(key): value for key, value in cls.synonyms().items()}.get(folded)
        return cls(target) if target else None


class Status(TolerantChoicesMixin, models.TextChoices):
    # Registration statuses as the official registry words them.
    EXISTING = "存续", _("存续")
    OPERATING = "在业", _("在业")
    REVOKED = "吊销", _("吊销")
    CANCELLED = "注销", _("注销")
    MOVED_OUT = "迁出", _("迁出")
    WITHDRAWN = "撤销", _("撤销")
    SUSPENDED = "停业", _("停业")
    OTHER = "其他", _("其他")

    @classmethod
    def synonyms(cls):
        return {
            "存续（在营、开业、在册）": "存续",
            "在营": "存续",
            "开业": "存续",
            "在册": "存续",
            "吊销，未注销": "吊销",
            "吊销未注销": "吊销",
            "已注销": "注销",
            "已吊销": "吊销",
            "active": "存续",
            "revoked": "吊销",
            "cancelled": "注销",
            "canceled": "注销",
        }

    @classmethod
    def live_values(cls) -> tuple[str, ...]:
        return (cls.EXISTING.value, cls.OPERATING.value)

    @property
    def is_live(self) -> bool:
        return self.value in self.live_values()

    @property
    def explanation(self) -> str:
        return str(STATUS_EXPLANATIONS[self.value])


STATUS_EXPLANATIONS = {
    "存续": _("企业依法存在，登记有效，可以正常经营。"),
    "在业": _("企业正在经营，登记有效（与“存续”含义相近，不同地区用词不同）。"),
    "吊销": _("营业执照已被登记机关吊销，不得再开展经营活动，但企业的法人资格可能尚未注销。"),
    "注销": _("企业已办理注销登记，法律上已不存在，不能再以该名义开展任何业务。"),
    "迁出": _("企业登记已迁到其他地区的登记机关，请以迁入地的登记记录为准。"),
    "撤销": _("企业登记已被撤销，视同未取得登记。"),
    "停业": _("企业处于停业状态，暂不经营。"),
    "其他": _("登记状态不属于上述常见类别，请到国家企业信用信息公示系统核对。"),
}


class PhoneKind(TolerantChoicesMixin, models.TextChoices):
    MOBILE = "mobile", _("手机")
    LANDLINE = "landline", _("固定电话")
    TOLL_FREE = "toll_free", _("400/800 号码")
    SERVICE = "service", _("服务号码")
    FOREIGN = "foreign", _("境外号码")
    UNKNOWN = "unknown", _("无法识别")


class NameKind(TolerantChoicesMixin, models.TextChoices):
    FORMER = "former", _("曾用名")
    ALIAS = "alias", _("对外使用的名称")


class ActionKind(TolerantChoicesMixin, models.TextChoices):
    PENALTY = "penalty", _("行政处罚")
    ABNORMAL = "abnormal", _("经营异常名录")
    SERIOUS = "serious", _("严重违法失信名单")
    OTHER = "other", _("其他")

    @classmethod
    def synonyms(cls):
        return {
            "经营异常": "abnormal",
            "异常名录": "abnormal",
            "列入经营异常名录": "abnormal",
            "严重违法失信企业名单": "serious",
            "严重违法失信": "serious",
            "处罚": "penalty",
        }


class ChangeField(models.TextChoices):
    """What a history entry (models.AgencyChange) changed: a field the agency page
    shows, named as in the import format. The list fields record one entry per
    value added (old empty) or removed (new empty)."""

    NAME = "name", _("名称")
    ENTITY_TYPE = "entity_type", _("企业类型")
    LEGAL_REPRESENTATIVE = "legal_representative", _("法定代表人")
    REGISTERED_CAPITAL = "registered_capital", _("注册资本")
    ESTABLISHED_ON = "established_on", _("成立日期")
    STATUS = "status", _("登记状态")
    REGISTRATION_AUTHORITY = "registration_authority", _("登记机关")
    ADDRESS = "address", _("住所")
    PROVINCE = "province", _("省份")
    CITY = "city", _("城市")
    BUSINESS_SCOPE = "business_scope", _("经营范围")
    FORMER_NAMES = "former_names", _("曾用名")
    ALIASES = "aliases", _("对外使用的名称")
    PHONES = "phones", _("号码")
    CLIENTS = "clients", _("委托方")
    ACTIONS = "actions", _("监管记录")

    @classmethod
    def list_values(cls) -> frozenset[str]:
        return frozenset({cls.FORMER_NAMES, cls.ALIASES, cls.PHONES, cls.CLIENTS, cls.ACTIONS})

    @classmethod
    def date_values(cls) -> frozenset[str]:
        return frozenset({cls.ESTABLISHED_ON})


class ChangeVia(models.TextChoices):
    IMPORT = "import", _("导入")
    ADMIN = "admin", _("人工更正")
