"""What the server may write down about a request: the privacy page's promises, in code.

Logs never hold a query string (searched names, numbers, pasted text all
travel there) and never the part of a path that is itself a searched number
(/phone/<number>/ with or without a language prefix, /api/v1/phones/<number>).
Client addresses are not logged either. Two places write request lines: gunicorn's access log
(`AccessLogger`, configured in portal/gunicorn.conf.py) and Django's own
`django.request` / `django.server` loggers (`RedactingFilter`, configured in
settings.LOGGING).
"""

import logging
import os
import re

from gunicorn.glogging import Logger, SafeAtoms

# Path segments that are what someone searched for: the number page in any
# language (/phone/…, /zh-hant/phone/…; portal.i18n) and the API's.
_SEARCHED = re.compile(r"^((?:/[a-z]{2}(?:-[a-z]+)?)?/phone/|/api/v1/phones/)[^/]+")


def redact_path(path: str) -> str:
    """The path without its query string, with a searched number replaced by '…'."""
    return _SEARCHED.sub(r"\1…", path.split("?", 1)[0])


# runserver's "GET /search/?q=… HTTP/1.1" request line.
_REQUEST_LINE = re.compile(r"^([A-Z]+) (\S+)( HTTP/[\d.]+)$")


def _redact_arg(arg):
    if not isinstance(arg, str):
        return arg
    if arg.startswith("/"):
        return redact_path(arg)
    line = _REQUEST_LINE.match(arg)
    if line:
        return f"{line.group(1)} {redact_path(line.group(2))}{line.group(3)}"
    return arg


class RedactingFilter(logging.Filter):
    """Redacts the paths in Django's request log lines ("Not Found: /phone/139…/",
    runserver's request lines) and drops the request object the record carries,
    so no handler or formatter can reach the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        if hasattr(record, "request"):
            record.request = None
        return True


class AccessLogger(Logger):
    """gunicorn's logger with request lines that identify neither the visitor nor
    what they searched."""

    def atoms(self, resp, req, environ, request_time):
        # The atoms an access line may use, and only these: time, method,
        # redacted path, status, size, duration, worker, protocol. Everything
        # else (addresses, headers, the query string, the raw URI, environment
        # values) is never gathered, so no format string can reach it.
        # Worked out here because gunicorn's own atoms() also
        # copies every request header, response header and environment value
        # into the dict (most of an access line's cost, ~20 µs a request), all
        # of which would be dropped.
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        seconds, micro = request_time.seconds, request_time.microseconds
        method = environ.get("REQUEST_METHOD", "-")
        path = redact_path(environ.get("PATH_INFO", ""))
        atoms = {
            "t": self.now(),
            "m": method,
            "s": status,
            "B": sent,
            "b": "-" if sent is None else str(sent),
            "D": seconds * 1_000_000 + micro,
            "M": seconds * 1000 + micro // 1000,
            "T": seconds,
            "L": f"{seconds}.{micro:06d}",
            "p": f"<{os.getpid()}>",
            "H": environ.get("SERVER_PROTOCOL"),
            "U": path,
            "r": f"{method} {path}",
        }
        # Unknown atoms (%(h)s, %({x-forwarded-for}i)s …) read as "-".
        return SafeAtoms(atoms)
