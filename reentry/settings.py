"""Settings for Reentry: one module, driven by the environment.

Every setting that varies between machines is read from an environment variable (see
README.md and .env.example). A secret may also come from a file named by `<NAME>_FILE`, so
container secrets never have to sit in the environment. With DEBUG off (the default) the
process refuses to start without SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("REENTRY_VAR_DIR", BASE_DIR / "var"))
# The demo's generated password, kept so that a restart of `make run` does not sign everyone out.
DEMO_PASSWORD_FILE = VAR_DIR / "demo-password"


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "")
    if value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envsecret(name: str) -> str:
    """A secret from NAME, or from the file NAME_FILE points at."""
    if path := os.environ.get(f"{name}_FILE"):
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from None
    return os.environ.get(name, "")


def envlist(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)

SECRET_KEY = envsecret("SECRET_KEY")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS")
if DEBUG:
    # Development only: a throwaway key and local hosts, so `make run` needs no set-up.
    SECRET_KEY = SECRET_KEY or "django-insecure-development-only-key-never-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]", "testserver"]
else:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# How many reverse proxies of ours stand in front of the app: the access log takes the
# client's address from X-Forwarded-For only that far (0: REMOTE_ADDR).
TRUSTED_PROXY_HOPS = envint("TRUSTED_PROXY_HOPS", 0)


def development_key_file(path: Path) -> str:
    """A key made once for this checkout (var/ is git-ignored), so `make run` needs no set-up."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of `make run` made it first
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(base64.urlsafe_b64encode(os.urandom(32)).decode() + "\n")
    return path.read_text().strip()


# Field encryption (services.lib.crypto): keys newest first, comma-separated, each a
# base64url 32-byte key. Separate from SECRET_KEY, and the blind-index keys separate again.
FIELD_ENCRYPTION_KEYS = [key.strip() for key in envsecret("FIELD_ENCRYPTION_KEYS").split(",") if key.strip()]
BLIND_INDEX_KEYS = [key.strip() for key in envsecret("BLIND_INDEX_KEYS").split(",") if key.strip()]
if DEBUG:
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [development_key_file(VAR_DIR / "keys" / "field_encryption.key")]
    BLIND_INDEX_KEYS = BLIND_INDEX_KEYS or [development_key_file(VAR_DIR / "keys" / "blind_index.key")]
else:
    if not FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS (or FIELD_ENCRYPTION_KEYS_FILE) must be set when DEBUG is off: "
            "sensitive fields cannot be read or written without it."
        )
    if not BLIND_INDEX_KEYS:
        raise ImproperlyConfigured(
            "BLIND_INDEX_KEYS (or BLIND_INDEX_KEYS_FILE) must be set when DEBUG is off: "
            "the duplicate check at intake cannot work without it."
        )

# The access log's anchor (services.audit_anchor): the key of the keyed hash (HMAC) that seals
# each checkpoint of the log's count and head. Its own key, never one of the above, so that
# whoever can write the database cannot forge a checkpoint.
AUDIT_ANCHOR_KEY = envsecret("AUDIT_ANCHOR_KEY")
if DEBUG:
    AUDIT_ANCHOR_KEY = AUDIT_ANCHOR_KEY or development_key_file(VAR_DIR / "keys" / "audit_anchor.key")
elif len(AUDIT_ANCHOR_KEY) < 32:
    raise ImproperlyConfigured(
        "AUDIT_ANCHOR_KEY (or AUDIT_ANCHOR_KEY_FILE) must be set when DEBUG is off, at least 32 characters "
        "(`python manage.py generate_encryption_key` makes one): the access log's checkpoints are sealed with it."
    )
# How often beat writes a checkpoint of the access log (count and head) outside the table.
AUDIT_CHECKPOINT_MINUTES = envint("AUDIT_CHECKPOINT_MINUTES", 15)

