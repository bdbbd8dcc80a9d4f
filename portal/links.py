"""Paths of records (agency, province, number, article) without a reverse() per row.

`reverse()` walks the URL resolver on every call: some 40 µs, which a list
page of 25 agencies and 34 provinces pays about sixty times. The path of a
one-argument URL is the same text around the argument every time, so it is
reversed once per process and filled in after that. (The site is served at
the root of its host; a SCRIPT_NAME prefix would need this cache per prefix.)
"""

from functools import cache
from urllib.parse import quote

from django.urls import reverse

_MARKER = "ZZargumentZZ"
# What reverse() leaves unescaped in a path argument (RFC 3986 sub-delims and
# the path characters), so the two agree on every value.
_SAFE = "!$&'()*+,;=/~:@"


@cache
def _template(name: str, kwarg: str) -> tuple[str, str]:
    before, _, after = reverse(name, kwargs={kwarg: _MARKER}).partition(_MARKER)
    return before, after


def path_for(name: str, kwarg: str, value: str) -> str:
    """reverse(name, kwargs={kwarg: value}), after the first call without the resolver."""
    before, after = _template(name, kwarg)
    return f"{before}{quote(str(value), safe=_SAFE)}{after}"
