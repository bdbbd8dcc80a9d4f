"""When a name query finds nothing: what the person probably meant.

Two kinds of slip, both looked up in the index, so that only what some
registered name really contains is ever offered:

- the same pinyin, another character: an input method's wrong pick (常得 for
  常德, 长纱 for 长沙). Names whose pinyin holds the keyword's syllables, in
  any reading of each character (长 is chang or zhang), through the pinyin grams;
- one character wrong, missing or extra, or two swapped (恒通信息咨间, 恒通通信息,
  通恒信息): a LIKE pattern with `_` for the unknown character, through the
  grams of the characters around it. A pattern needs at least one whole gram
  (two known characters side by side), so a two-character keyword is only
  tried swapped: "any name with 常" is no suggestion.

`corrections()` returns whole queries, the likeliest first: a query of several
keywords gets one keyword replaced. The same pinyin is tried first, and edits
only when it gives nothing: two queries a step whatever the text (the gram
counts, then a few matching names per pattern); `present.search_names()` runs
the corrections until one finds something.
"""

import re
from collections import Counter
from dataclasses import dataclass
from itertools import islice, pairwise, product

from django.db.models import IntegerField, Value

from . import textnorm
from .candidates import Alternative, Cond, candidate_ids, capped_counts, reading, text_conds
from .index import pinyin_gram
from .models import SearchEntry

MAX_SUGGESTIONS = 3
# A keyword longer than this is not a name with one slip in it.
_MAX_KEYWORD = 12
# Readings of a keyword tried for the same pinyin (each character's readings,
# multiplied out, the usual one first).
_MAX_READINGS = 4
# Patterns whose grams all exist, read in one query; names read per pattern.
_MAX_PATTERNS = 24
_SAMPLE = 20
# A pattern whose rarest gram is broad (资产, 信息 in a large directory) is
# checked on that gram's best rows only: a slip is found among the names
# people look for, and a page that found nothing must not take long to say so.
_SCAN = 500


@dataclass(frozen=True)
class _Pattern:
    keyword: int  # which keyword of the query it would replace
    alternative: Alternative
    # Same pinyin: the syllables sought; otherwise the edit, as a regular expression.
    syllables: tuple[str, ...] = ()
    regex: re.Pattern | None = None


def corrections(folded: str) -> list[str]:
    """Queries like `folded` (`textnorm.fold_query()` form) that names in the index
    match, best first: the same pinyin before other edits, then the one more
    names contain."""
    keywords = textnorm.query_keywords(folded)
    keywords_to_try = [(i, k) for i, k in enumerate(keywords) if len(k) <= _MAX_KEYWORD]
    for make in (_same_pinyin, _one_edit):
        patterns = [p for index, keyword in keywords_to_try for p in make(index, keyword)]
        queries = _corrected(keywords, patterns)
        if queries:
            return queries
    return []


def _corrected(keywords: list[str], patterns: list["_Pattern"]) -> list[str]:
    """The queries `patterns` lead to, best first."""
    if not patterns:
        return []
    conds = list(dict.fromkeys(cond for p in patterns for cond in p.alternative.conds))
    counts, _ = capped_counts(conds)
    # A gram nobody has rules a pattern out: most edits are gone here.
    patterns = [p for p in patterns if all(counts[c] for c in p.alternative.conds)]
    patterns = patterns[:_MAX_PATTERNS]
    if not patterns:
        return []
    found: Counter = Counter()
    for i, name, pinyin in _names(patterns, counts):
        pattern = patterns[i]
        variant = _variant(pattern, name, pinyin)
        keyword = keywords[pattern.keyword]
        if variant and variant != keyword:
            # The same pinyin, then a character replaced or two swapped, then
            # one missing or extra; then the variant more names hold.
            kind = 0 if pattern.syllables else 1 if len(variant) == len(keyword) else 2
            found[kind, pattern.keyword, variant] += 1
    ranked = sorted(found.items(), key=lambda item: (item[0][0], -item[1], item[0][2]))
    queries = []
    for (_kind, index, variant), _count in ranked:
        replaced = [variant if i == index else keyword for i, keyword in enumerate(keywords)]
        queries.append(" ".join(replaced))
    return list(dict.fromkeys(queries))[:MAX_SUGGESTIONS]


