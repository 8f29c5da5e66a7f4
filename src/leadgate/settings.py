"""Django settings, all read from the environment (see README "Configuration").

The default is the embedded set-up: SQLite under LEADGATE_DATA_DIR and nothing else to run.
PostgreSQL is one variable away: LEADGATE_DATABASE_URL=postgresql://…
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from leadgate.lib.env import ConfigError, env_bool, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("LEADGATE_DATA_DIR", "./var")


def _secret_key() -> str:
    """LEADGATE_SECRET_KEY, or a key generated once and kept in the data directory."""
    configured = env_str("LEADGATE_SECRET_KEY")
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Earlier keys, still accepted: sessions survive a key change, and destination secrets encrypted under an
# earlier key stay readable (delivery.secrets) until they are saved again.
SECRET_KEY_FALLBACKS = env_list("LEADGATE_SECRET_KEY_FALLBACKS")
DEBUG = env_bool("LEADGATE_DEBUG", False)
ALLOWED_HOSTS = env_list("LEADGATE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("LEADGATE_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves the API docs page from its own static files (no CDN)
    "django_htmx",  # serves htmx's JS as a static file (no CDN)
    "leadgate.accounts",
    "leadgate.sources",
    "leadgate.leads",
    "leadgate.delivery",
    "leadgate.ops",
    "leadgate.capture",
    "leadgate.files",
    "leadgate.web",
]

MIDDLEWARE = [
    "leadgate.api.middleware.RefuseNulBytes",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "leadgate.web.middleware.ContentSecurityPolicy",
]

ROOT_URLCONF = "leadgate.urls"
WSGI_APPLICATION = "leadgate.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:sources"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict[str, dict[str, object]]:
    url = env_str("LEADGATE_DATABASE_URL")
    if url:
        if not url.startswith(("postgres://", "postgresql://", "sqlite://")):
            raise ConfigError("LEADGATE_DATABASE_URL must start with postgresql:// or sqlite://")
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
        if config["ENGINE"] == "django.db.backends.postgresql":
            return {"default": config}
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        config = {"NAME": str(DATA_DIR / "leadgate.sqlite3"), "CONN_MAX_AGE": 300, "CONN_HEALTH_CHECKS": True}
    # Django's SQLite backend, with writers queued on a file lock rather than SQLite's sleep-and-retry.
    config["ENGINE"] = "leadgate.lib.sqlite"
    # 16 KiB pages (new databases only; set before WAL, which fixes the size): a lead is about 1.5 KiB, and
    # bigger pages split less often under an upload's million inserts. WAL lets readers work while one
    # writer writes; a 128 MiB page cache keeps the dedupe indexes in memory. IMMEDIATE transactions take
    # the write lock up front so two writers queue instead of failing with "database is locked" mid-way.
    config["OPTIONS"] = {
        "init_command": (
            "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA busy_timeout=30000; PRAGMA cache_size=-131072;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Django's cache is the database's: what it holds (the sign-in limit's failure counts) must be the same in
# every web process and on every machine, and the database is the one thing they all share (no Redis or
# memcached to run). Its table is made by a migration (leads 0008), so `migrate` is all it takes.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "leadgate_cache",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing directory
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("LEADGATE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# leadgate's own settings
LEADGATE_ALLOW_PRIVATE_DESTINATIONS = env_bool("LEADGATE_ALLOW_PRIVATE_DESTINATIONS", False)
# Two web processes per core: a process runs Python on one core at a time, and kept-alive client
# connections stick to the process that accepted them, so with one per core a core often idles.
LEADGATE_WEB_WORKERS = env_int("LEADGATE_WEB_WORKERS", min(2 * (os.cpu_count() or 1), 8), minimum=1)
LEADGATE_WEB_THREADS = env_int("LEADGATE_WEB_THREADS", 4, minimum=1)
# One line per request on standard output; a proxy in front usually logs them already.
LEADGATE_ACCESS_LOG = env_bool("LEADGATE_ACCESS_LOG", True)
LEADGATE_PROCESS_BATCH_SIZE = env_int("LEADGATE_PROCESS_BATCH_SIZE", 1000, minimum=1)
# API: requests a minute per key (0: no limit) and the largest request body, in bytes.
LEADGATE_API_RATE_LIMIT = env_int("LEADGATE_API_RATE_LIMIT", 6000, minimum=0)
LEADGATE_API_MAX_BODY = env_int("LEADGATE_API_MAX_BODY_MB", 10, minimum=1) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = LEADGATE_API_MAX_BODY
# Uploads: the largest file, and the most a workbook (a ZIP) may inflate to before it is refused unread.
LEADGATE_UPLOAD_MAX_BYTES = env_int("LEADGATE_UPLOAD_MAX_MB", 100, minimum=1) * 1024 * 1024
LEADGATE_UPLOAD_MAX_INFLATED_BYTES = env_int("LEADGATE_UPLOAD_MAX_INFLATED_MB", 2048, minimum=1) * 1024 * 1024
# Uploaded files are kept (for the row-error report) in Django's default storage, here under the data
# directory; several machines need a shared volume or another storage backend.
MEDIA_ROOT = DATA_DIR / "files"
# Outgoing HTTP (status callbacks, destinations): seconds to connect, and for a whole request.
LEADGATE_HTTP_CONNECT_TIMEOUT = env_int("LEADGATE_HTTP_CONNECT_TIMEOUT", 5, minimum=1)
LEADGATE_HTTP_TIMEOUT = env_int("LEADGATE_HTTP_TIMEOUT", 20, minimum=1)
# A status callback is tried this many times (backoff spreads 12 over about a day), then it is dead.
LEADGATE_CALLBACK_MAX_ATTEMPTS = env_int("LEADGATE_CALLBACK_MAX_ATTEMPTS", 12, minimum=1)
# Deliveries to destinations: attempts before a delivery is dead (12 span about a day), posts in flight at
# once per worker process, and failed attempts in a row after which a destination pauses and probes.
# The first wait after a failed post (callbacks and deliveries); each further failure doubles it.
LEADGATE_RETRY_BASE_SECONDS = env_int("LEADGATE_RETRY_BASE_SECONDS", 45, minimum=1)
LEADGATE_DELIVERY_MAX_ATTEMPTS = env_int("LEADGATE_DELIVERY_MAX_ATTEMPTS", 12, minimum=1)
LEADGATE_DELIVERY_THREADS = env_int("LEADGATE_DELIVERY_THREADS", 32, minimum=1)
LEADGATE_DELIVERY_PAUSE_AFTER = env_int("LEADGATE_DELIVERY_PAUSE_AFTER", 10, minimum=1)
# Days the attempt log is kept (the deliveries themselves are kept with their leads).
LEADGATE_DELIVERY_LOG_DAYS = env_int("LEADGATE_DELIVERY_LOG_DAYS", 30, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LEADGATE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django_tasks_db": {"level": "WARNING"},
        # httpx logs every request's full URL at INFO; callback and webhook URLs often carry tokens.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
