"""gunicorn settings for `make run` and production: gunicorn -c portal/gunicorn.conf.py portal.wsgi

Every value can be overridden from the environment (GUNICORN_*), see docs/deploy.md.
Graceful reload after a deploy: `kill -HUP <master pid>` starts new workers with
the new code and lets the old ones finish their requests.
"""

import multiprocessing
import os
import sys
from pathlib import Path

# portal.requestline holds the limits the app uses too; gunicorn does not put
# the project on the path before it reads this file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from portal import requestline

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Pages are CPU-bound Python with short database waits: the usual 2 × cores + 1.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1))
# A request that takes longer than this is stuck (every page answers in
# milliseconds); the worker is replaced rather than left hanging.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then, staggered, so slow memory growth can't build up.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Code is loaded in each worker, so a HUP reloads it.
preload_app = False
# gunicorn's sync worker, answering a request line too long to read with the
# site's 414 page rather than gunicorn's bare one (portal/serving.py).
worker_class = "portal.serving.Worker"

# Request lines: gunicorn's maximum (8,190 bytes, above the 4,094 default,
# which a search of ~450 Chinese characters exceeds). The app refuses lines
# over requestline.APP_LIMIT with the site's 414 page in the page's language;
# the search box never sends one that long (portal/requestline.py).
limit_request_line = requestline.SERVER_LIMIT
# A Referer holds a whole URL of the site: room for the longest line above.
limit_request_field_size = requestline.FIELD_LIMIT

# Access log on stdout, without query strings, searched numbers or client
# addresses (portal.privacy, and the privacy page).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
logger_class = "portal.privacy.AccessLogger"
# The path alone (%(U)s), never gunicorn's request-line or query-string atoms,
# which carry what people searched for; AccessLogger redacts it as well.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# The proxy in front sets X-Forwarded-*; trust it only from these addresses.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket lives at one path per user, which two servers on
# one machine (a benchmark beside `make run`) would fight over; signals do
# the same job (HUP reloads, TERM stops gracefully).
control_socket_disable = True


def post_worker_init(worker):
    """Read the phone-prefix tables and the message check's rules before the first
    request, not during it, and render the page for a request line too long to read."""
    from agencies import phoneprefixes
    from agencies.check import signals

    phoneprefixes.warm()
    signals.warm()
    if hasattr(worker, "prepare_answers"):
        worker.prepare_answers()
