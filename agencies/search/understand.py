"""Step 1 of a query: understand what was typed into the one search box.

`classify()` decides whether the text is a phone number, a credit code (USCC)
or a name, and cleans it for the next step: a phone number goes to the number
page, a code to its agency, a name to `candidates.matching()` as folded text.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from portal import requestline

from .. import phones
from .. import uscc as uscc_lib
from . import textnorm

# Longer input is cut here: names are at most a few dozen characters. The
# page says so when it happens (`shortened`).
MAX_INPUT = 200
# What the search box accepts (its maxlength) and what is read of a pasted
# message for the numbers and codes in it; the request line of the longest
# search fits what the server reads (portal.requestline). The page says when a
# text reached it cut (`cut`) and offers the message check for the whole of it.
MAX_PASTE = requestline.SEARCH_BOX_CHARS
# Characters that make input a sentence rather than a name.
_SENTENCE_MARKS = set("，。！？；：,!?;【】「」“”\n")


class InputKind(StrEnum):
    """What the box understood; also the API's `kind`."""

    EMPTY = "empty"
    PHONE = "phone"
    USCC = "uscc"
    NAME = "name"


@dataclass
class Classified:
    """What the box understood. `text` is the input as echoed back (cleaned)."""

    text: str
    kind: InputKind
    phone: phones.Phone | None = None
    uscc: str = ""
    uscc_error: uscc_lib.UsccError | None = None
    folded: str = ""
    # Digits that are not a number we recognise: searched as a name, with a note.
    not_a_number: bool = False
    # The input was longer than what was searched (MAX_INPUT, or the name
    # search's textnorm.MAX_QUERY_CHARS).
    shortened: bool = False
    # As long as the box takes or longer: the browser (or the server) cut the
    # text, so what was searched may be only its beginning.
    cut: bool = False
    # Looks like a pasted message, not a name: the numbers and credit codes in it,
    # and the text (up to MAX_PASTE characters) to hand to the message check.
    message: bool = False
    pasted: str = ""
    found_phones: list = field(default_factory=list)
    found_codes: list = field(default_factory=list)

    @property
    def uscc_expected(self) -> str:
        """The first 17 characters with the check character they give: another code,
        never the correction (the wrong character may be any of the 18), and in
        the directory it is another company's."""
        if self.uscc_error and self.uscc_error.expected_check:
            return self.uscc[:17] + self.uscc_error.expected_check
        return ""


def looks_like_uscc(code: str) -> bool:
    """18 letters/digits with at least six digits (the division code): a credit
    code, perhaps mistyped — not an 18-letter pinyin string."""
    return (
        len(code) == 18
        and code.isascii()
        and code.isalnum()
        and sum(char.isdigit() for char in code) >= 6
    )


def classify(raw: str | None) -> Classified:
    text = textnorm.clean_input(raw or "", MAX_INPUT)
    if not textnorm.basic_fold(text):
        return Classified(text, InputKind.EMPTY)
    code = uscc_lib.normalize(text)
    if looks_like_uscc(code):
        try:
            return Classified(text, InputKind.USCC, uscc=uscc_lib.validate(code))
        except uscc_lib.UsccError as error:
            return Classified(text, InputKind.USCC, uscc=code, uscc_error=error)
    if phones.looks_like_phone(text):
        number = phones.normalize(text)
        if number is not None:
            return Classified(text, InputKind.PHONE, phone=number)
        return Classified(text, InputKind.NAME, folded=textnorm.fold_query(text), not_a_number=True)
    return _name_or_message(raw or "", text)


def _name_or_message(raw: str, text: str) -> Classified:
    """A name, or a whole message pasted into the box (what a borrower has in
    hand): then the numbers and codes in it are found, so the page can lead to
    them, and the page says the name search used the text as it stands."""
    query = Classified(text, InputKind.NAME, folded=textnorm.fold_query(text))
    pasted = textnorm.clean_input(raw, MAX_PASTE)
    folded_length = len(textnorm.basic_fold(text))
    query.shortened = len(raw.strip()) > MAX_INPUT or folded_length > textnorm.MAX_QUERY_CHARS
    query.cut = len(raw) >= MAX_PASTE
    query.pasted = pasted
    query.found_phones = phones.find_in_text(pasted)
    query.found_codes = uscc_lib.find_in_text(pasted)
    query.message = bool(
        query.found_phones
        or query.found_codes
        or _SENTENCE_MARKS.intersection(pasted)
        or folded_length > 40
    )
    return query
