"""Reading, checking and writing agency records (JSON Lines, CSV or .xlsx); see
docs/import-format.md.

The pipeline streams: records are read one at a time, checked, and written in
batches of BATCH_SIZE with a fixed number of queries per batch, so memory stays
flat and a million-record file runs at thousands of records a second. The whole
import is one transaction: a bad record (unless skipped), a dry run, an error
or a signal rolls everything back.

Every problem is a `Problem` whose text reads `FILE:LINE: field: message`, in
plain Chinese, because the people fixing the files are not programmers.
"""

from .checking import (
    ActionEntry,
    CleanRecord,
    ClientEntry,
    PhoneEntry,
    ProvinceResolver,
    capital_in_wan,
    check_defaults,
    check_record,
    parse_bool,
    parse_date,
    parse_url,
    phone_key,
)
from .columns import (
    ACTION_FIELDS,
    CLIENT_FIELDS,
    CSV_FIELDS,
    FIELDS,
    HEADERS,
    HISTORY_FIELDS,
    LIST_FIELDS,
    PHONE_FIELDS,
    ColumnMap,
)
from .parallel import PARALLEL_MIN_BYTES, PARALLEL_MIN_RECORDS
from .problems import Problem, os_error_text
from .reading import (
    CSV_SUFFIXES,
    JSONL_SUFFIXES,
    LIST_SEPARATOR,
    LIST_SEPARATORS,
    XLSX_SUFFIXES,
    RawRecord,
    ReadOptions,
    check_file,
    detect_encoding,
    estimate_records,
    file_format,
    read_file,
)
from .writing import (
    BATCH_SIZE,
    ImportSummary,
    Interrupted,
    import_files,
    import_records,
    stop_on_sigterm,
)

__all__ = [
    "ACTION_FIELDS",
    "BATCH_SIZE",
    "CLIENT_FIELDS",
    "CSV_FIELDS",
    "CSV_SUFFIXES",
    "FIELDS",
    "HEADERS",
    "HISTORY_FIELDS",
    "JSONL_SUFFIXES",
    "LIST_FIELDS",
    "LIST_SEPARATOR",
    "LIST_SEPARATORS",
    "PARALLEL_MIN_BYTES",
    "PARALLEL_MIN_RECORDS",
    "PHONE_FIELDS",
    "XLSX_SUFFIXES",
    "ActionEntry",
    "CleanRecord",
    "ClientEntry",
    "ColumnMap",
    "ImportSummary",
    "Interrupted",
    "PhoneEntry",
    "Problem",
    "ProvinceResolver",
    "RawRecord",
    "ReadOptions",
    "capital_in_wan",
    "check_defaults",
    "check_file",
    "check_record",
    "detect_encoding",
    "estimate_records",
    "file_format",
    "import_files",
    "import_records",
    "os_error_text",
    "parse_bool",
    "parse_date",
    "parse_url",
    "phone_key",
    "read_file",
    "stop_on_sigterm",
]
