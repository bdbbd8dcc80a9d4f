"""Writing the registry back out in the import format (docs/import-format.md).

Exports stream: agencies are read in chunks with their names, phones, clients
and actions prefetched per chunk, and text is produced in chunks, so memory
stays flat however large the registry. Importing a JSON Lines export into an
empty database reproduces it; CSV holds only the flat fields (see the docs).
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from .enums import NameKind
from .importing import CSV_FIELDS, LIST_SEPARATOR
from .models import Agency

CHUNK_SIZE = 2000
FORMATS = ("jsonl", "csv")


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def agency_record(agency: Agency) -> dict:
    """One agency in the import shape; expects `Agency.objects.for_detail()` prefetches."""
    names = agency.names.all()
    return {
        "uscc": agency.uscc,
        "name": agency.name,
        "former_names": [n.name for n in names if n.kind == NameKind.FORMER],
        "aliases": [n.name for n in names if n.kind == NameKind.ALIAS],
        "province": agency.province.name,
        "city": agency.city,
        "entity_type": agency.entity_type,
        "legal_representative": agency.legal_representative,
        "registered_capital": agency.registered_capital,
        "established_on": _iso(agency.established_on),
        "status": agency.status,
        "registration_authority": agency.registration_authority,
        "address": agency.address,
        "business_scope": agency.business_scope,
        "source": agency.source,
        "source_url": agency.source_url,
        "retrieved_on": _iso(agency.retrieved_on),
        "phones": [
            {
                "number": link.number_as_reported,
                "label": link.label,
                "source": link.source,
                "source_url": link.source_url,
                "reported_on": _iso(link.reported_on),
            }
            for link in agency.phone_links.all()
        ],
        "clients": [
            {
                "name": client.name,
                "since": _iso(client.since),
                "until": _iso(client.until),
                "source_url": client.source_url,
            }
            for client in agency.clients.all()
        ],
        "actions": [
            {
                "kind": action.kind,
                "authority": action.authority,
                "decided_on": _iso(action.decided_on),
                "document_number": action.document_number,
                "summary": action.summary,
                "source_url": action.source_url,
            }
            for action in agency.actions.all()
        ],
        "is_sample": agency.is_sample,
        # Newest first, as the page shows it. Not the editor of a correction:
        # staff names stay in the admin.
        "history": [
            {
                "field": change.field,
                "old": change.old_value,
                "new": change.new_value,
                "changed_at": change.changed_at.isoformat(),
                "via": change.via,
                "source": change.source,
                "source_url": change.source_url,
                "retrieved_on": _iso(change.retrieved_on),
            }
            for change in agency.changes.all()
        ],
    }


def agency_records(queryset=None, chunk_size: int = CHUNK_SIZE) -> Iterator[dict]:
    """Every agency of `queryset` (default: all) as an import record, by USCC."""
    queryset = Agency.objects.all() if queryset is None else queryset
    # iterator() with prefetching runs the prefetch queries once per chunk.
    agencies = queryset.for_detail().order_by("uscc").iterator(chunk_size=chunk_size)
    for agency in agencies:
        yield agency_record(agency)


def jsonl_chunks(records: Iterable[dict], lines_per_chunk: int = 500) -> Iterator[str]:
    lines = []
    for record in records:
        lines.append(json.dumps(record, ensure_ascii=False))
        if len(lines) >= lines_per_chunk:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def _csv_cell(key: str, value) -> str:
    if key == "phones":
        return LIST_SEPARATOR.join(phone["number"] for phone in value)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def csv_chunks(records: Iterable[dict], rows_per_chunk: int = 500) -> Iterator[str]:
    """CSV with a BOM, so that Excel opens the UTF-8 text as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_FIELDS)
    for count, record in enumerate(records, 1):
        writer.writerow([_csv_cell(key, record[key]) for key in CSV_FIELDS])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def export_chunks(fmt: str = "jsonl", queryset=None) -> Iterator[str]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    chunks = jsonl_chunks if fmt == "jsonl" else csv_chunks
    return chunks(agency_records(queryset))
