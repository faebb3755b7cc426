"""Serviceloop settings: everything comes from the environment, with safe local defaults.

Production needs only DATABASE_URL, REDIS_URL, SECRET_KEY and the mail settings.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

N = TypeVar("N", int, float)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SERVICELOOP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def _env_number(
    name: str, default: N, convert: Callable[[str], N], fits: Callable[[N], bool], expected: str
) -> N:
    """A number from the environment; one that does not parse or fit stops start-up."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = convert(value.strip())
    except ValueError:
        number = None
    if number is None or not fits(number):
        raise ImproperlyConfigured(f"{name} must be {expected}, not {value!r}.")
    return number


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number from the environment, from `minimum` (to `maximum`)."""
    allowed = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
    return _env_number(
        name,
        default,
        int,
        lambda n: n >= minimum and (maximum is None or n <= maximum),
        f"a whole number {allowed}",
    )


def env_seconds(name: str, default: float, *, minimum: float = 0.0) -> float:
    """A duration in seconds (fractions allowed) from the environment."""
    return _env_number(
        name,
        default,
        float,
        lambda seconds: minimum <= seconds < float("inf"),
        f"a number of seconds, {minimum:g} or more",
    )


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """Use SECRET_KEY, or a random key kept under var/ so sessions survive restarts."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = get_random_secret_key()
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "channels",
    "serviceloop.core",
    "serviceloop.accounts",
    "serviceloop.customers",
    "serviceloop.tickets",
    "serviceloop.inboxes",
    "serviceloop.webhooks",
    "serviceloop.portal",
    "serviceloop.customer360",
    # The project itself: its operator commands (run, demo, check) sit above every app.
    "serviceloop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "serviceloop.core.middleware.DomainErrorMiddleware",
    "serviceloop.core.middleware.AgentTimeZoneMiddleware",
]

ROOT_URLCONF = "serviceloop.urls"
# Where `serviceloop run` serves, with how many web server processes, each running
# requests on SERVICELOOP_WEB_THREADS threads (wsgi.py): how many slow requests (an upload,
# an IMAP connection test) one process serves at once.
SERVICELOOP_HOST = os.environ.get("HOST", "127.0.0.1")
SERVICELOOP_PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
SERVICELOOP_WEB_WORKERS = env_int("WEB_WORKERS", 1, minimum=1)
SERVICELOOP_WEB_THREADS = env_int("SERVICELOOP_WEB_THREADS", 4, minimum=1)
# Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto the web server believes
# (wsgi.py): addresses or networks, comma-separated, or * for any.
FORWARDED_ALLOW_IPS = [
    address.strip()
    for address in os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1").split(",")
    if address.strip()
]
WSGI_APPLICATION = "serviceloop.wsgi.application"

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

# --- Database -----------------------------------------------------------------------------
# SQLite in WAL mode is the embedded default. IMMEDIATE transactions take the write lock at
# BEGIN, so two processes never deadlock upgrading a read lock to a write lock.
SQLITE_OPTIONS = {
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA busy_timeout=30000; PRAGMA cache_size=-64000;"
    ),
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}

