"""LMS Admin settings: one module for every environment; only environment variables differ.

See the README's "Production" section for the variables an operator sets.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from lms_admin import __version__
from lms_admin.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("LMS_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)


def _development_secret(path: Path) -> str:
    """A generated key kept in var/ so the web process and the worker agree on it."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _development_secret(VAR_DIR / "dev-secret-key")

# Fernet key(s) for LMS secrets at rest. Comma-separated: the first encrypts, all decrypt
# (key rotation: prepend the new key, run `manage.py rotate_secrets`, drop the old one).
FIELD_ENCRYPTION_KEYS = envlist("FIELD_ENCRYPTION_KEY", [])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off.")
    # DEBUG only: a Fernet key kept in var/, like the development SECRET_KEY.
    _key_file = VAR_DIR / "dev-field-encryption-key"
    if not _key_file.exists():
        import base64

        _key_file.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        _key_file.chmod(0o600)
    FIELD_ENCRYPTION_KEYS = [_key_file.read_text().strip()]

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# The embedded sandbox LMS (demo and tests); never on in production.
SANDBOX_ENABLED = envbool("SANDBOX_ENABLED", False)
# http:// and loopback LMS base URLs (the sandbox); production connections are https only.
LMS_ALLOW_LOOPBACK = envbool("LMS_ALLOW_LOOPBACK", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "csp",
    "lms_admin.apps.LmsAdminConfig",
    "integrations",
    "lms_cache",
    "people",
    "moves",
    "reports",
]
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Last, as django-axes asks: it turns a lockout noticed during the view into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lms_admin.urls"
WSGI_APPLICATION = "lms_admin.wsgi.application"

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
                "lms_admin.context_processors.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials", "lms_admin.templatetags.time_words"],
        },
    },
]

DATABASE_URL = envstr("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'lms_admin.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers (the web process) work while a writer (a worker) commits;
        # the busy timeout and IMMEDIATE transactions make writers queue instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL")
Q_CLUSTER = {
    "name": "lms_admin",
    "workers": envint("Q_WORKERS", 2, minimum=1),
    # A task may run this long; retry must be longer or tasks run twice.
    "timeout": envint("Q_TIMEOUT", 1800, minimum=10),
    "retry": envint("Q_RETRY", envint("Q_TIMEOUT", 1800, minimum=10) + 300, minimum=11),
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "poll": 0.5,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# django-q2's ORM and Redis brokers, plus tasks held back until a given time (lms_admin/brokers.py).
Q_CLUSTER["broker_class"] = "lms_admin.brokers.Redis" if REDIS_URL else "lms_admin.brokers.ORM"

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "lms_admin_cache"}}
)
# Rendered report fragments ({% cache %}), in each process's memory: their keys name the sync
# their rows are from (reports.views.helpers.fragment_key), so no process can serve another
# sync's, and reading one costs no query or round trip. ~50 kB each at most.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "report-fragments",
    "OPTIONS": {"MAX_ENTRIES": 500},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes' backend first: it refuses a locked-out username + address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and not envbool("LMS_PLAIN_STATIC", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or envbool("LMS_PLAIN_STATIC", False)

# Uploads: import files may be large; Django streams bigger ones to a temp file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest import file accepted; a bigger upload is refused while it arrives (never stored).
IMPORT_MAX_UPLOAD_BYTES = envint("IMPORT_MAX_UPLOAD_MB", 100, minimum=1) * 1_000_000
FILE_UPLOAD_HANDLERS = [
    "lms_admin.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Security: strict by default, relaxed only by DEBUG or an explicit LMS_INSECURE_HTTP for a
# loopback demo behind no TLS.
_https = not DEBUG and not envbool("LMS_INSECURE_HTTP", False)
BEHIND_TLS_PROXY = envbool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = _https
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp 4.x format). Scripts and stylesheets come from this origin
# only: htmx is vendored (django-htmx's static copy) and our own behaviour lives in
# static/js/app.js. No 'unsafe-inline' anywhere, so no inline <script>, on*= / hx-on handler or
# style="" attribute runs: markup that slipped past escaping cannot execute or restyle the page.
# htmx is told not to inject its own <style> or evaluate strings (meta htmx-config in base.html);
# bar widths use <progress>, not style="width: …". frame-ancestors 'none' is the CSP twin of
# X_FRAME_OPTIONS = "DENY"; form-action keeps forms posting only here; base-uri and object-src
# close the two classic bypasses.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Login throttling (django-axes), on every form that authenticates: /accounts/login/ and
# /admin/login/ alike, since both go through the authentication backends above.
# - Locked by the username + client address *pair*: one attacker guessing at one account is
#   stopped, but cannot lock that person out from their own network, nor lock everyone out of
#   one address (a shared office NAT) by trying many usernames.
# - After LOGIN_FAILURE_LIMIT failures, each within LOGIN_COOLOFF_MINUTES of the one before,
#   even the right password is refused for LOGIN_COOLOFF_MINUTES. Each refused try during the
#   cool-off starts it again, so a script that keeps hammering stays locked out, and the page's
#   "try again in N minutes" is true whenever it is shown.
# - A successful login clears that pair's failures (and only that pair's), so a typo or two
#   before logging in never add up over days.
# - Attempts are counted in the database (axes' tables; SQLite and PostgreSQL alike) so every
#   web process on every machine shares the count.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_LOCKOUT_CALLABLE = "lms_admin.login_throttle.locked_out"
# The client address: REMOTE_ADDR, or the proxy's X-Forwarded-For entry when BEHIND_TLS_PROXY.
AXES_CLIENT_IP_CALLABLE = "lms_admin.login_throttle.client_ip"
# Failures are logged (logger "axes", WARNING) with the address, user agent and path; the
# username is masked there, as a password typed into the username box must not reach a log.
# Django admin → Axes lists the attempts with their usernames.
AXES_SENSITIVE_PARAMETERS = ["username"]

