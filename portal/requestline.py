"""How long a request line may be: one set of numbers for the search box, the app
and gunicorn, so that what the box sends always fits what the server reads.

A search is a GET, so what is typed travels in the request line, each Chinese
character as nine bytes (``%E9%95%BF``). gunicorn refuses a longer line than it
was configured for with a bare English page; the app refuses a line longer than
`APP_LIMIT` itself, with the site's own 414 page in the page's language
(portal.middleware.RequestLineLimitMiddleware); gunicorn's own limit is set
above that, to its maximum, and lines longer than even that get the same page
from our worker (portal.serving). No Django import here: gunicorn.conf.py reads
this module in the master process.
"""

# What the search box accepts (its maxlength) and the server reads of `q`:
# enough for any name or number and for the start of a pasted message; a
# longer message belongs in the message check (POST, 5,000 characters).
SEARCH_BOX_CHARS = 800

# gunicorn's ceiling for limit_request_line (gunicorn.http.message.MAX_REQUEST_LINE).
SERVER_LIMIT = 8190

# Bytes a character of the box can take in the URL: a three-byte UTF-8
# character, percent-encoded. (maxlength counts UTF-16 units; a four-byte
# character is two units, so six bytes a unit.)
BYTES_PER_CHAR = 9
# Around the query: "GET /zh-hant/search/?q=" and " HTTP/1.1", and what the
# results page's links add (a province, a status, a page number).
AROUND_QUERY = 256

# The longest request line the app answers: the longest search the box can
# send, and a little more.
APP_LIMIT = SEARCH_BOX_CHARS * BYTES_PER_CHAR + AROUND_QUERY

# A header field may hold a whole URL of this site: the Referer of a click on
# a results page (Referrer-Policy: same-origin) carries its address. Room for
# the longest request target gunicorn accepts plus the scheme and a host name.
FIELD_LIMIT = SERVER_LIMIT + 1024


def line_length(method: str, target: str, protocol: str) -> int:
    """Bytes of the request line "METHOD target PROTOCOL", as gunicorn measures it."""
    return len(method) + 1 + len(target.encode()) + 1 + len(protocol)