def _same_pinyin(index: int, keyword: str) -> list[_Pattern]:
    if len(keyword) < 2 or not all(textnorm.is_han(char) for char in keyword):
        return []
    readings = [tuple(textnorm.syllables(keyword))]
    readings.extend(islice(product(*(textnorm.readings(char) for char in keyword)), 16))
    patterns = []
    for syllables in list(dict.fromkeys(readings))[:_MAX_READINGS]:
        conds = list(dict.fromkeys(Cond(pinyin_gram(a, b)) for a, b in pairwise(syllables)))
        needle = f" {' '.join(syllables)} "
        alternative = Alternative(conds, (("pinyin__contains", needle),))
        patterns.append(_Pattern(index, alternative, syllables=syllables))
    return patterns


def _one_edit(index: int, keyword: str) -> list[_Pattern]:
    """A wrong, missing or extra character, or two swapped: as LIKE patterns."""
    n = len(keyword)
    # (the text before the unknown character, the text after it), or a literal.
    gaps: list[tuple[str, str]] = []
    literals: list[str] = []
    if n >= 3:
        gaps.extend((keyword[:i], keyword[i + 1 :]) for i in range(n))  # one wrong
        gaps.extend((keyword[:i], keyword[i:]) for i in range(1, n))  # one missing
        literals.extend(keyword[:i] + keyword[i + 1 :] for i in range(n))  # one extra
    swapped = (keyword[:i] + keyword[i + 1] + keyword[i] + keyword[i + 2 :] for i in range(n - 1))
    literals.extend(swapped)
    patterns = []
    for before, after in gaps:
        conds = [cond for part in (before, after) if len(part) >= 2 for cond in text_conds(part)]
        if conds:
            alternative = Alternative(
                list(dict.fromkeys(conds)), (("folded__like", f"%{before}_{after}%"),)
            )
            regex = re.compile(re.escape(before) + "." + re.escape(after))
            patterns.append(_Pattern(index, alternative, regex=regex))
    for literal in dict.fromkeys(literals):
        if len(literal) >= 2 and literal != keyword:
            alternative = Alternative(text_conds(literal), (("folded__contains", literal),))
            patterns.append(_Pattern(index, alternative, regex=re.compile(re.escape(literal))))
    return patterns


def _names(patterns: list[_Pattern], counts: dict) -> list[tuple[int, str, str]]:
    """(pattern index, folded name, pinyin) of a few names each pattern matches: one query."""
    parts, params = [], []
    for i, pattern in enumerate(patterns):
        alternative = pattern.alternative
        broad = min(counts[cond] for cond in alternative.conds) > _SCAN
        ids = candidate_ids(alternative, counts, (lambda rows: rows) if broad else None, _SCAN)
        rows = (
            SearchEntry.objects.filter(*alternative.entry_filter(), agency_id__in=ids)
            .annotate(pattern=Value(i, output_field=IntegerField()))
            .values_list("pattern", "folded", "pinyin")[:_SAMPLE]
        )
        sql, sql_params = rows.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS s{i}")
        params.extend(sql_params)
    with reading().cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return cursor.fetchall()


def _variant(pattern: _Pattern, name: str, pinyin: str) -> str:
    """The part of a matching name that the keyword was probably meant to be."""
    if pattern.regex is not None:
        match = pattern.regex.search(name)
        return match.group() if match else ""
    # The stored pinyin has one syllable per Han character and one item per run
    # of other letters or digits (textnorm.syllables): line them up.
    pieces, position = [], 0
    for syllable in pinyin.split():
        if position < len(name) and textnorm.is_han(name[position]):
            pieces.append((name[position], syllable))
            position += 1
        else:
            pieces.append((name[position : position + len(syllable)], syllable))
            position += len(syllable)
    wanted = list(pattern.syllables)
    n = len(wanted)
    for start in range(len(pieces) - n + 1):
        window = pieces[start : start + n]
        if [syllable for _, syllable in window] == wanted and all(
            len(text) == 1 and textnorm.is_han(text) for text, _ in window
        ):
            return "".join(text for text, _ in window)
    return ""
