"""A record's history: what an import or an editor changed in the fields the agency page shows.

Entries are models.AgencyChange rows. The import (importing.writing) and the
admin both describe a change with the helpers here, so that the same change
reads the same whichever way it was made: values as text in the import format
(a date ISO, the province by name, a phone by its key, an action in one line).
"""

import datetime as dt

from .enums import ActionKind, ChangeField, NameKind

# Agency attname → the history's field name, for the fields the page shows.
# Not here: the record's own provenance (source, source_url, retrieved_on: it
# is the source of each entry instead), derived columns (name_sort,
# registered_capital_wan) and is_sample.
TRACKED_ATTNAMES = {
    "name": ChangeField.NAME,
    "entity_type": ChangeField.ENTITY_TYPE,
    "legal_representative": ChangeField.LEGAL_REPRESENTATIVE,
    "registered_capital": ChangeField.REGISTERED_CAPITAL,
    "established_on": ChangeField.ESTABLISHED_ON,
    "status": ChangeField.STATUS,
    "registration_authority": ChangeField.REGISTRATION_AUTHORITY,
    "address": ChangeField.ADDRESS,
    "province_id": ChangeField.PROVINCE,
    "city": ChangeField.CITY,
    "business_scope": ChangeField.BUSINESS_SCOPE,
}

NAME_FIELDS = {NameKind.FORMER: ChangeField.FORMER_NAMES, NameKind.ALIAS: ChangeField.ALIASES}


def value_text(attname: str, value, province_names: dict[str, str]) -> str:
    """A field's value as a history entry holds it."""
    if value is None:
        return ""
    if attname == "province_id":
        return province_names.get(value, value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def action_text(kind: str, authority: str, decided_on, document_number: str) -> str:
    """One regulatory action in a line: 行政处罚 2025-03-01 某市市场监督管理局 某罚字〔2025〕1号."""
    label = str(ActionKind(kind).label) if kind in ActionKind.values else kind
    if isinstance(decided_on, dt.date):
        decided_on = decided_on.isoformat()
    return " ".join(part for part in (label, decided_on, authority, document_number) if part)


def describe(entries) -> str:
    """Changes in one line for a person reading a terminal: 名称 “甲” → “乙”；号码 新增 “…”."""
    parts = []
    for field, old, new in entries:
        label = ChangeField(field).label
        if not old:
            parts.append(f"{label} 新增“{new}”")
        elif not new:
            parts.append(f"{label} 删除“{old}”")
        else:
            parts.append(f"{label}“{old}”→“{new}”")
    return "；".join(parts)