INSTALLED_APPS = [
    "services.apps.SecondFactorAdminConfig",  # django.contrib.admin behind the second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "guardian",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as our own static files (no CDN)
    "services",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified when the session passed the second factor (services.access
    # refuses staff pages to a session that has not).
    "django_otp.middleware.OTPMiddleware",
    # Right after authentication: no response to a signed-in request is kept by a browser.
    "services.middleware.NoStoreWhenSignedInMiddleware",
    # After authentication: the signed-in person's language replaces the browser's guess.
    "services.middleware.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Inside CSP and the session's: a page for an address that only takes a form (not blank).
    "services.middleware.FormOnlyAddressMiddleware",
    "services.middleware.SessionTimeoutMiddleware",
    # After the session's timeout (a form posted after a sign-out is kept, not claimed), and
    # its claim taken after the CSRF check: a form sent twice saves once.
    "services.middleware.FormSentOnceMiddleware",
    "services.middleware.OrganizationTimezoneMiddleware",
    "services.audit.AuditMiddleware",
    # Last, as django-axes asks: it turns a sign-in refused for a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# BENCH=1 (bench/pages.py only): every response carries X-Query-Count, the number of
# database queries it took. Refused unless the site answers on loopback addresses only, so
# it can never be on in production.
BENCH = envbool("BENCH", False)
if BENCH:
    if not ALLOWED_HOSTS or set(ALLOWED_HOSTS) - {"localhost", "127.0.0.1", "[::1]", "testserver"}:
        raise ImproperlyConfigured("BENCH is for bench/pages.py: set ALLOWED_HOSTS to 127.0.0.1 or localhost only.")
    MIDDLEWARE.insert(0, "services.middleware.QueryCountHeaderMiddleware")

ROOT_URLCONF = "reentry.urls"
WSGI_APPLICATION = "reentry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "services.context_processors.role",
                "services.context_processors.notifications",
                "services.context_processors.demo",
                "services.context_processors.idle",
            ],
        },
    },
]
# Django's form renderer with selects built in Python (a long list of names cost a page
# two template includes per name).
FORM_RENDERER = "services.forms.renderer.FormRenderer"

# Database: SQLite in var/ unless DATABASE_URL names another (PostgreSQL in production).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Tests only (pyproject.toml sets it): a commit returns before the database has flushed it to
# disk (PostgreSQL's synchronous_commit=off, SQLite's synchronous=OFF). What a commit does and
# what other connections see are unchanged; only a crash of the machine (or of PostgreSQL
# itself) could lose the last moments. The suite commits thousands of times and each flush
# cost ~7 ms on PostgreSQL here. Never in production: without DEBUG it is ignored (so the
# production-mode processes the tests start, and the bench's, flush every commit as production does).
DB_COMMIT_WITHOUT_FLUSH = DEBUG and envbool("DB_COMMIT_WITHOUT_FLUSH", False)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60))}
    # PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost: the
    # outcomes page's EXISTS subqueries inflate estimates past it, and EXPLAIN ANALYZE showed
    # ~60 ms of compiling in each of two queries (the page's figures: 408 → 354 ms at bench
    # scale, jit on and off in turn in one process). Off for the app's connections; DB_JIT=1
    # keeps the server's setting (behind a pooler that refuses startup options, turn it off
    # with ALTER DATABASE … SET jit = off).
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        startup = [] if envbool("DB_JIT", False) else ["-c jit=off"]
        if DB_COMMIT_WITHOUT_FLUSH:
            startup.append("-c synchronous_commit=off")
        if startup:
            DATABASES["default"].setdefault("OPTIONS", {})["options"] = " ".join(startup)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # The worker and the web process share the file: wait for a lock instead of failing.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                **({"init_command": "PRAGMA synchronous=OFF"} if DB_COMMIT_WITHOUT_FLUSH else {}),
            },
            # Tests use a file too (not memory), so a Celery worker in another thread or
            # process sees the same database.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# An index's included columns (Index.include) serve PostgreSQL, which counts from the index
# alone; SQLite builds the same index on its key columns, as its warning says, and that is all
# the embedded default needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, loading with the user what every page asks of them (services.auth).
    "services.auth.UserBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user would be one more account with permissions; anonymous people
