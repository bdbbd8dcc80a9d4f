"""The check's two inputs as the page's form and the API both read them.

- The text may not hold NUL characters: no message has them, a pasted one
  means the copy went wrong, and PostgreSQL refuses them in any query. The
  form and the API refuse them first, in the same words (NUL_IN_TEXT).
- The time is `HH:MM` (what the page's time box sends), or an ISO 8601
  date-time with an offset (`2026-03-05T23:30:00+08:00`, `…T15:30:00Z`),
  which is read in China time, where the rules on contact hours apply. A
  date-time without an offset is refused rather than guessed.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

CHINA = ZoneInfo("Asia/Shanghai")

NUL_IN_TEXT = _("内容中含有空字符（NUL），无法检查：请从收到的消息里重新复制文字再粘贴。")


def called_at(raw: str) -> dt.time:
    """The time of day in China, to the minute; ValueError if `raw` is neither form."""
    raw = raw.strip()
    # Both forms are plain ASCII; checked first because fromisoformat() ignores
    # a trailing NUL.
    if not (raw.isascii() and raw.isprintable()):
        raise ValueError("not a time")
    try:
        return dt.datetime.strptime(raw, "%H:%M").time()
    except ValueError:
        pass
    moment = dt.datetime.fromisoformat(raw)  # ValueError if not ISO 8601
    if moment.tzinfo is None:
        raise ValueError("an ISO 8601 date-time needs its offset")
    try:
        local = moment.astimezone(CHINA)
    except OverflowError:  # the offset carries it past year 1 or 9999
        raise ValueError("outside the calendar") from None
    return dt.time(local.hour, local.minute)
