"""Settings, read from the environment once, with embedded defaults.

Everything Tipline keeps lives under ``TIPLINE_DATA_DIR``: the SQLite database, the encrypted
evidence store and the key material. ``DATABASE_URL`` switches to PostgreSQL. Importing the
settings creates nothing: `tipline keys init` creates the data directory and the keys, and the
start-up check (tipline.ops.keycheck) refuses to run without them.

Anonymity shapes several choices here: no session or CSRF cookie on public pages, no access log,
no error e-mails (they would carry request metadata), and logging that never formats a request.
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from tipline.crypto.keyfiles import read_django_secret
from tipline.db import postgres


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def checkout_root(package_dir: Path) -> Path | None:
    """The checkout this package runs from (``src/tipline`` under a Tipline pyproject.toml).

    An installed package (site-packages) has no such file above it and gets None.
    """
    root = package_dir.parent.parent
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return root if project.get("project", {}).get("name") == "tipline" else None


def data_dir(environ: Mapping[str, str], package_dir: Path) -> Path:
    """Where Tipline keeps its data, whatever the current directory is.

    ``TIPLINE_DATA_DIR`` wins (a relative value is taken from the current directory). Without it,
    a checkout keeps its data in ``var/`` at its root (ignored by git), so that running a command
    from ``src/tipline/`` or anywhere else finds the same data; an installed copy has no such
    place and must be told.
    """
    configured = environ.get("TIPLINE_DATA_DIR", "")
    if configured:
        return Path(configured).resolve()
    root = checkout_root(package_dir)
    if root is None:
        raise ImproperlyConfigured(
            "TIPLINE_DATA_DIR is not set: set it to the folder that holds Tipline's database, "
            "evidence and keys (for example /srv/tipline/data), then run `tipline keys init` "
            "once to create the keys"
        )
    return root / "var"


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir(os.environ, BASE_DIR)
KEY_DIR = DATA_DIR / "keys"
EVIDENCE_DIR = DATA_DIR / "evidence"

DEBUG = os.environ.get("TIPLINE_DEBUG", "") == "1"
# The Django secret signs staff sessions and CSRF tokens; it lives with the other keys, never in
# the repository. Settings only read it ("" while it is missing or damaged: the start-up check
# then names the file, and Django refuses to sign anything with an empty secret).
SECRET_KEY = read_django_secret(KEY_DIR)
ALLOWED_HOSTS = [
    h for h in os.environ.get("TIPLINE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Before django_tasks_db: its `db_worker` command shadows the package's (a worker id that
    # names the host and pid, so a dead worker's tasks can be released: outbox/workers.py).
    "tipline.outbox",
    "django_tasks_db",
    "tipline.audit",
    "tipline.cases",
    "tipline.intake",
    "tipline.api",
    "tipline.ops",
    "tipline.staff",
    "tipline.console",
    "tipline.triage",
    "tipline.matching",
    "tipline.partners",
    "tipline.cybertipline",
    "tipline.ispws",
    "tipline.locker",
    "tipline.guidance",
    "tipline.outputs",
    "tipline.exchange",
    "tipline.takedown",
    "tipline.metrics",
    "tipline.partnerapi",
]

MIDDLEWARE = [
    # First, so that nothing below it can see, log or store the client's address.
    "tipline.web.middleware.ForgetClientMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above the session and CSRF middleware, so that it sees (and drops) any cookie they would
    # set on a public page: only /console/ responses may carry cookies.
    "tipline.web.middleware.PrivacyHeadersMiddleware",
    # Neutral tab title (?neutral=1): keeps the preference on every same-site link of the page.
    "tipline.web.middleware.NeutralLinksMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Inside the header middleware (its answers get the CSP and no-store): an error with an empty
    # body becomes a page, and any error under /api/ JSON.
    "tipline.web.middleware.ErrorBodiesMiddleware",
    "tipline.web.middleware.CrossSiteWriteGuardMiddleware",
    # Sessions exist only for the staff console: its cookies are scoped to /console/ and public
    # views never touch request.session, so no public response sets a cookie.
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads a body (CSRF reads console posts), after the locale is chosen so
    # that its page is in the reporter's language.
    "tipline.web.middleware.RequestSizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Public views are csrf_exempt (cookie-less; see CrossSiteWriteGuardMiddleware); console
    # forms use Django's CSRF token.
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Every /console/ page but the sign-in steps needs a password-and-TOTP session whose epoch
    # is current; nothing outside /console/ is affected.
    "tipline.console.middleware.ConsoleAccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tipline.urls"
WSGI_APPLICATION = "tipline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "tipline.web.context.site",
                "tipline.console.context.console",
            ],
        },
    },
]

# Everything written under the data directory is private to the service account (the directory
# itself is created 0700 by `tipline keys init`).
os.umask(0o077)
DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'tipline.sqlite3'}"),
        conn_max_age=_env_int("TIPLINE_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer proceed together; IMMEDIATE transactions take the write lock
    # up front so concurrent submissions queue on busy_timeout instead of failing with "locked".
    # synchronous=FULL fsyncs every commit: an acknowledged report survives even a power cut.
    # Our backend queues writers on a file lock instead of SQLite's polling busy handler, and
    # connections are kept between requests (opening one costs 5 PRAGMAs): docs/BENCHMARKS.md.
    DATABASES["default"]["ENGINE"] = "tipline.db.sqlite"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON; PRAGMA synchronous="
            + os.environ.get("TIPLINE_SQLITE_SYNCHRONOUS", "FULL")
        ),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Scale-out profile (issue 19): pool, time limits and an optional streaming replica, each one
    # environment variable (tipline/db/postgres.py, docs/deployment.md).
    DATABASES["default"] = postgres.configure(DATABASES["default"], os.environ)
    if os.environ.get("TIPLINE_REPLICA_DATABASE_URL"):
        DATABASES[postgres.REPLICA] = postgres.replica(
            dj_database_url.parse(
                os.environ["TIPLINE_REPLICA_DATABASE_URL"],
                conn_max_age=_env_int("TIPLINE_DB_CONN_MAX_AGE", 60),
            ),
            os.environ,
        )
DATABASE_ROUTERS = ["tipline.db.router.ReplicaRouter"]
# Apps whose read-only pages may read the replica when there is one (tipline/db/router.py).
TIPLINE_REPLICA_APPS = frozenset(
    os.environ.get("TIPLINE_REPLICA_APPS", "metrics").replace(",", " ").split()
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Two queues: "triage" (scoring, its own worker: never behind media work) and "default"
# (previews, hashing and matching, one file per task run; the daily retention and audit
# checkpoint runs).
TASKS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": os.environ.get("TIPLINE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "triage", "webhooks"],
    }
}
# Work lost after intake (issue 19; docs/deployment.md "When work is lost after intake"):
# a database task RUNNING this long under a worker that cannot be checked from this machine is
# handed back (tipline/outbox/workers.py), so it must exceed the longest task run; and the work
# sweep re-enqueues a report's triage or media work still missing this many minutes after it
# was due (tipline/cases/work_sweep.py).
TIPLINE_TASK_CLAIM_SECONDS = _env_int("TIPLINE_TASK_CLAIM_SECONDS", 1800)
TIPLINE_WORK_SWEEP_MINUTES = _env_int("TIPLINE_WORK_SWEEP_MINUTES", 10)
# Evidence objects no row names are removed once they are this old (ops/orphans.py): an
# upload is written before the transaction that records it, so younger ones may be in flight.
TIPLINE_STORAGE_SWEEP_GRACE_MINUTES = _env_int("TIPLINE_STORAGE_SWEEP_GRACE_MINUTES", 60)
# --- Scale-out task profile (issue 19; docs/deployment.md "Scale-out tasks") -------------------
# TIPLINE_TASKS=redis: tasks are written to a transactional outbox in the database (same
# transaction as the report) and a relay (`tipline task_relay`) hands them to Redis, where
# django-tasks-redis workers run them. The self-re-enqueuing periodic chains stay on the
# database backend (alias "periodic": a few rows an hour, and their once-only check reads it).
# Unset (the default), nothing here applies and tasks use the database backend as above.
TIPLINE_TASKS = os.environ.get("TIPLINE_TASKS", "database")
TIPLINE_PERIODIC_BACKEND: str | None = None
TIPLINE_TASKS_RELAY_TO = "redis"  # the alias the outbox relay sends to
if TIPLINE_TASKS == "redis":
    if not os.environ.get("TIPLINE_REDIS_URL"):
        raise ImproperlyConfigured("TIPLINE_TASKS=redis needs TIPLINE_REDIS_URL (redis://...)")
    _queues = TASKS["default"]["QUEUES"]
    TASKS = {
        "default": {
            "BACKEND": "tipline.outbox.backend.OutboxBackend",
            "QUEUES": _queues,
        },
        "redis": {
            "BACKEND": "tipline.outbox.redis_backend.RedisBackend",
            "QUEUES": _queues,
            "OPTIONS": {
                "REDIS_URL": os.environ["TIPLINE_REDIS_URL"],
                "REDIS_KEY_PREFIX": os.environ.get("TIPLINE_REDIS_PREFIX", "tipline"),
                # A task whose worker died is handed out again after this many seconds.
                "REDIS_CLAIM_TIMEOUT": _env_int("TIPLINE_REDIS_CLAIM_SECONDS", 300),
                "REDIS_RESULT_TTL": 7 * 24 * 3600,
                "REDIS_SOCKET_TIMEOUT": 10,
                "REDIS_SOCKET_CONNECT_TIMEOUT": 3,
            },
        },
        "periodic": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": _queues},
    }
    TIPLINE_PERIODIC_BACKEND = "periodic"
    INSTALLED_APPS.append("django_tasks_redis")
elif TIPLINE_TASKS != "database":
    raise ImproperlyConfigured("TIPLINE_TASKS is 'database' (the default) or 'redis'")
# --- end of the scale-out task profile ----------------------------------------------------------

# Staff accounts (trust domain 2). Reporters never have accounts, sessions or cookies.
AUTH_USER_MODEL = "staff.StaffUser"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/console/sign-in/"
# How this hotline names itself to staff (TOTP apps) and to partner hotlines (tipline.exchange).
TIPLINE_HOTLINE_NAME = os.environ.get("TIPLINE_HOTLINE_NAME", "Tipline")
TIPLINE_HOTLINE_COUNTRY = os.environ.get("TIPLINE_HOTLINE_COUNTRY", "").strip().upper()[:2]
OTP_TOTP_ISSUER = TIPLINE_HOTLINE_NAME
# Partner hotlines are reached over https only; plain http is for tests and local trials.
TIPLINE_EXCHANGE_ALLOW_HTTP = os.environ.get("TIPLINE_EXCHANGE_ALLOW_HTTP") == "1"
# How often outcome updates owed to partner hotlines are sent (seconds).
TIPLINE_EXCHANGE_OUTCOME_SECONDS = _env_int("TIPLINE_EXCHANGE_OUTCOME_SECONDS", 300)
# django-otp's own throttle (refuse any code for 1 s after a wrong one, doubling after each) is
# off: it refused the right code typed straight after a slip, with our one generic message, and
# it counted as a further failure. Guessing is bounded by the account lockout instead
# (staff/actions.py: five failures of password or code lock the account for 15 min, doubling).
OTP_TOTP_THROTTLE_FACTOR = 0
# Between the password and the code, the half-signed-in state lasts this long.
TIPLINE_SIGN_IN_PENDING_SECONDS = 300

# Public pages set no cookies (PrivacyHeadersMiddleware drops any outside /console/). The console's
# session and CSRF cookies are scoped to /console/, sent only to this site, hidden from scripts,
# and last until the browser closes or 30 minutes without a request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "tipline_console"
SESSION_COOKIE_PATH = "/console/"
SESSION_COOKIE_SECURE = not DEBUG and os.environ.get("TIPLINE_INSECURE_COOKIES") != "1"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_NAME = "tipline_console_csrf"
CSRF_COOKIE_PATH = "/console/"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_AGE = None  # a browser-session cookie, like the session itself
CSRF_FAILURE_VIEW = "tipline.console.views.csrf_failure"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("hi", "हिन्दी")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# The hotline's time zone (an IANA name): the console shows dates and times in it, unless a staff
# member chose their own on their account page. Stored times are UTC whatever it says.
TIME_ZONE = os.environ.get("TIPLINE_TIME_ZONE", "") or "UTC"
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"TIPLINE_TIME_ZONE={TIME_ZONE!r} is not a time zone name (for example Europe/Paris)"
    ) from exc

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "web" / "static"]
STORAGES = {
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Evidence store (issue 19; tipline.storage, docs/deployment.md "Object storage") ----------
# "local" (default): sealed files under EVIDENCE_DIR. "s3": the same ciphertext in an
# S3-compatible bucket (SeaweedFS, MinIO, AWS S3) through django-storages + boto3. Credentials
# come from a TOML file named here (access_key_id, secret_access_key; 0600), else from boto3's
# own chain (AWS_* environment, instance role). Nothing is read or created on import.
TIPLINE_STORAGE = os.environ.get("TIPLINE_STORAGE", "local")
TIPLINE_S3_ENDPOINT_URL = os.environ.get("TIPLINE_S3_ENDPOINT_URL", "")  # "" = AWS itself
TIPLINE_S3_BUCKET = os.environ.get("TIPLINE_S3_BUCKET", "")
TIPLINE_S3_REGION = os.environ.get("TIPLINE_S3_REGION", "us-east-1")
TIPLINE_S3_PREFIX = os.environ.get("TIPLINE_S3_PREFIX", "evidence")
TIPLINE_S3_CREDENTIALS_FILE = os.environ.get("TIPLINE_S3_CREDENTIALS_FILE", "")
# --- end of evidence store ---------------------------------------------------------------------

# Uploads are held in memory and encrypted before anything reaches disk: Django's default
# handler would spill large uploads to an unencrypted temporary file.
FILE_UPLOAD_HANDLERS = ["tipline.web.uploads.BoundedMemoryUploadHandler"]
TIPLINE_MAX_FILE_BYTES = _env_int("TIPLINE_MAX_FILE_BYTES", 20 * 1024 * 1024)
TIPLINE_MAX_FILES = _env_int("TIPLINE_MAX_FILES", 10)
TIPLINE_MAX_REQUEST_BYTES = _env_int(
    "TIPLINE_MAX_REQUEST_BYTES", TIPLINE_MAX_FILES * TIPLINE_MAX_FILE_BYTES + 1024 * 1024
)
TIPLINE_MAX_IMAGE_PIXELS = _env_int("TIPLINE_MAX_IMAGE_PIXELS", 40_000_000)
# The console's renderers (evidence/sandbox.py): seconds to draw a PDF page (a video gets three
# times this) and the address space of the sandboxed poppler or FFmpeg.
TIPLINE_RENDER_TIMEOUT_SECONDS = _env_int("TIPLINE_RENDER_TIMEOUT_SECONDS", 20)
TIPLINE_RENDER_MEMORY_BYTES = _env_int("TIPLINE_RENDER_MEMORY_BYTES", 1536 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # text fields of one request, files excluded
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# A hard cap only: files past TIPLINE_MAX_FILES are skipped by the upload handler, unbuffered, and
# the form comes back with its words kept; past this cap the whole request is refused.
DATA_UPLOAD_MAX_NUMBER_FILES = TIPLINE_MAX_FILES * 5

# Guessing receipts (tipline/throttle.py): a keyed hash of the receipt picks one of
# TIPLINE_RECEIPT_BUCKETS counters, each allowing this many failed look-ups per minute. No client
# address is kept, and a guesser cannot aim at a reporter's bucket: to shut one reporter out they
# must exhaust them all (4096 x 32 = 131,072 failures a minute, more than the server can answer).
TIPLINE_RECEIPT_FAILURES_PER_MINUTE = _env_int("TIPLINE_RECEIPT_FAILURES_PER_MINUTE", 32)
TIPLINE_RECEIPT_BUCKETS = _env_int("TIPLINE_RECEIPT_BUCKETS", 4096)
# Hash look-ups per partner or staff API credential per minute (`POST /api/v1/match`).
TIPLINE_API_LOOKUPS_PER_MINUTE = _env_int("TIPLINE_API_LOOKUPS_PER_MINUTE", 6000)
# Partner exchange (tipline.partnerapi). Banks partners with scope "hashes" may pull, by name
# (comma-separated): none by default, since most lists are licensed for our own use only.
TIPLINE_SHARED_BANKS = [
    n.strip() for n in os.environ.get("TIPLINE_SHARED_BANKS", "").split(",") if n.strip()
]
# A TOML file of partner banks to pull ([[pull]] url, bank, into, token_file); "" for none.
TIPLINE_HASH_PULLS = os.environ.get("TIPLINE_HASH_PULLS", "")
TIPLINE_HASH_PULL_MINUTES = _env_int("TIPLINE_HASH_PULL_MINUTES", 60)
# A CA bundle for partners with their own CA; plain http only for tests between local instances.
TIPLINE_EXCHANGE_CA_FILE = os.environ.get("TIPLINE_EXCHANGE_CA_FILE", "")
TIPLINE_EXCHANGE_ALLOW_HTTP = os.environ.get("TIPLINE_EXCHANGE_ALLOW_HTTP", "") == "1"
# Webhooks (tipline.partnerapi.webhooks): endpoints must resolve to public addresses; only tests
# allow loopback and trust a CA of their own.
TIPLINE_WEBHOOK_ALLOW_PRIVATE = os.environ.get("TIPLINE_WEBHOOK_ALLOW_PRIVATE", "") == "1"
TIPLINE_WEBHOOK_CA_FILE = os.environ.get("TIPLINE_WEBHOOK_CA_FILE", "")
TIPLINE_QUICK_EXIT_URL = os.environ.get(
    "TIPLINE_QUICK_EXIT_URL", "https://www.google.com/search?q=weather"
)
# Metrics (tipline.metrics): how often the rollups take in new events, and the transparency
# report's small-count threshold (every published count below it is hidden).
TIPLINE_METRICS_REFRESH_SECONDS = _env_int("TIPLINE_METRICS_REFRESH_SECONDS", 60)
TIPLINE_METRICS_SUPPRESSION_THRESHOLD = _env_int("TIPLINE_METRICS_SUPPRESSION_THRESHOLD", 10)
# A folder of the hotline's own triage rule files (*.yaml), loaded after the shipped ones.
TIPLINE_TRIAGE_RULES_DIR = os.environ.get("TIPLINE_TRIAGE_RULES_DIR", "")

# Evidence locker: Argon2id cost of opening a locker with its passphrase (RFC 9106's second
# recommended option: 64 MiB, 3 passes), and how long an opened locker stays open while idle.
TIPLINE_LOCKER_ARGON2 = {
    "time_cost": _env_int("TIPLINE_LOCKER_ARGON2_TIME_COST", 3),
    "memory_kib": _env_int("TIPLINE_LOCKER_ARGON2_MEMORY_KIB", 64 * 1024),
    "parallelism": _env_int("TIPLINE_LOCKER_ARGON2_PARALLELISM", 1),
}
TIPLINE_LOCKER_IDLE_MINUTES = _env_int("TIPLINE_LOCKER_IDLE_MINUTES", 20)
# Failed locker opens per minute in each of TIPLINE_LOCKER_OPEN_BUCKETS counters (a keyed hash
# of the passphrase picks one, before Argon2 runs), as for receipts. Memory and CPU are bounded
# apart from that: at most TIPLINE_LOCKER_ARGON2_SLOTS Argon2 runs at once on the machine (64 MiB
# each); one more open or create is answered "try again" at once.
TIPLINE_LOCKER_OPEN_FAILURES_PER_MINUTE = _env_int("TIPLINE_LOCKER_OPEN_FAILURES_PER_MINUTE", 10)
TIPLINE_LOCKER_OPEN_BUCKETS = _env_int("TIPLINE_LOCKER_OPEN_BUCKETS", 1024)
TIPLINE_LOCKER_ARGON2_SLOTS = _env_int("TIPLINE_LOCKER_ARGON2_SLOTS", 2)
# One export file imported into a locker (WhatsApp exports with media are often over 20 MB).
TIPLINE_LOCKER_MAX_IMPORT_BYTES = _env_int("TIPLINE_LOCKER_MAX_IMPORT_BYTES", 50 * 1024 * 1024)
# The time zone a new evidence locker reads typed incident dates in, until its owner picks one
# (an IANA name; the same for every browser, so it says nothing about where a victim is).
# Days of reporter messages the console inbox tracks as unread (its count is on every console
# page); older ones stay listed under the inbox's "All" and in their reports' threads.
TIPLINE_INBOX_DAYS = _env_int("TIPLINE_INBOX_DAYS", 30)
TIPLINE_LOCKER_TIME_ZONE = os.environ.get("TIPLINE_LOCKER_TIME_ZONE", TIME_ZONE)

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "manifest-src": [CSP.SELF],
    # The service worker (/sw.js) that keeps guidance readable offline.
    "worker-src": [CSP.SELF],
    # Inside the evidence locker the quick exit is a form (it locks the locker first) whose answer
    # redirects to the neutral site; form-action governs that redirect too.
    "form-action": [CSP.SELF, "{0.scheme}://{0.netloc}".format(urlsplit(TIPLINE_QUICK_EXIT_URL))],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

# Logging never formats the request object, so neither the client address nor the query string
# can reach a log line. Error e-mails are off: they would include request metadata.
ADMINS: list[tuple[str, str]] = []
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "tipline": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Audit checkpoints (tipline.audit.checkpoints): the audit chain's head, signed with the Ed25519
# key keys/audit-signing.key, appended to a log in this folder, sent to syslog and, with
# recipients, by e-mail. The data directory is only the default: point the folder at another disk
# or a remote mount, because a copy beside the database shares its fate (docs/deployment.md).
TIPLINE_AUDIT_CHECKPOINT_DIR = Path(
    os.environ.get("TIPLINE_AUDIT_CHECKPOINT_DIR", DATA_DIR / "audit-checkpoints")
).resolve()
# Entries newer than the newest checkpoint can be removed unseen: this bounds that window.
TIPLINE_AUDIT_CHECKPOINT_MINUTES = _env_int("TIPLINE_AUDIT_CHECKPOINT_MINUTES", 60)
# "" = /dev/log when present; "off"; a Unix socket path; udp:HOST:PORT or tcp:HOST:PORT.
TIPLINE_AUDIT_SYSLOG = os.environ.get("TIPLINE_AUDIT_SYSLOG", "")
TIPLINE_AUDIT_CHECKPOINT_EMAIL = [
    a.strip() for a in os.environ.get("TIPLINE_AUDIT_CHECKPOINT_EMAIL", "").split(",") if a.strip()
]
# Outgoing mail (so far only checkpoints and audit alerts to an auditor), through Django's
# mailers; STARTTLS with TIPLINE_SMTP_STARTTLS=1, SMTP sign-in when a user is given.
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("TIPLINE_SMTP_HOST", "localhost"),
            "port": _env_int("TIPLINE_SMTP_PORT", 25),
            "username": os.environ.get("TIPLINE_SMTP_USER") or None,
            "password": os.environ.get("TIPLINE_SMTP_PASSWORD") or None,
            "use_tls": os.environ.get("TIPLINE_SMTP_STARTTLS", "") == "1",
            "timeout": 30,
        },
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("TIPLINE_MAIL_FROM", "tipline@localhost")

# Notice and takedown (tipline.takedown; docs/deployment.md). Notices go through their own mailer
# so a hotline can send them through another relay than its internal mail.
MAILERS["notices"] = {
    "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "OPTIONS": {
        "host": os.environ.get(
            "TIPLINE_NOTICE_SMTP_HOST", os.environ.get("TIPLINE_SMTP_HOST", "localhost")
        ),
        "port": _env_int("TIPLINE_NOTICE_SMTP_PORT", _env_int("TIPLINE_SMTP_PORT", 25)),
        "username": os.environ.get("TIPLINE_SMTP_USER") or None,
        "password": os.environ.get("TIPLINE_SMTP_PASSWORD") or None,
        "use_tls": os.environ.get("TIPLINE_SMTP_STARTTLS", "") == "1",
        "timeout": 30,
    },
}
TIPLINE_TAKEDOWN_FROM = os.environ.get("TIPLINE_TAKEDOWN_FROM", "")
# "" = the system's resolvers; else one resolver as IP or IP:PORT (host lookups and re-checks).
TIPLINE_TAKEDOWN_RESOLVER = os.environ.get("TIPLINE_TAKEDOWN_RESOLVER", "")
TIPLINE_TAKEDOWN_RDAP_URL = os.environ.get("TIPLINE_TAKEDOWN_RDAP_URL", "https://rdap.org/")
TIPLINE_TAKEDOWN_PROVIDERS = os.environ.get("TIPLINE_TAKEDOWN_PROVIDERS", "") or str(
    BASE_DIR / "takedown" / "data" / "providers.yaml"
)
# An outbound proxy for the re-check (e.g. socks5://127.0.0.1:9050 for Tor); "" = direct.
TIPLINE_TAKEDOWN_PROXY = os.environ.get("TIPLINE_TAKEDOWN_PROXY", "")
# Tests only: lets the re-check fetch 127.0.0.0/8 (the test web server). Never in production.
TIPLINE_TAKEDOWN_ALLOW_LOOPBACK = os.environ.get("TIPLINE_TAKEDOWN_ALLOW_LOOPBACK", "") == "1"
TIPLINE_TAKEDOWN_RECHECK_MINUTES = _env_int("TIPLINE_TAKEDOWN_RECHECK_MINUTES", 60)
TIPLINE_TAKEDOWN_REMIND_HOURS = _env_int("TIPLINE_TAKEDOWN_REMIND_HOURS", 48)
TIPLINE_TAKEDOWN_ESCALATE_HOURS = _env_int("TIPLINE_TAKEDOWN_ESCALATE_HOURS", 120)
TIPLINE_TAKEDOWN_CONCURRENCY = _env_int("TIPLINE_TAKEDOWN_CONCURRENCY", 50)
TIPLINE_TAKEDOWN_PER_HOST = _env_int("TIPLINE_TAKEDOWN_PER_HOST", 4)
# Providers' replies (takedown/replies.py): one IMAP mailbox only Tipline reads; off while the
# host is "". The password comes from a file, or from the environment variable named here.
TIPLINE_TAKEDOWN_IMAP_HOST = os.environ.get("TIPLINE_TAKEDOWN_IMAP_HOST", "")
TIPLINE_TAKEDOWN_IMAP_PORT = _env_int("TIPLINE_TAKEDOWN_IMAP_PORT", 993)
TIPLINE_TAKEDOWN_IMAP_SECURITY = os.environ.get("TIPLINE_TAKEDOWN_IMAP_SECURITY", "tls")
TIPLINE_TAKEDOWN_IMAP_CA_FILE = os.environ.get("TIPLINE_TAKEDOWN_IMAP_CA_FILE", "")
TIPLINE_TAKEDOWN_IMAP_USER = os.environ.get("TIPLINE_TAKEDOWN_IMAP_USER", "")
TIPLINE_TAKEDOWN_IMAP_PASSWORD_FILE = os.environ.get("TIPLINE_TAKEDOWN_IMAP_PASSWORD_FILE", "")
TIPLINE_TAKEDOWN_IMAP_PASSWORD_ENV = os.environ.get("TIPLINE_TAKEDOWN_IMAP_PASSWORD_ENV", "")
TIPLINE_TAKEDOWN_IMAP_MAILBOX = os.environ.get("TIPLINE_TAKEDOWN_IMAP_MAILBOX", "INBOX")
TIPLINE_TAKEDOWN_IMAP_MAX_BYTES = _env_int("TIPLINE_TAKEDOWN_IMAP_MAX_BYTES", 1024 * 1024)
TIPLINE_TAKEDOWN_IMAP_MINUTES = _env_int("TIPLINE_TAKEDOWN_IMAP_MINUTES", 5)

# Referral packages by e-mail (outputs/email_delivery.py): the Message-ID's domain, and the
# largest package sent as an attachment (larger ones are refused: the liaison downloads them).
TIPLINE_MAIL_DOMAIN = DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
TIPLINE_REFERRAL_EMAIL_MAX_BYTES = _env_int("TIPLINE_REFERRAL_EMAIL_MAX_BYTES", 20 * 1024 * 1024)
