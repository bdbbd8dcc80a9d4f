"""Honouring a number owner's request not to be shown (issue 15; docs/corrections.md).

Suppressing a number takes it out of everything public in one transaction:
its links to agencies, its row in the number table and the history entries
that name it. What was shown is kept in the suppression row (`held`, staff
only), so that lifting the suppression puts it back; until then the number
page answers with a neutral line and no import adds the number again
(importing.writing consults the list).

The commands `suppress_phone` / `unsuppress_phone` and the admin both come here.
"""

from django.db import transaction

from . import phones
from .enums import ChangeField
from .models import Agency, AgencyChange, AgencyPhone, Phone, SuppressedPhone


class SuppressionError(Exception):
    """A request that cannot be carried out; the message says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def number_key(raw: str) -> str:
    number = phones.normalize(raw or "")
    if number is None:
        raise SuppressionError(f"“{(raw or '')[:40]}”不是一个能识别的电话号码。")
    return number.key


# What `held` keeps of each row, by attname: enough to create it again.
_LINK_FIELDS = ("number_as_reported", "label", "source", "source_url", "reported_on")
_CHANGE_FIELDS = (
    "field", "old_value", "new_value", "changed_at", "via", "source", "source_url",
    "retrieved_on", "editor",
)  # fmt: skip


def _held(row, fields) -> dict:
    """A row of an agency as JSON: its agency's credit code and `fields`, dates as ISO text."""
    values = {name: getattr(row, name) for name in fields}
    for name, value in values.items():
        if hasattr(value, "isoformat"):
            values[name] = value.isoformat()
    return {"uscc": row.agency.uscc, **values}


def _changes_naming(key: str):
    """History entries that name the number: two lookups, each one seek in its partial
    index (an OR of the two columns made SQLite and PostgreSQL read all of one)."""
    numbers = AgencyChange.objects.filter(field=ChangeField.PHONES)
    ids = {
        *numbers.filter(new_value=key).values_list("id", flat=True),
        *numbers.filter(old_value=key).values_list("id", flat=True),
    }
    return AgencyChange.objects.filter(id__in=ids)


@transaction.atomic
def suppress(raw: str, *, reason: str, by: str) -> tuple[SuppressedPhone, int]:
    """List the number and take it off every agency; (the row, how many agencies had it)."""
    key = number_key(raw)
    reason, by = (reason or "").strip(), (by or "").strip()
    if not reason:
        raise SuppressionError("请写明原因（--reason），例如谁在哪天以什么方式提出了请求。")
    if not by:
        raise SuppressionError("请写明经办人（--by）。")
    if SuppressedPhone.objects.covers(key):
        raise SuppressionError(f"号码 {key} 已在屏蔽名单上。")
    links = list(AgencyPhone.objects.filter(phone__key=key).select_related("agency"))
    changes = _changes_naming(key)
    held = {
        "links": [_held(link, _LINK_FIELDS) for link in links],
        "changes": [
            _held(change, _CHANGE_FIELDS)
            for change in changes.select_related("agency").order_by("id")
        ],
    }
    # Deleted one by one (the querysets send the signals): the counts pages show
    # and the data version that cached pages depend on follow.
    changes.delete()
    Phone.objects.filter(key=key).delete()  # cascades to its links
    entry = SuppressedPhone.objects.create(key=key, reason=reason, requested_by=by, held=held)
    return entry, len({link.agency_id for link in links})


@transaction.atomic
def unsuppress(raw: str) -> int:
    """Take the number off the list and put back what was held; how many agencies got it back.

    Agencies deleted in the meantime are skipped; links an import or an editor
    has added since (they cannot, while listed) are left as they are.
    """
    key = number_key(raw)
    entry = SuppressedPhone.objects.filter(key=key).first()
    if entry is None:
        raise SuppressionError(f"号码 {key} 不在屏蔽名单上。")
    held = entry.held or {}
    wanted = {item["uscc"] for item in held.get("links", []) + held.get("changes", [])}
    agencies = dict(Agency.objects.filter(uscc__in=wanted).values_list("uscc", "id"))
    restored = set()
    links = [item for item in held.get("links", []) if item["uscc"] in agencies]
    if links:
        kind = phones.classify(key)
        phone, _ = Phone.objects.get_or_create(key=key, defaults={"kind": kind[1] if kind else ""})
        for item in links:
            _, created = AgencyPhone.objects.get_or_create(
                agency_id=agencies[item["uscc"]],
                phone=phone,
                defaults={k: v for k, v in item.items() if k != "uscc"},
            )
            if created:
                restored.add(item["uscc"])
    for item in held.get("changes", []):
        if item["uscc"] in agencies:
            AgencyChange.objects.create(
                agency_id=agencies[item["uscc"]], **{k: v for k, v in item.items() if k != "uscc"}
            )
    entry.delete()
    return len(restored)