# get nothing here, so it is switched off.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    # Django's checks, in plain words (services/lib/password_rules.py).
    {"NAME": "services.lib.password_rules.MinimumLength", "OPTIONS": {"min_length": 10}},
    {"NAME": "services.lib.password_rules.NotLikeThePerson"},
    {"NAME": "services.lib.password_rules.NotCommon"},
    {"NAME": "services.lib.password_rules.NotOnlyNumbers"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout (django-axes): after AXES_FAILURE_LIMIT failed sign-ins for one username from one
# address, that pair is refused until the cool-off ends, a director unlocks it (staff page)
# or an operator does (`manage.py unlock_sign_in <username>`, which also lifts django-otp's
# wait on the account's devices). Keyed on the pair so a stranger cannot lock a colleague out from elsewhere, and one
# address cannot try many passwords on one account.
AXES_FAILURE_LIMIT = envint("LOCKOUT_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOCKOUT_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Counted under the username as sign-in reads it: trimmed, in small letters (services.auth).
AXES_USERNAME_CALLABLE = "services.signin.lockout_username"
# Not on a right password: wrong one-time codes would be forgiven by typing the password
# again. Failures are forgiven once the whole sign-in passes (services.signin).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "services.views.account.locked_out"
# The same client address as the access log (honours TRUSTED_PROXY_HOPS).
AXES_CLIENT_IP_CALLABLE = "services.audit.client_ip"
# Axes' own log of every sign-in would duplicate the access log (services.audit).
AXES_DISABLE_ACCESS_LOG = True
# A wrong one-time code counts as a failed sign-in too (services.actions.sign_in_code_refused);
# axes keeps the failed request's form data, so the code is masked like the password.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]

# Two-factor sign-in (django-otp): required for staff, offered to exonerees (services.access).
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Reentry")

# Sessions end after this much inactivity (staff, exonerees) and, whatever the activity,
# after SESSION_ABSOLUTE_HOURS (services.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_MINUTES_STAFF = envint("SESSION_IDLE_MINUTES_STAFF", 30)
SESSION_IDLE_MINUTES_EXONEREE = envint("SESSION_IDLE_MINUTES_EXONEREE", 60)
SESSION_ABSOLUTE_HOURS = envint("SESSION_ABSOLUTE_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600

# Invitation and password-reset links stop working after this many seconds (default 3 days).
PASSWORD_RESET_TIMEOUT = envint("INVITATION_LINK_SECONDS", 3 * 24 * 3600)
# Password-reset requests sent per hour, per email address and per client address; more
# are answered the same way and dropped (services.signin.password_reset_allowed).
PASSWORD_RESET_PER_HOUR_PER_ADDRESS = envint("PASSWORD_RESET_PER_HOUR_PER_ADDRESS", 3)
PASSWORD_RESET_PER_HOUR_PER_CLIENT = envint("PASSWORD_RESET_PER_HOUR_PER_CLIENT", 5)

# English and Spanish. An exoneree's pages and emails follow the language on their record
# (services.middleware.PersonLanguageMiddleware); staff pages are in English (their strings
# are marked, not yet translated); before sign-in, the browser's language or the last choice.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# People's papers (services/lib/vault.py): sealed files, never served from a URL of their own.
# On the local disk under the data folder, or an S3-compatible bucket (MinIO, AWS…) when
# DOCUMENTS_S3_BUCKET is set; the bucket needs no public access at all.
DOCUMENTS_S3_BUCKET = os.environ.get("DOCUMENTS_S3_BUCKET", "")
if DOCUMENTS_S3_BUCKET:
    DOCUMENTS_STORAGE: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": DOCUMENTS_S3_BUCKET,
            "endpoint_url": os.environ.get("DOCUMENTS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("DOCUMENTS_S3_REGION") or None,
            "access_key": envsecret("DOCUMENTS_S3_ACCESS_KEY") or None,
            "secret_key": envsecret("DOCUMENTS_S3_SECRET_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "addressing_style": os.environ.get("DOCUMENTS_S3_ADDRESSING_STYLE") or None,
        },
    }
else:
    DOCUMENTS_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": os.environ.get("DOCUMENTS_DIR") or str(VAR_DIR / "documents"),
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
# The largest paper anyone may upload, in bytes (a scan of several pages, a phone photo).
DOCUMENT_MAX_BYTES = envint("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
# An upload up to that size (and the form around it) stays in memory until it is sealed:
# Django would otherwise write any file over 2.5 MB to a temporary file, in plaintext.
FILE_UPLOAD_MAX_MEMORY_SIZE = DOCUMENT_MAX_BYTES + 1024 * 1024

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        # STATIC_COMPRESSED=0: hashed names without the gzip and Brotli copies, which take
        # collectstatic ~25 s of CPU (the bench scripts' --smoke runs; a proxy that compresses).
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if envbool("STATIC_COMPRESSED", True)
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
    "documents": DOCUMENTS_STORAGE,
}

# Email: printed to the console in development, SMTP in production.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Reentry <reentry@example.org>")
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")
# Seconds an SMTP connection may block. It bounds a send, so a reminder whose worker died
# can safely be taken over after REMINDER_CLAIM_TIMEOUT_SECONDS (see services/reminders.py).
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)

# Text messages: off unless a backend is named (services.lib.sms; e.g. the console one).
SMS_BACKEND = os.environ.get("SMS_BACKEND") or "services.lib.sms.DisabledBackend"

# Reminders (services/reminders.py): how early, how often a failed email is retried, and
# when a claimed row whose worker vanished is claimed again. The claim timeout must exceed
# the longest send (EMAIL_TIMEOUT, plus retries' waits are released back first).
REMINDER_LEAD_HOURS = envint("REMINDER_LEAD_HOURS", 24)

# Break-the-glass: how long an emergency access to a record outside the caseload lasts.
BREAK_GLASS_HOURS = envint("BREAK_GLASS_HOURS", 4)
# Emergency searches a staff member may make in an hour; the directors are told at the limit.
BREAK_GLASS_SEARCHES_PER_HOUR = envint("BREAK_GLASS_SEARCHES_PER_HOUR", 5)
REMINDER_OVERDUE_HOURS = envint("REMINDER_OVERDUE_HOURS", 24)
REMINDER_CLAIM_TIMEOUT_SECONDS = envint("REMINDER_CLAIM_TIMEOUT_SECONDS", 15 * 60)
REMINDER_RETRY_SECONDS = envint("REMINDER_RETRY_SECONDS", 60)
REMINDER_MAX_RETRIES = envint("REMINDER_MAX_RETRIES", 5)
# How long a worker keeps trying to record "sent" through a database outage before it hands
# the record to a task retry (a lost record would mean a second email). Well inside the send
# task's time limit (services.tasks.SEND_TIME_LIMIT).
REMINDER_RECORD_RETRY_SECONDS = envint("REMINDER_RECORD_RETRY_SECONDS", 120)
# Liveness (/healthz/ answers 503, the director's notifications page warns): the last sweep
# is older than this (it runs every minute), or a due reminder has waited this long unsent
# (longer than the email retries take, about 22 minutes with the defaults).
REMINDER_SWEEP_LATE_SECONDS = envint("REMINDER_SWEEP_LATE_SECONDS", 10 * 60)
REMINDER_SEND_LATE_SECONDS = envint("REMINDER_SEND_LATE_SECONDS", 30 * 60)

# The Network's figures (services/outcomes/network.py): a count from 1 to NETWORK_MIN_CELL - 1
# is shown as "fewer than NETWORK_MIN_CELL", never sent. Below 2 nothing would be hidden.
NETWORK_MIN_CELL = envint("NETWORK_MIN_CELL", 11)
if NETWORK_MIN_CELL < 2:
    raise ImproperlyConfigured(f"NETWORK_MIN_CELL must be 2 or more, not {NETWORK_MIN_CELL}")

# The provider's page (/p/<token>/): requests per token and per client address in a window.
PROVIDER_RATE_WINDOW_SECONDS = envint("PROVIDER_RATE_WINDOW_SECONDS", 600)
PROVIDER_RATE_PER_TOKEN = envint("PROVIDER_RATE_PER_TOKEN", 60)
PROVIDER_RATE_PER_ADDRESS = envint("PROVIDER_RATE_PER_ADDRESS", 120)

# Forms that save something (services.lib.once): each sending claims a place in the shared
# cache for up to an hour, so one sender (an account, or the provider's page by its address)
# may send at most this many in a window; past it, a 429 and nothing saved.
FORM_RATE_WINDOW_SECONDS = envint("FORM_RATE_WINDOW_SECONDS", 600)
FORM_RATE_PER_SENDER = envint("FORM_RATE_PER_SENDER", 120)

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport in var/,
# which needs no server (the embedded default of `make run`).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"socket_connect_timeout": 3}
else:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)

# Caches. "default" is each process's own memory. "shared" is one for every web and Celery
# process of the deployment, for what must be counted or seen across them (the password-reset
# throttle, the reminder sweep's heartbeat): Redis when REDIS_URL is set (keys prefixed,
# beside the broker's), else files in var/ (the embedded default is one machine). "figures"
# holds the director's figures (services/figures.py), also one for the whole deployment:
# Redis under a key prefix of its own when REDIS_URL is set, else a table of the database
# (made by migration 0028, so nothing is to run by hand). Nothing here flushes Redis: the
# broker only pushes and pops its queues, and tests use a cache in memory of their own.
FIGURES_CACHE_TABLE = "services_figures_cache"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "reentry"}
        if REDIS_URL
        # Django's file cache, with an `add` and `incr` that hold across processes (locked files)
        # and room made from the expired and least recently written entries, never a count in use
        else {
            "BACKEND": "services.lib.file_cache.FileCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    ),
    "figures": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "reentry-figures",
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": FIGURES_CACHE_TABLE,
            # A filtered page lives a minute, a default one (two per organization) half a day:
            # a few thousand is every organization's pages and more.
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    ),
}
# After a write the figures read, or when a director is served them past their minute,
# compute the organization's default outcomes page again in the background
# (services.figures.recompute_soon). Off where tasks run inline (the tests), where it would
# make every write compute the page; then a page past its minute is computed on the spot.
FIGURES_RECOMPUTE = envbool("FIGURES_RECOMPUTE", not CELERY_TASK_ALWAYS_EAGER)
# The queue tasks go to and the worker reads: a name of its own lets several deployments
# (or parallel test runs) share one Redis without taking each other's messages.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE") or "celery"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A worker takes one message at a time: with late acknowledgement, a message it has not
# started is not held hostage by a worker that dies.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every minute the sweep claims the reminders that are due and queues them (reminders are
# rows, not ETA tasks; see services/reminders.py). Every night at 08:30 UTC (early morning
# across the US) the outcome counts are recounted: a safety net for rows written outside tracked actions.
CELERY_BEAT_SCHEDULE = {
    "sweep-reminders": {"task": "services.tasks.sweep_reminders", "schedule": 60.0, "options": {"expires": 55}},
    "audit-checkpoint": {
        "task": "services.tasks.audit_checkpoint",
        "schedule": 60.0 * AUDIT_CHECKPOINT_MINUTES,
        "options": {"expires": 60.0 * AUDIT_CHECKPOINT_MINUTES},
    },
    "refresh-outcome-counts": {
        "task": "services.tasks.refresh_outcome_counts",
        "schedule": crontab(hour=8, minute=30),
        "options": {"expires": 6 * 3600},
    },
    # Retention (issue 23): the directors are told of the closed cases due in 30 days, to
    # confirm or hold; `manage.py purge_due` (scheduled by the operator) removes the confirmed.
    "retention-notice": {
        "task": "services.tasks.retention_notice",
        "schedule": crontab(hour=9, minute=0),
        "options": {"expires": 6 * 3600},
    },
}