if os.environ.get("DATABASE_URL"):
    try:
        DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
    except ValueError as error:  # also dj_database_url's UnknownSchemeError
        raise ImproperlyConfigured(f"DATABASE_URL is not a database address: {error}") from None
    postgresql = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    elif postgresql:
        DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
        if env_bool("DATABASE_PREPARED_STATEMENTS", True):
            # Inserts and look-ups by a unique key are planned once per connection
            # (core/prepared.py). Off for a connection pooler that cannot keep them.
            DATABASES["default"]["ENGINE"] = "serviceloop.core.postgresql"
            # A prepared statement takes its parameters apart from the SQL.
            DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    if postgresql and env_bool("SERVICELOOP_DATABASE_POOL", True):
        # The web server's default: the request threads of a process (wsgi.py) share a few
        # connections, and one PostgreSQL closed (a restart, a timeout) is replaced
        # instead of failing the next request that finds it.
        # cli.py turns it off for `serviceloop worker`, always (RQ forks per job, and a
        # forked child must not share the parent's pooled sockets), and by default for the
        # other commands, which use the database from one thread.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        pool_min_size = env_int("DATABASE_POOL_MIN_SIZE", 2)
        pool_max_size = env_int("DATABASE_POOL_MAX_SIZE", 20, minimum=1)
        if pool_min_size > pool_max_size:
            raise ImproperlyConfigured(
                "DATABASE_POOL_MIN_SIZE must not be larger than DATABASE_POOL_MAX_SIZE."
            )
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": pool_min_size,
            "max_size": pool_max_size,
            # How long a request waits for a connection. Each process's request threads
            # are fewer than the pool's connections, so only an unreachable database makes
            # a request wait this long: /healthz then answers 503 within it.
            "timeout": env_seconds("DATABASE_POOL_TIMEOUT", 5, minimum=0.1),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "serviceloop.sqlite3"),
            "OPTIONS": SQLITE_OPTIONS,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:queue"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Redis: task queue and realtime channel layer -----------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Internationalization -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024

# --- Email --------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production) ----------------------------------------------------------------
SECURE = env_bool("SERVICELOOP_SECURE", False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "rq": {"level": "WARNING"}},
}

# --- Serviceloop --------------------------------------------------------------------------
# A solved ticket closes after this many hours; a customer reply inside the window reopens
# it, a reply after it opens a linked follow-up.
SERVICELOOP_SOLVED_TO_CLOSED_HOURS = env_int("SERVICELOOP_SOLVED_TO_CLOSED_HOURS", 96)
SERVICELOOP_MAX_ATTACHMENT_BYTES = env_int(
    "SERVICELOOP_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024, minimum=1
)
# How long a worker may hold an event delivery before another worker may take it over.
SERVICELOOP_DELIVERY_LEASE_SECONDS = env_int("SERVICELOOP_DELIVERY_LEASE_SECONDS", 60, minimum=1)
# Delivered outbox rows and finished task results are deleted after this many days.
SERVICELOOP_KEEP_FINISHED_WORK_DAYS = env_int("SERVICELOOP_KEEP_FINISHED_WORK_DAYS", 14)
SERVICELOOP_WEBHOOK_MAX_ATTEMPTS = env_int("SERVICELOOP_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
SERVICELOOP_WEBHOOK_BACKOFF_SECONDS = env_seconds("SERVICELOOP_WEBHOOK_BACKOFF_SECONDS", 10)
SERVICELOOP_WEBHOOK_TIMEOUT_SECONDS = env_seconds(
    "SERVICELOOP_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=0.1
)
NINJA_PAGINATION_MAX_LIMIT = 200
# Outbound email: attempts before a send counts as failed, and the first retry delay.
SERVICELOOP_EMAIL_MAX_ATTEMPTS = env_int("SERVICELOOP_EMAIL_MAX_ATTEMPTS", 6, minimum=1)
SERVICELOOP_EMAIL_BACKOFF_SECONDS = env_seconds("SERVICELOOP_EMAIL_BACKOFF_SECONDS", 60)
SERVICELOOP_IMAP_POLL_SECONDS = env_seconds("SERVICELOOP_IMAP_POLL_SECONDS", 60, minimum=1)
SERVICELOOP_SMTPD_MAX_MESSAGE_BYTES = env_int(
    "SERVICELOOP_SMTPD_MAX_MESSAGE_BYTES", 50 * 1024 * 1024, minimum=1
)
# The public contact form: submissions per hour from one IP address and for one email address.
SERVICELOOP_CONTACT_PER_IP_PER_HOUR = env_int("SERVICELOOP_CONTACT_PER_IP_PER_HOUR", 20, minimum=1)
SERVICELOOP_CONTACT_PER_ADDRESS_PER_HOUR = env_int(
    "SERVICELOOP_CONTACT_PER_ADDRESS_PER_HOUR", 5, minimum=1
)
# A portal sign-in link works once, for this many minutes.
SERVICELOOP_PORTAL_LINK_MINUTES = env_int("SERVICELOOP_PORTAL_LINK_MINUTES", 30, minimum=1)
