"""Registered names (current, former, alias) that occur in a pasted text.

Precision matters as much as recall: naming the wrong company accuses it. So a
name counts only when its whole folded form (agencies.search.textnorm:
Simplified characters, no punctuation or spaces, no company-form words)
occurs in the folded text — "【衡信法务部】", "我是長沙衡信資產管理有限公司的工作人员"
and "长沙衡信资产管理公司" all contain the folded name 长沙衡信资产管理 — and at
least HEAD characters long (a two-character alias such as 衡信 occurs in too
many unrelated sentences).

The lookup costs no scan, whatever the size of the directory: the text's
HEAD-character windows are looked up in an index on the first HEAD
characters of every folded name (migration 0010), and the database keeps
only the entries whose whole name occurs in the text.
"""

import unicodedata
from dataclasses import dataclass

from ..search.models import NAME_HEAD, SearchEntry
from ..search.textnorm import COMPANY_FORMS, TRAILING_FORMS, simplified

HEAD = NAME_HEAD  # characters: the indexed prefix of each folded name (SearchEntry.Meta)
_FORMS = (*COMPANY_FORMS, *TRAILING_FORMS)  # longest first
_LONGEST_FORM = max(map(len, _FORMS))
# Windows looked up at most (a 5,000-character text has fewer distinct ones).
MAX_WINDOWS = 5000


@dataclass(frozen=True)
class NameHit:
    agency_id: int
    kind: str  # agencies.search.models.EntryKind
    folded: str
    matched_text: str  # as it stands in the text (NFKC), e.g. 長沙衡信資產管理有限公司
    start: int  # in the folded text, for ordering


class FoldedText:
    """The text folded as names are, with each folded character's place in the original."""

    def __init__(self, text: str):
        self.original = unicodedata.normalize("NFKC", text)
        converted = simplified(self.original)
        if len(converted) != len(self.original):  # a rare phrase conversion: go by character
            converted = "".join(simplified(char) or char for char in self.original)
        chars, places = [], []
        for place, char in enumerate(converted.lower()):
            if char.isalnum():
                chars.append(char)
                places.append(place)
        self.folded = "".join(chars)
        self.places = places

    def original_span(self, start: int, length: int) -> str:
        """The folded name's place in the text as written, with the company form
        that follows it there (长沙衡信资产管理 → 長沙衡信資產管理有限公司)."""
        begin, end = self.places[start], self.places[start + length - 1] + 1
        following = simplified(self.original[end : end + _LONGEST_FORM])
        for form in _FORMS:
            if following.startswith(form):
                end += len(form)
                break
        return self.original[begin:end]

    def windows(self) -> list[str]:
        text = self.folded
        return list(dict.fromkeys(text[i : i + HEAD] for i in range(len(text) - HEAD + 1)))


def find(text: str | FoldedText) -> list[NameHit]:
    """Every registered name in the text, longest first where two overlap."""
    folded = text if isinstance(text, FoldedText) else FoldedText(text)
    windows = folded.windows()[:MAX_WINDOWS]
    if not windows:
        return []
    rows = SearchEntry.objects.occurring_in(folded.folded, windows)
    hits = []
    for agency_id, kind, name in rows:
        for start in _occurrences(folded.folded, name):
            matched = folded.original_span(start, len(name))
            hits.append(NameHit(agency_id, kind, name, matched, start))
    return _outermost(hits)


def _occurrences(text: str, name: str) -> list[int]:
    starts, at = [], text.find(name)
    while at != -1:
        starts.append(at)
        at = text.find(name, at + 1)
    return starts


def _outermost(hits: list[NameHit]) -> list[NameHit]:
    """Drops a name found only inside a longer registered name at the same place
    (in 长沙衡信资产管理, 衡信资产管理 is not a second company), then keeps one
    hit per agency: its first."""
    hits.sort(key=lambda h: (-len(h.folded), h.start, h.agency_id))
    kept: list[NameHit] = []
    for hit in hits:
        end = hit.start + len(hit.folded)
        inside = any(
            k.start <= hit.start
            and end <= k.start + len(k.folded)
            and len(k.folded) > len(hit.folded)
            for k in kept
        )
        if not inside:
            kept.append(hit)
    first: dict[int, NameHit] = {}
    for hit in sorted(kept, key=lambda h: (h.start, -len(h.folded))):
        first.setdefault(hit.agency_id, hit)
    return list(first.values())