# Security headers. In production (DEBUG off) cookies are secure and HSTS is on; behind a
# TLS-terminating proxy set SECURE_PROXY_SSL_HEADER_ENABLED=1.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# No inline script or style anywhere (templates use services/static/services/site.css and
# static scripts only), so the policy needs no 'unsafe-inline' and no nonces.
# The API (/api/v1/, services/api/): personal access tokens or the signed-in session (with its
# CSRF token), staff only, cursor pages, errors as {"field": ["message"]}, a request budget per
# token counted in the shared cache.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "services.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # CSRF enforced on writes
    ],
    "DEFAULT_PERMISSION_CLASSES": ["services.api.auth.StaffOnly"],
    "DEFAULT_PAGINATION_CLASS": "services.api.policies.Cursor",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["services.api.policies.PerToken"],
    "DEFAULT_THROTTLE_RATES": {"api": os.environ.get("API_RATE") or "600/minute"},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["services.api.base.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "services.api.base.handle_error",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Reentry API",
    "DESCRIPTION": (
        "The records of an innocence organization's casework, under the same rules as the pages: "
        "what is not yours is a 404, what you may read but not change a 403, every person's record "
        "read is in the access log. Authenticate with a personal access token (Account → API tokens): "
        "`Authorization: Bearer rnt_…`."
    ),
    "VERSION": "1",
    # OpenAPI 3.1: its schemas are JSON Schema, so a client (and tests/test_api.py) validates
    # answers with any JSON Schema validator.
    "OAS_VERSION": "3.1.0",
    # The transition's two yes/no answers share one choice set: one name for it; so do a
    # person's preferred language and a provider's language (the site's languages).
    "ENUM_NAME_OVERRIDES": {
        "YesNoEnum": ["yes", "no"],
        "LanguageEnum": "services.choices.Language.choices",
        "NeedStatusEnum": "services.choices.NeedStatus.choices",
        "ReferralStatusEnum": "services.choices.ReferralStatus.choices",
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["services.api.auth.StaffOnly"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Every operation's errors, in the one shape they all take.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "services.api.base.document_errors",
    ],
}

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
    if envbool("SECURE_PROXY_SSL_HEADER_ENABLED", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs go to the console; nothing sensitive is ever passed to a logger.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A provider's link carries its key in the path, a People search the name typed in its
    # address: both blanked in every line (4xx warnings, runserver's request lines, error reports).
    "filters": {"url_secrets": {"()": "services.lib.log_filters.RedactUrlSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["url_secrets"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own handlers (its debug console, runserver's request lines, error emails)
    # would print a line before the filter saw it: they hand everything to ours instead.
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
    },
}
