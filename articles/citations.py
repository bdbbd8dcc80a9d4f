"""Reading legal citations in article text: which documents and which articles it names.

Used by the renderer to merge an article's front-matter sources into the
body's 参考依据 list without listing a document twice, and by the content
tests to check that every rule stated in the text is listed there.
"""

import re

_DIGITS = {char: n for n, char in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}
ARTICLE_NUMBER = r"[0-9]+|[零〇一二两三四五六七八九十百千]+"
ARTICLE = re.compile(rf"第\s*({ARTICLE_NUMBER})\s*条(之[一二三四五六七八九])?")
ARTICLE_RANGE = re.compile(
    rf"第\s*({ARTICLE_NUMBER})\s*条\s*[至到—–-]\s*第?\s*({ARTICLE_NUMBER})\s*条"
)
TITLE = re.compile(r"《([^《》]{2,60})》")
PARENTHESES = re.compile(r"[（(][^）)]*[）)]")
# What two ways of writing one source's name may differ in.
NOT_NAME = re.compile(r"[\s，,。.；;：:、“”\"'‘’（）()《》〈〉]")


def article_number(text: str) -> int:
    """第一百八十八条 → 188, 第68条 → 68."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        else:
            total += (digit or 1) * _UNITS[char]
            digit = 0
    return total + digit


def stated_articles(text: str) -> set[tuple[int, str]]:
    """The article numbers a text names, ranges spelled out: {(293, "之一"), (68, "")}."""
    found = {(article_number(n), suffix or "") for n, suffix in ARTICLE.findall(text)}
    for first, last in ARTICLE_RANGE.findall(text):
        found |= {(n, "") for n in range(article_number(first), article_number(last) + 1)}
    return found


def short_title(title: str) -> str:
    """《中华人民共和国民法典》 and 《民法典（2020年）》 name the same law: 民法典."""
    return PARENTHESES.sub("", title.removeprefix("中华人民共和国")).strip()


def documents(text: str) -> set[str]:
    """The short titles of the 《…》 documents a text names."""
    return {short_title(title) for title in TITLE.findall(text)}


def _bare(text: str) -> str:
    return NOT_NAME.sub("", PARENTHESES.sub("", text))


def names_same_source(source: str, item: str) -> bool:
    """Does the reference-list entry `item` already list `source` (a source's title)?

    A source naming a 《document》 is listed when the entry names the same
    document and every article the source cites. A source without a 《…》
    title is listed when each of its parts (split at "；"), its notes in
    parentheses left out, appears in the entry.
    """
    named = TITLE.findall(source)
    if named:
        return short_title(named[0]) in documents(item) and stated_articles(
            source
        ) <= stated_articles(item)
    parts = [_bare(part) for part in re.split(r"[；;]", source)]
    entry = _bare(item)
    return all(part in entry for part in parts if part)
