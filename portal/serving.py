"""gunicorn's worker, with the site's own page for a request line too long to read.

gunicorn reads request lines of at most 8,190 bytes (its ceiling, which
portal/gunicorn.conf.py sets). A longer one never reaches the application:
gunicorn answers it itself with a bare English "Request Line is too large"
page, no site header and no way back. This worker answers it with the site's
414 page instead, rendered once when the worker starts by the application
itself (the same middleware and template as a line the app refuses,
portal.middleware.RequestLineLimitMiddleware), so its headers and its
strict CSP are the site's. Its language is the site's default: gunicorn
cannot read the path, which is where the language is.
"""

import io
import logging
import sys

from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers.sync import SyncWorker

from . import requestline


class Worker(SyncWorker):
    # The whole HTTP answer, status line to body; None until rendered (or if
    # that failed: gunicorn's own answer then, as before).
    too_long_answer: bytes | None = None

    def prepare_answers(self) -> None:
        """Render the 414 answer through the application; called from post_worker_init."""
        try:
            self.too_long_answer = render_too_long(self.wsgi)
        except Exception:
            self.log.exception("Could not render the 414 page; gunicorn's own will be sent")

    def handle_error(self, req, client, addr, exc):
        if isinstance(exc, LimitRequestLine) and self.too_long_answer is not None:
            # No client address in the log (portal.privacy): the line's length only.
            self.log.warning("Request line too long (%s): answered with the site's 414 page", exc)
            try:
                client.sendall(self.too_long_answer)
            except OSError:
                self.log.debug("Failed to send the 414 page.")
            return
        super().handle_error(req, client, addr, exc)


def render_too_long(app) -> bytes:
    """The site's 414 answer as bytes on the wire, from the WSGI `app`: a request for
    the home page whose query is longer than the app reads."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": "q=" + "x" * requestline.APP_LIMIT,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        # Secure, so that no redirect to https is made instead.
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, headers

    # Not a visitor's request: unsilenced, Django logs it as one ("Request-URI
    # Too Long: /") each time a worker starts, which reads like an attack.
    request_log = logging.getLogger("django.request")
    was_disabled, request_log.disabled = request_log.disabled, True
    try:
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
    finally:
        request_log.disabled = was_disabled
    if not started["status"].startswith("414"):
        raise RuntimeError(f"the application answered {started['status']}, not 414")
    lines = [f"HTTP/1.1 {started['status']}"]
    for name, value in started["headers"]:
        # Hop-by-hop and length headers are this answer's own; HSTS is for the
        # HTTPS the environ pretended.
        if name.lower() not in ("connection", "content-length", "strict-transport-security"):
            lines.append(f"{name}: {value}")
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1") + body
