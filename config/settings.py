"""Settings, 12-factor: everything that differs between machines comes from the environment.

``DJANGO_ENV=production`` switches on production mode: a real ``SECRET_KEY`` is required
and the security settings pass ``manage.py check --deploy`` without warnings.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"

INSECURE_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - development only
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_SECRET_KEY)
if PRODUCTION and (
    SECRET_KEY == INSECURE_SECRET_KEY or len(set(SECRET_KEY)) < 5 or len(SECRET_KEY) < 50
):
    raise ImproperlyConfigured(
        "Production mode needs a real SECRET_KEY (50+ random characters) in the environment."
    )

DEBUG = env.bool("DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production mode.")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "config",
    "config.api",
    "inventory",
    "loyalty",
    "pricing",
    "orders",
    "returns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.api.middleware.ProblemResponseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.api.idempotency.IdempotencyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: opening one per request costs most of a cheap request's time.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that does not answer fails the request within seconds (503, Retry-After)
    # instead of holding a worker until gunicorn's timeout kills it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    # No JIT: a quote's promotion query over a few thousand promotions is estimated just
    # above jit_above_cost, and compiling it took 60 of its 104 ms (EXPLAIN ANALYZE on the
    # bench data set). Short OLTP statements never win back what JIT costs.
    if not env.bool("DATABASE_JIT", default=False):
        options = DATABASES["default"]["OPTIONS"]
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the demo server and a management command share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "/admin/login/"

# --- Email -------------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shop@example.com")

# --- Celery ------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL  # the embedded default: run tasks in-process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
# A task whose worker process died (OOM, SIGKILL) goes back to the queue rather than being
# acknowledged as failed: tasks are idempotent, so running one again is safe.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis: a message taken by a worker that vanished altogether is delivered again after this
# many seconds. It must exceed the longest task run (a longer task would run twice).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"

# --- The API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api.authentication.TokenAuthentication",
        "config.api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anonymous": env.str("THROTTLE_ANONYMOUS", default="600/min"),
        "client": env.str("THROTTLE_CLIENT", default="100000/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
    # The client address for throttles and sign-in counters: how many proxies in front add
    # to X-Forwarded-For. 0 trusts no header (REMOTE_ADDR); production expects one TLS proxy.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=1 if PRODUCTION else 0),
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Omnistock retail API",
    "DESCRIPTION": (
        "One source of truth for stock, prices, promotions, orders, returns and loyalty "
        "across stores, warehouses and the web shop. Errors are application/problem+json; "
        "any POST may carry an Idempotency-Key."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files: the docs work without a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Fulfilment statuses appear in the orders' and the fulfilment work's shapes: one enum.
    "ENUM_NAME_OVERRIDES": {"FulfilmentStatusEnum": "orders.models.FulfilmentStatus"},
    # Security schemes come from the authentication extensions in config/api/schema.py.
}

IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48)
if IDEMPOTENCY_KEY_TTL_HOURS < 24:
    # API.md promises that keys are kept at least 24 hours: POS terminals replay a day offline.
    raise ImproperlyConfigured("IDEMPOTENCY_KEY_TTL_HOURS must be at least 24.")
IDEMPOTENCY_KEY_TTL = timedelta(hours=IDEMPOTENCY_KEY_TTL_HOURS)
# A key still "in progress" after this long belongs to a request that died; a retry may take it.
IDEMPOTENCY_KEY_LOCK_TIMEOUT = timedelta(
    seconds=env.int("IDEMPOTENCY_KEY_LOCK_SECONDS", default=300)
)

# --- Production hardening (passes check --deploy) ----------------------------------------
# Not only in production: the defaults are Django's, stated here so a review sees them.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    # Trust X-Forwarded-Proto only behind a proxy that sets it (SECURE_PROXY_SSL_HEADER=""
    # when gunicorn faces the internet itself, or another header name).
    _proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="HTTP_X_FORWARDED_PROTO")
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
    },
}
CSRF_FAILURE_VIEW = "config.api.handlers.csrf_failure"

# --- Fulfilment routing (orders.routing) ---------------------------------------------------
ROUTING_COST_PER_KM = Decimal(env.str("ROUTING_COST_PER_KM", default="0.05"))
ROUTING_MAX_SPLITS = env.int("ROUTING_MAX_SPLITS", default=3)
# Subsets of candidate locations the exact search may try before a heuristic takes over.
ROUTING_EXACT_BUDGET = env.int("ROUTING_EXACT_BUDGET", default=20000)

# --- Orders and pickups ----------------------------------------------------------------------
ORDERS_PICK_MINUTES = env.int("ORDERS_PICK_MINUTES", default=120)
ORDERS_PICKUP_HOLD_DAYS = env.int("ORDERS_PICKUP_HOLD_DAYS", default=7)
# Per channel code, e.g. ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL=web=7,pos=3
ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL = {
    code: int(days)
    for code, days in env.dict("ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL", default={}).items()
}
# Carts not touched for this many days are purged (beat, daily; purge_stale_carts command).
CARTS_STALE_DAYS = env.int("CARTS_STALE_DAYS", default=30)
# A POS staff discount above this percentage needs a store manager's approval code.
POS_OVERRIDE_APPROVAL_PERCENT = env.int("POS_OVERRIDE_APPROVAL_PERCENT", default=20)

# Each process keeps the promotions in force (pricing.services.promotion_catalog); a change
# through the models shows at once where the cache (CACHE_URL) is shared, and after at most
# this many seconds in every process otherwise.
PROMOTION_CACHE_SECONDS = env.int("PROMOTION_CACHE_SECONDS", default=30)

# --- Loyalty -----------------------------------------------------------------------------------
LOYALTY_DEFAULT_PHONE_REGION = env.str("LOYALTY_DEFAULT_PHONE_REGION", default="NL")
LOYALTY_CARD_PREFIX = env.str("LOYALTY_CARD_PREFIX", default="27")
LOYALTY_SIGNIN_MAX_FAILURES = env.int("LOYALTY_SIGNIN_MAX_FAILURES", default=5)
LOYALTY_SIGNIN_FAILURE_WINDOW = env.int("LOYALTY_SIGNIN_FAILURE_WINDOW", default=900)

# --- Staff sign-in (store screens and admin) -----------------------------------------------
# Failed sign-ins per username and address within the window; then 429 until it ends.
STAFF_LOGIN_MAX_FAILURES = env.int("STAFF_LOGIN_MAX_FAILURES", default=5)
# Failed sign-ins from one address, whatever the usernames (password spraying).
STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS", default=20)
STAFF_LOGIN_FAILURE_WINDOW = env.int("STAFF_LOGIN_FAILURE_WINDOW", default=900)
