"""The one settings module.

Everything that differs between a laptop and production comes from the
environment or a `.env` file (see `.env.example`). Defaults are safe: SQLite
under the project, debug off. With debug off the process refuses to start
unless a secret key is given.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from dotenv import load_dotenv
from psycopg import IsolationLevel

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# A .env file beside manage.py (or DJANGO_ENV_FILE; empty for none), if there
# is one; variables already in the environment win. `make install` writes one
# with a generated secret key.
_env_file = os.environ.get("DJANGO_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file:
    load_dotenv(_env_file)

# Off unless asked for: a forgotten variable must not expose debug pages.
# `make dev` and the test run (pyproject.toml, pytest-env) turn it on.
DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off: run `make install`, "
            "which writes one to .env, or see .env.example."
        )
    # Only ever used with debug on, on a developer's machine.
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django_filters",
    "portal",
    "agencies",
    "articles",
]

MIDDLEWARE = [
    # Outermost: sees every response last, whatever made it.
    "portal.middleware.HeadWithoutBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    # Directly after the header middleware so static files skip the rest of the
    # stack but still get every security header.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything else that answers (the rate limits' 429, the page
    # cache, Django's redirects and error pages), so every answer of the
    # message check is marked no-store, whatever made it.
    "portal.middleware.NoStoreMiddleware",
    # The URL's language prefix, and nothing else, picks the language; active
    # before any URL is resolved or page rendered (error pages included).
    "portal.i18n.UrlLanguageMiddleware",
    # After WhiteNoise, which serves its own pre-compressed files; before
    # everything that writes the body. No page carries a secret, so
    # compressing HTML and JSON gives BREACH nothing to find.
    "portal.middleware.GZipMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    # Inside the language and the headers (its 414 page is in the page's
    # language, with the CSP), before everything that reads the request.
    "portal.middleware.RequestLineLimitMiddleware",
    # Sessions, CSRF, auth and messages exist for the staff admin only. None of
    # them sets a cookie on a public page: the public site has no forms that
    # post and never touches request.session, so anonymous responses stay
    # identical for every visitor and cacheable. Sessions, users and messages
    # run under the admin's path only (portal.middleware: Django's classes,
    # returning early elsewhere); CSRF stays everywhere, so a form that posts
    # is protected wherever it is added.
    "portal.middleware.StaffSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "portal.middleware.StaffAuthenticationMiddleware",
    "portal.middleware.StaffMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before anything that does work; after sessions and auth would only cost.
    "portal.ratelimit.RateLimitMiddleware",
    # Before the HTTP cache, which reads the data version: with read replicas
    # a public request's version and data come from one replica, one snapshot.
    # After the rate limits: a refused request opens no transaction. Does
    # nothing without replicas.
    "portal.routers.ReplicaReadsMiddleware",
    # After the rate limits (a cached answer still counts), before the rest:
    # a 304 or a cached page skips all of it.
    "portal.caching.HttpCachingMiddleware",
    # Inside the page cache, which then keeps /zh-hant/ pages converted.
    "portal.i18n.TraditionalScriptMiddleware",
    # Last, so it sees the exceptions of views and template rendering.
    "portal.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

# SQLite file under the project by default, so trying the portal needs nothing
# but Python. postgres:// URLs go through psycopg 3.
_conn_max_age = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=_conn_max_age,
        conn_health_checks=True,
    )
}
# PostgreSQL: parameters bound by the server, and a statement run a second time
# on a connection is prepared there, so later runs skip parsing and planning.
# The pages run the same few statements with new values again and again on
# connections kept for DATABASE_CONN_MAX_AGE; on the benchmark's two cores the
# server's share of a page is CPU the app servers wait for (docs/benchmarks.md).
# Off behind a transaction pooler that cannot keep prepared statements
# (PgBouncer before 1.21, or without max_prepared_statements): docs/deploy.md.
_PREPARED = env_bool("DATABASE_PREPARED_STATEMENTS", True)
_POSTGRES_OPTIONS = {"server_side_binding": True, "prepare_threshold": 1} if _PREPARED else {}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(_POSTGRES_OPTIONS)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while an import writes; a busy timeout
    # turns short lock waits into waits instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    # Kept open between requests like PostgreSQL's: opening a SQLite file and
    # running the PRAGMAs cost more than a whole cached page.

# PostgreSQL read replicas of the default database (portal.routers,
# docs/deploy.md): public pages read them, everything else the primary.
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS", ""), start=1):
    _replica = dj_database_url.parse(_url, conn_max_age=_conn_max_age, conn_health_checks=True)
    if {DATABASES["default"]["ENGINE"], _replica["ENGINE"]} != {"django.db.backends.postgresql"}:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URLS needs PostgreSQL: a postgres:// DATABASE_URL and "
            "postgres:// replicas of it."
        )
    # One snapshot per public request (portal.routers): the data version and
    # the page's data come from the same moment of the replica's replay.
    _replica.setdefault("OPTIONS", {})["isolation_level"] = IsolationLevel.REPEATABLE_READ
    _replica["OPTIONS"].update(_POSTGRES_OPTIONS)
    # Under test a replica mirrors default: no test database is created on a
    # read-only server, and the alias points at the primary's test database,
    # which streaming replication brings to the replica.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_number}"] = _replica
if len(DATABASES) > 1:
    DATABASE_ROUTERS = ["portal.routers.ReplicaRouter"]
# Beyond this many seconds behind the primary /readyz reports a replica as
# lagging (portal.health).
PORTAL_REPLICA_MAX_LAG = float(os.environ.get("PORTAL_REPLICA_MAX_LAG", "30"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared cache: Redis in production (REDIS_URL), process memory otherwise.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            # Pages are rendered when the cache does not answer (portal.caching):
            # a Redis host that is down or stalled must cost a request a fraction
            # of a second, not the system's connect timeout of minutes.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
# The UI's languages: 简体中文 unprefixed, 繁體中文 under /zh-hant/, English
# under /en/ (portal.i18n).
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production; plain files while developing
        # so nothing needs collectstatic first.
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Serve straight from the app folders while developing (and in tests, which
# run with the debug default), from the collected, hashed files otherwise.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Strict CSP from day one: no inline script or style anywhere, no third-party
# origins. Templates must keep to external files under /static/.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every powerful browser feature is off (portal.middleware).
PORTAL_PERMISSIONS_POLICY = [
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "payment",
    "usb",
    "interest-cohort",
]
SESSION_COOKIE_HTTPONLY = True
# HTTPS. On by default with debug off; `DJANGO_SECURE_SSL_REDIRECT=0` and
# `DJANGO_SECURE_COOKIES=0` allow plain HTTP on 127.0.0.1 (make run).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
# Behind a TLS-terminating proxy: "HTTP_X_FORWARDED_PROTO,https" (header, value).
# Only set it when the proxy always sets that header: a client could send it.
if os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = tuple(
        part.strip() for part in os.environ["DJANGO_SECURE_PROXY_SSL_HEADER"].split(",", 1)
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# Where people send corrections or removal requests (shown on /about/data/).
# `check --deploy` refuses the example address (portal.checks).
PORTAL_CONTACT_EMAIL = os.environ.get("PORTAL_CONTACT_EMAIL", "corrections@example.org")

# The staff admin's address (no leading slash). Somewhere other than the
# default keeps the login page out of reach of bots trying /admin/.
PORTAL_ADMIN_PATH = os.environ.get("PORTAL_ADMIN_PATH", "admin/").strip("/") + "/"

# HTTP caching (portal.caching): how long browsers and a CDN may keep a
# public answer, and whether whole rendered answers are kept in the cache.
PORTAL_CACHE_MAX_AGE = int(os.environ.get("PORTAL_CACHE_MAX_AGE", "300"))
PORTAL_PAGE_CACHE = env_bool("PORTAL_PAGE_CACHE", True)
PORTAL_PAGE_CACHE_SECONDS = int(os.environ.get("PORTAL_PAGE_CACHE_SECONDS", "86400"))
# How long a process may answer with the data version it last read instead of
# reading it again (portal.models.current_version; never with read replicas):
# how late, at most, an app server notices another process's import. 0 reads
# it on every request.
PORTAL_DATA_VERSION_SECONDS = float(os.environ.get("PORTAL_DATA_VERSION_SECONDS", "1"))

# Rate limits per client address, "requests/seconds" (portal.ratelimit).
PORTAL_RATE_LIMITS_ENABLED = env_bool("PORTAL_RATE_LIMITS", True)
PORTAL_RATE_LIMITS = {
    "search": ("/search/", os.environ.get("PORTAL_RATE_LIMIT_SEARCH", "30/60"), ""),
    "phone": ("/phone/", os.environ.get("PORTAL_RATE_LIMIT_SEARCH", "30/60"), ""),
    # The message check reads a whole message: limited like a search.
    "check": ("/check/", os.environ.get("PORTAL_RATE_LIMIT_SEARCH", "30/60"), "POST"),
    "api": ("/api/", os.environ.get("PORTAL_RATE_LIMIT_API", "60/60"), ""),
    "login": (
        f"/{PORTAL_ADMIN_PATH}login/",
        os.environ.get("PORTAL_RATE_LIMIT_LOGIN", "10/600"),
        "POST",
    ),
}
# How many proxies (CDN, load balancer) stand in front of gunicorn and append
# to X-Forwarded-For; 0 means REMOTE_ADDR is the client.
PORTAL_TRUSTED_PROXIES = int(os.environ.get("PORTAL_TRUSTED_PROXIES", "0"))

# Absolute base used in feeds, sitemaps and canonical links when set.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "").rstrip("/")

# Nothing a visitor searched reaches a log: request log lines lose their
# query strings and searched numbers (portal.privacy).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "portal.privacy.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    "loggers": {
        # Django's own handlers for these would bypass the filter.
        "django.request": {"handlers": ["console"], "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
