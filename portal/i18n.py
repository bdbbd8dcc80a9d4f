"""Languages: the URL alone decides, so every page is the same for every visitor.

简体中文 is the default, unprefixed (`/provinces/hunan/`); 繁體中文 lives under
`/zh-hant/`, English under `/en/`. Django's LocaleMiddleware would also read a cookie and the
browser's Accept-Language and redirect on them, which would make one URL
answer differently to different visitors (and uncacheable); here a path's
prefix is the only input. The API, health probes, sitemaps and the admin are
outside the prefixed URLs and always answer in the default language.

On /zh-hant/ pages the UI comes from the Traditional catalogue
(locale/zh_Hant, generated from the Simplified strings with `traditional()`
by `make messages`, then reviewed), and what the data says — agency names,
addresses, article text — is converted from Simplified with OpenCC, after
the site's own phrases (traditional_phrases.txt), as the page leaves the view
(`to_traditional`), except inside elements marked
`translate="no"` (such as the language names in the switcher). The page
cache keeps the converted page, keyed like any other by URL and data
version. Two middlewares: the language is chosen before anything else runs,
the conversion happens inside the page cache.

On /en/ pages the UI is English (locale/en, written by hand) and the data
stays as the sources write it, in Chinese: agency records keep their names
and official fields under English labels, marked `lang="zh-Hans"` (the
`{% zh %}` and `{% localized %}` tags, portal.templatetags.portal_tags) so
screen readers and translation tools know what they are reading. Articles
show an English title and summary where their front matter has one, and
say that the text is Chinese.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import opencc
from django.conf import settings
from django.urls import translate_url
from django.utils import translation

from .links import absolute_url

TRADITIONAL = "zh-hant"
# The language the data (agency records, article text) is written in.
DATA_LANG = "zh-Hans"
# <html lang> values (BCP 47 with the script), by Django language code.
HTML_LANG = {"zh-hans": "zh-Hans", "zh-hant": "zh-Hant", "en": "en"}
# Open Graph's og:locale, which wants language_TERRITORY.
OG_LOCALE = {"zh-hans": "zh_CN", "zh-hant": "zh_TW", "en": "en_US"}
# An element, with its content, that must keep its script: <x ... translate="no">…</x>.
_KEEP = re.compile(r'<(\w+)\b[^>]*\btranslate="no"[^>]*>.*?</\1>', re.DOTALL)


@cache
def _converter():
    # s2tw: Traditional characters in the forms Taiwan and Hong Kong readers
    # are used to (為, not 爲), without changing vocabulary (no 信息 → 資訊:
    # legal and registry terms stay as the sources write them).
    return opencc.OpenCC("s2tw")


# The site's own phrases, applied before OpenCC: where s2tw picks the wrong one
# of two Traditional characters for our texts (发卡银行 is a card issuer, 發, not
# a hair clip, 髮). A reviewed data file; its header says how it is read.
PHRASES_FILE = Path(__file__).resolve().parent / "traditional_phrases.txt"


def read_phrases(path: Path = PHRASES_FILE) -> dict[str, str]:
    """Simplified → Traditional, from the phrase file; ValueError naming the line
    of anything that is not a phrase and its Traditional form of the same length."""
    phrases: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        where = f"{path.name}:{number}"
        if len(fields) != 2:
            raise ValueError(f"{where}: expected a phrase and its Traditional form, got {line!r}")
        simplified, converted = fields
        if len(simplified) != len(converted):
            raise ValueError(f"{where}: {simplified} and {converted} differ in length")
        if simplified in phrases:
            raise ValueError(f"{where}: {simplified} is listed twice")
        phrases[simplified] = converted
    return phrases


@cache
def _phrases() -> tuple[re.Pattern, dict[str, str]]:
    phrases = read_phrases()
    # Longest first: an alternation takes the first alternative that matches,
    # so at each position the longest phrase starting there wins, as in
    # OpenCC's own maximum-match segmentation.
    alternatives = sorted(phrases, key=lambda phrase: (-len(phrase), phrase))
    return re.compile("|".join(map(re.escape, alternatives))), phrases


def opencc_traditional(text: str) -> str:
    """OpenCC's s2tw alone, without the site's phrases: how a catalogue entry
    filled by the machine before a phrase was added reads (traditional_catalogue)."""
    return _converter().convert(text)


def traditional(text: str) -> str:
    """Simplified → Traditional, as the whole site converts: pages, the UI catalogue,
    articles, rules and records.

    The project's phrases (traditional_phrases.txt) are found first, from the
    left, and written as the file gives them; only the text between them goes
    through OpenCC, so nothing converts a phrase a second time.
    """
    pattern, phrases = _phrases()
    convert = _converter().convert
    out, start = [], 0
    for found in pattern.finditer(text):
        if found.start() > start:
            out.append(convert(text[start : found.start()]))
        out.append(phrases[found.group()])
        start = found.end()
    if start < len(text):
        out.append(convert(text[start:]))
    return "".join(out)


def to_traditional(html: str) -> str:
    """Simplified → Traditional for a whole page, leaving translate="no" elements as they are."""
    convert = traditional
    out, start = [], 0
    for kept in _KEEP.finditer(html):
        out.append(convert(html[start : kept.start()]))
        out.append(kept.group())
        start = kept.end()
    out.append(convert(html[start:]))
    return "".join(out)


def is_chinese_page() -> bool:
    """True on 简体 and 繁體 pages, where the data needs no language mark."""
    return translation.get_language().startswith("zh")


def localized_text(obj, field: str) -> str:
    """`obj.<field>_en` on English pages where there is one, else `obj.<field>`."""
    if not is_chinese_page():
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field)


def without_language(path: str) -> str:
    """The path as the default language writes it: /zh-hant/search/ → /search/.

    For code that recognises pages by their path (rate limits), so a prefix
    is not a way around it.
    """
    language = translation.get_language_from_path(path)
    if language and path.startswith(f"/{language}/"):
        return path[len(language) + 1 :]
    return path


class UrlLanguageMiddleware:
    """Activates the language of the URL's prefix (or the default), before anything
    resolves a URL or renders a page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # override(), not activate(): the thread goes back to the default
        # afterwards, so nothing outside a request (a command, a test, the
        # next request's early middleware) inherits this one's language.
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class TraditionalScriptMiddleware:
    """Converts a /zh-hant/ HTML page's data to Traditional characters.

    Inside the HTTP cache (portal.caching), so the cache keeps the converted
    page and a hit costs no conversion.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            getattr(request, "LANGUAGE_CODE", "") == TRADITIONAL
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and not response.has_header("Content-Encoding")
        ):
            response.content = to_traditional(response.content.decode()).encode()
        return response


@dataclass(frozen=True)
class Alternate:
    code: str
    name: str
    html_lang: str
    url: str  # a path, for the switcher
    absolute: str  # for <link rel="alternate" hreflang>, which wants the whole URL
    current: bool


def in_language(path: str, current: str, code: str) -> str:
    """`path`, a page in language `current`, in language `code`.

    What django.urls.translate_url() answers for this site's URLs, without
    resolving and reversing the path once per language (a tenth of a page's
    time): the pages are one set of i18n_patterns whose paths are not
    translated, unprefixed in the default language (portal/urls.py), so only
    the prefix changes. tests/test_languages.py holds the two to the same
    answers over every page type.
    """
    default = settings.LANGUAGE_CODE
    prefix = f"/{current}/"
    bare = path[len(prefix) - 1 :] if current != default and path.startswith(prefix) else path
    return bare if code == default else f"/{code}{bare}"


def alternates(request) -> list[Alternate]:
    """This page in every language, for hreflang links and the language switcher."""
    current = translation.get_language()
    path = request.get_full_path()
    # A page that did not resolve (a 404 under no language's pattern) has no
    # other-language versions: translate_url() answers the path unchanged.
    resolved = getattr(request, "resolver_match", None) is not None
    found = []
    for code, name in settings.LANGUAGES:
        url = in_language(path, current, code) if resolved else translate_url(path, code)
        found.append(
            Alternate(code, name, HTML_LANG[code], url, absolute_url(request, url), code == current)
        )
    return found