# Variables and POST fields marked sensitive (connection secrets) stay hidden on the DEBUG page too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "lms_admin.error_reports.SecretsHiddenFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Login failures and lockouts are warnings; axes' every-login chatter is left out.
        "axes": {"level": "WARNING"},
    },
}

# E-mail: SMTP when EMAIL_HOST is set, otherwise printed to the console (the demo).
EMAIL_HOST = envstr("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "LMS Admin <lms-admin@localhost>")
# The address people reach the dashboard at, for links in e-mails.
LMS_PUBLIC_URL = envstr("LMS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

LMS_ADMIN_VERSION = __version__

# LMS providers beyond the built-in 360Learning and iSpring Learn: dotted paths to their
# ProviderSpec objects, comma-separated (docs/adding-a-provider.md).
LMS_EXTRA_PROVIDERS = envlist("LMS_EXTRA_PROVIDERS", [])

# Remote LMS calls: (connect, read) timeouts in seconds.
LMS_HTTP_TIMEOUT = (
    envfloat("LMS_HTTP_CONNECT_TIMEOUT", 5, minimum=0.1),
    envfloat("LMS_HTTP_READ_TIMEOUT", 30, minimum=0.1),
)

# Imports. A worker executing a run holds a lease this long and renews it while it works;
# a run whose lease lapsed (its worker died) is resumed by the next worker.
IMPORT_LEASE_SECONDS = envfloat("IMPORT_LEASE_SECONDS", 90, minimum=1)
# Bulk operation polling backs off from the first to the second value.
IMPORT_POLL_MIN_SECONDS = envfloat("IMPORT_POLL_MIN_SECONDS", 1, minimum=0.05)
IMPORT_POLL_MAX_SECONDS = envfloat("IMPORT_POLL_MAX_SECONDS", 20, minimum=0.05)
# After a send whose answer was lost, how long to look for the operation it may have created
# before concluding that nothing was created and sending again.
IMPORT_RECONCILE_GRACE_SECONDS = envfloat("IMPORT_RECONCILE_GRACE_SECONDS", 120, minimum=0)
# Bulk operations one run keeps in flight at once (360Learning allows a few per integration).
IMPORT_MAX_IN_FLIGHT = envint("IMPORT_MAX_IN_FLIGHT", 2, minimum=1)
# The same file launched again within this window joins the first run instead of sending again.
IMPORT_DUPLICATE_WINDOW_SECONDS = envint("IMPORT_DUPLICATE_WINDOW_SECONDS", 600, minimum=0)

# Syncs. A worker running a sync holds its lease this long without a heartbeat; longer than the
# slowest page a client can take with its retries (30 s read timeout x 4 tries plus backoff).
# A run whose lease lapsed (its worker died) is failed by the periodic recovery.
SYNC_LEASE_SECONDS = envfloat("SYNC_LEASE_SECONDS", 300, minimum=1)

# Report exports. One with more rows than this is written by a worker (a progress page, the file
# kept for a while, an e-mail when ready) instead of inside the web request, which the web
# timeout would kill; smaller ones stream as they are read. ``export_report`` always writes in place.
EXPORT_BACKGROUND_ROWS = envint("EXPORT_BACKGROUND_ROWS", 50_000, minimum=0)
# Where finished background exports are kept: private, never served as static or media files
# (only the owner's download view reads them).
EXPORT_FILES_DIR = Path(envstr("EXPORT_FILES_DIR") or VAR_DIR / "exports")
EXPORT_KEEP_DAYS = envint("EXPORT_KEEP_DAYS", 7, minimum=1)
# A worker writing an export holds it this long and renews the hold at each progress step;
# one whose worker died is written again from the first row once the hold lapses.
EXPORT_LEASE_SECONDS = envfloat("EXPORT_LEASE_SECONDS", 120, minimum=1)
# Rows written between two progress (and lease) updates.
EXPORT_PROGRESS_ROWS = envint("EXPORT_PROGRESS_ROWS", 5000, minimum=1)
