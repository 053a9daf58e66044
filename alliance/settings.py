"""The platform's one settings module. Everything that differs between machines comes from the environment.

See README.md ("Environment variables") for the full list. The embedded default (no variables set) is
SQLite plus Celery on kombu's filesystem transport, so a first look needs no services at all.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_json, env_list, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# pytest (8.2+) announces itself in PYTEST_VERSION; the suite may run without a secret.
TESTING = "PYTEST_VERSION" in os.environ

SECRET_KEY = env_str("SECRET_KEY")
_SECRET_KEY_HOWTO = (
    "Set SECRET_KEY in the environment (for docker compose: in .env beside docker-compose.yml) to a random "
    'value of at least 50 characters, e.g. the output of: python -c "import secrets; print(secrets.token_urlsafe(50))"'
)
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(f"SECRET_KEY must be set when DEBUG is off. {_SECRET_KEY_HOWTO}")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
elif not (DEBUG or TESTING):
    # Whoever knows the key forges sessions, password-set links and signed URLs: a key published in this
    # repository (the compose file's former default, the dev key) or too weak to resist guessing (the
    # thresholds of Django's own security.W009) is refused at start-up, not merely warned about.
    _weak = (
        SECRET_KEY.startswith(("change-me", "changeme", "dev-only-insecure", "django-insecure-"))
        or len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
    )
    if _weak:
        raise ImproperlyConfigured(
            "SECRET_KEY is a published placeholder or too weak (fewer than 50 characters or fewer than 5 "
            f"different characters). {_SECRET_KEY_HOWTO}"
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# A refused form shows the platform's page, in the user's language, with the way back (alliance/error_pages.py).
CSRF_FAILURE_VIEW = "alliance.error_pages.csrf_failure"

INSTALLED_APPS = [
    # The admin's theme: before django.contrib.admin so its templates win; its simple-history templates
    # before simple_history's (unfold's order). Its app makes the default admin site an UnfoldAdminSite.
    "unfold",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "guardian",
    "simple_history",
    "alliance.axes_app.AxesConfig",
    "alliance",
    "members",
    "demands",
    "projects",
    "meetings",
    "volunteers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "alliance.security.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # After CommonMiddleware has checked the Host: the platform's address when SITE_URL is unset.
    "alliance.site.RememberAddressMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "alliance.urls"
WSGI_APPLICATION = "alliance.wsgi.application"

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
                "alliance.context_processors.platform",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'alliance.sqlite3'}")
# The statements' preparing threshold of the web processes, None for none (see below: PostgreSQL only).
DATABASE_WEB_PREPARE_THRESHOLD: int | None = None
_db = parse_database_url(DATABASE_URL, base_dir=BASE_DIR)
if _db["ENGINE"].endswith("sqlite3"):
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A Celery worker writes beside the web process: WAL plus IMMEDIATE transactions and a generous
    # busy timeout keep "database is locked" away (RECIPES.md: 400 concurrent writes, none refused).
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **_db["OPTIONS"],
    }
else:
    # Parameters bound by the server, so that a list page's query is the same text for every page, filter
    # value and user; the web processes (alliance/wsgi.py, asgi.py: `alliance.db.prepare_web_statements`)
    # then prepare it after DATABASE_PREPARE_THRESHOLD runs on a connection and PostgreSQL stops planning it
    # — the planning of a list with four joins was most of its database time (issue 12, bench/RESULTS.md).
    # Every other process — Celery workers, beat, commands, the tests — prepares nothing: a prepared
    # statement keeps the plan made for its tables as they were, and an import in one long transaction over
    # a table growing inside it ran three times as long on plans made for the empty table. Behind a pooler
    # in transaction mode (PgBouncer without max_prepared_statements) set DATABASE_PREPARE_THRESHOLD=off.
    _db["OPTIONS"].setdefault("server_side_binding", env_bool("DATABASE_SERVER_SIDE_BINDING", True))
    _db["OPTIONS"]["prepare_threshold"] = None
    if env_str("DATABASE_PREPARE_THRESHOLD", "5").strip().lower() not in ("off", "none"):
        DATABASE_WEB_PREPARE_THRESHOLD = env_int("DATABASE_PREPARE_THRESHOLD", 5)
    # Opening a connection per request costs more than the request itself: bench/RESULTS.md measured
    # 2.7x the throughput on an API list and 4x on /healthz with persistent connections or the pool.
    _pool_size = env_int("DATABASE_POOL_MAX_SIZE", 0)
    if _pool_size > 0:
        _db["OPTIONS"]["pool"] = {"min_size": min(2, _pool_size), "max_size": _pool_size, "timeout": 10}
        _db["CONN_MAX_AGE"] = 0  # Django refuses the pool together with persistent connections.
    else:
        _db["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
        _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
# An optional read-only copy (PostgreSQL streaming replication) for the heavy reads that may lag a little:
# quarterly reports, the workbench's charts, exports and the public figures' refresh. Only code
# inside `alliance.replica.reading()` reads there (alliance/db_routers.py); every other read, and every
# write, stays on `default`, so a request always sees what it has just written.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    _replica = parse_database_url(DATABASE_REPLICA_URL, base_dir=BASE_DIR)
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        if _key in _db:
            _replica[_key] = _db[_key]
    for _key in ("pool", "server_side_binding", "prepare_threshold"):
        if _key in _db["OPTIONS"]:
            _replica["OPTIONS"].setdefault(_key, _db["OPTIONS"][_key])
    DATABASES["replica"] = _replica
elif TESTING:
    # The suite has a `replica` alias mirroring the test database (a second connection to the same data);
    # tests/alliance/test_replica.py turns READ_REPLICA_ALIAS on to see which queries go there.
    DATABASES["replica"] = {**_db, "TEST": {"MIRROR": "default"}}
READ_REPLICA_ALIAS = "replica" if DATABASE_REPLICA_URL else ""
DATABASE_ROUTERS = ["alliance.db_routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared rate limits and the like) --------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# How long a request waits for Redis to connect or answer. The rate limits fail open and notifications
# wait in their rows for the sweep, so an outage must cost a request little: half a second, not minutes.
REDIS_TIMEOUT = env_int("REDIS_TIMEOUT_MS", 500) / 1000
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, keeping one redis-py client per pool instead of making one per call (alliance/cache.py).
            "BACKEND": "alliance.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # redis-py connection-pool arguments.
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions read from that cache and kept in the database (alliance/sessions.py): a signed-in request
# costs no session query. A cached session lives SESSION_CACHE_SECONDS at most (an outage cannot keep an
# ended one alive longer).
SESSION_ENGINE = "alliance.sessions"
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 300)
# An API list's count estimate (past 1,000 rows, alliance/api/pagination.py) is kept this long per query.
API_COUNT_ESTIMATE_SECONDS = env_int("API_COUNT_ESTIMATE_SECONDS", 60)
# A user's group names (alliance/permissions.py) are kept this long at most; every change drops them.
GROUPS_CACHE_SECONDS = env_int("GROUPS_CACHE_SECONDS", 300)

# The public figures, charts and showcase are computed in the background (alliance.public_figures): a beat
# entry every PUBLIC_FIGURES_REFRESH_SECONDS refreshes them when a write changed them, and in any case once
# they are PUBLIC_FIGURES_MAX_AGE seconds old (changes no service made). Visitors never compute them.
PUBLIC_FIGURES_REFRESH_SECONDS = env_int("PUBLIC_FIGURES_REFRESH_SECONDS", 15)
PUBLIC_FIGURES_MAX_AGE = env_int("PUBLIC_FIGURES_MAX_AGE", 600)

# Trusted reverse proxies in front of the platform (0: use REMOTE_ADDR). Rate limits count per address.
NUM_PROXIES = env_int("NUM_PROXIES", 0)

# --- Auth -----------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked account or address before any password is checked (alliance/logins.py).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing is not what the suite tests; PBKDF2 at full strength made it minutes slower.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "home"
# Repeated failed sign-ins (admin, portal, API token) lock the account and the client address for a while.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
# The test client's login() calls authenticate() without a request, which axes refuses; the tests of the
# lockout switch it on.
AXES_ENABLED = not TESTING
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "alliance.logins.LoginAttemptsHandler"
AXES_CLIENT_IP_CALLABLE = "alliance.logins.client_ip"
AXES_LOCKOUT_CALLABLE = "alliance.logins.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Only failures are kept (they are what a lockout needs); a row per successful sign-in is not.
AXES_DISABLE_ACCESS_LOG = True
# alliance/admin/accounts.py shows the attempts to street staff, in Chinese, with an unlock action.
AXES_ENABLE_ADMIN = False
# API tokens are good for this long after they are issued (alliance/api/authentication.py).
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 168)
# Past versions in the admin are read-only (alliance.admin.ScopedAdminMixin): no "Revert" button.
SIMPLE_HISTORY_REVERT_DISABLED = True
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
# guardian's anonymous user row is not used: anonymous visitors see only public pages.
ANONYMOUS_USER_NAME = None

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# With a bucket configured, uploads, reports and job results live in S3-compatible object storage (AWS S3,
# MinIO, Aliyun OSS, Tencent COS), shared by every web and worker node; otherwise in MEDIA_ROOT. The bucket
# stays private: alliance.media checks permissions and streams the object, nothing is ever a public URL.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "alliance.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            # A prefix inside the bucket, so one bucket can hold several installations.
            "location": env_str("AWS_LOCATION"),
            "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE") or None,
            # No ACL header: objects inherit the bucket's (private) policy; some S3-compatible servers
            # refuse ACLs altogether.
            "default_acl": None,
            # A name is never reused (uploads have random names; a report's rebuild deletes first), so an
            # existing object is never silently replaced by another request's file.
            "file_overwrite": False,
            # A download is buffered in memory up to this size, on disk beyond (the default keeps it all in
            # memory, which a city's report would not fit well).
            "max_memory_size": 5 * 1024 * 1024,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not (DEBUG or TESTING)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded agreements and photos; the limit keeps a mistaken upload from filling the disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# A password-set link takes over the account: it works once, for 24 hours (alliance/passwords.py).
PASSWORD_RESET_TIMEOUT = 24 * 3600

# --- The admin's theme (django-unfold) ---------------------------------------------------------------
# The public site's red (static/css/alliance.css: --red #c8161d at 600, --red-dark #9e1016 at 700), so
# the admin reads as the same product. Assets are unfold's own static files: nothing from a CDN.
_STREET = "alliance.admin.navigation.street_staff"
_STAFF = "alliance.admin.navigation.staff_member"
_SUPERUSER = "alliance.admin.navigation.superuser"
_ASSIGNS_STREET_STAFF = "alliance.admin.navigation.street_or_district_staff"
# Screens of the streets overseen, for their street's and their district's staff (quarterly reports).
_STREET_OR_DISTRICT = "alliance.admin.navigation.street_or_district_staff"
_ASSIGNS_DISTRICT_STAFF = "alliance.admin.navigation.district_staff_or_superuser"


def _changelist(app_model: str, title, permission: str, icon: str) -> dict:
    app, model = app_model.split(".")
    return {
        "title": capfirst(title),
        "icon": icon,
        "link": reverse_lazy(f"admin:{app}_{model}_changelist"),
        "permission": permission,
    }


UNFOLD = {
    # The msgids alliance/admin/__init__.py gives the site.
    "SITE_TITLE": _("Party-building alliance administration"),
    "SITE_HEADER": _("Party-building alliance administration"),
    "SITE_SYMBOL": "flag",
    "BORDER_RADIUS": "6px",
    # Light only: the project's own admin pages (static/admin/css) are drawn for it, so no theme switch.
    "THEME": "light",
    "COLORS": {
        "primary": {
            "50": "#fdf2f2",
            "100": "#fbe3e4",
            "200": "#f8cbcd",
            "300": "#f2a4a7",
            "400": "#e86d72",
            "500": "#db3b41",
            "600": "#c8161d",
            "700": "#9e1016",
            "800": "#841117",
            "900": "#6e1418",
            "950": "#3c0508",
        },
    },
    "STYLES": [lambda request: static("admin/css/alliance-admin.css")],
    # The command palette (admin/search/) finds screens by name only: searching rows would bypass the
    # screens' scoped querysets.
    "COMMAND": {"search_models": False, "show_history": False},
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        # Each link is shown to whom its screen opens for: the same questions to alliance.permissions as
        # the screens' ScopedAdminMixin (tests/alliance/test_admin_theme.py compares them for the cast).
        "navigation": [
            {
                "title": _("Workbench"),
                "items": [
                    {
                        "title": _("Workbench"),
                        "icon": "dashboard",
                        "link": reverse_lazy("admin:index"),
                        "permission": _STAFF,
                    },
                    {
                        "title": _("My notifications"),
                        "icon": "notifications",
                        "link": reverse_lazy("admin_inbox"),
                        "permission": _STAFF,
                    },
                ],
            },
            {
                "title": _("Needs and resources"),
                "items": [
                    _changelist("demands.need", _("needs"), _STAFF, "assignment"),
                    _changelist("demands.resource", _("resources"), _STAFF, "inventory_2"),
                    _changelist("demands.venue", _("venues"), _STAFF, "meeting_room"),
                    _changelist("demands.booking", _("venue bookings"), _STAFF, "event_note"),
                ],
            },
            {
                "title": _("Members"),
                "items": [
                    _changelist("members.memberunit", _("member units"), _STAFF, "apartment"),
                    _changelist("members.agreement", _("agreements"), _STAFF, "handshake"),
                    _changelist("members.unitmembership", _("unit accounts"), _STAFF, "badge"),
                    _changelist("members.community", _("communities"), _STREET, "holiday_village"),
                    _changelist("members.grid", _("grids"), _STAFF, "grid_view"),
                    _changelist("members.communitystaff", _("community staff"), _STREET, "groups"),
                    _changelist("members.district", _("districts"), _STREET, "map"),
                    _changelist("members.street", _("streets"), _STREET, "location_city"),
                    _changelist("members.streetstaff", _("street staff"), _ASSIGNS_STREET_STAFF, "supervisor_account"),
                    _changelist(
                        "members.districtstaff", _("district staff"), _ASSIGNS_DISTRICT_STAFF, "admin_panel_settings"
                    ),
                    _changelist("members.sector", _("sector branches"), _STREET, "account_tree"),
                    _changelist("members.councilterm", _("council terms"), _STREET, "event_repeat"),
                    _changelist("members.councilseat", _("council seats"), _STREET, "event_seat"),
                    _changelist("members.notice", _("notices"), _STREET, "campaign"),
                    _changelist("members.assessment", _("unit assessments"), _STAFF, "grading"),
                    _changelist("members.assessmentscheme", _("assessment schemes"), _STREET, "rule"),
                    _changelist("members.quarterlyreport", _("quarterly reports"), _STREET_OR_DISTRICT, "summarize"),
                ],
            },
            {
                "title": _("Service projects"),
                "items": [
                    _changelist("projects.serviceproject", _("service projects"), _STAFF, "volunteer_activism"),
                    _changelist("projects.projectclaim", _("project claims"), _STAFF, "fact_check"),
                    _changelist("projects.serviceactivity", _("service activities"), _STAFF, "event_available"),
                    _changelist("projects.commitmentreview", _("commitment reviews"), _STAFF, "reviews"),
                ],
            },
            {
                "title": _("Joint meetings"),
                "items": [
                    _changelist("meetings.jointmeeting", _("joint meetings"), _STAFF, "groups_3"),
                    _changelist("meetings.meetingseries", _("meeting series"), _STAFF, "event_repeat"),
                    _changelist("meetings.resolution", _("resolutions"), _STAFF, "task_alt"),
                    _changelist("meetings.reminder", _("reminders"), _STREET, "alarm"),
                ],
            },
            {
                "title": _("In-service Party members"),
                "items": [
                    _changelist("volunteers.partymember", _("in-service Party members"), _STAFF, "person"),
                    _changelist("volunteers.servicelog", _("service logs"), _STAFF, "schedule"),
                    _changelist("volunteers.volunteerpost", _("volunteer posts"), _STAFF, "work"),
                    _changelist("volunteers.volunteerteam", _("volunteer teams"), _STAFF, "diversity_3"),
                    _changelist("volunteers.pointsentry", _("points ledger"), _STAFF, "stars"),
                    _changelist("volunteers.pointsrule", _("points rules"), _STREET, "rule_settings"),
                ],
            },
            {
                "title": _("System"),
                "items": [
                    _changelist("alliance.job", _("background jobs"), _STAFF, "pending_actions"),
                    _changelist("alliance.notification", _("notifications"), _STREET, "mail"),
                    _changelist("alliance.category", _("categories"), _STREET, "category"),
                    _changelist("alliance.workdayoverride", _("working-day calendar"), _STREET, "event_busy"),
                    _changelist("axes.accessattempt", _("access attempts"), _STREET, "lock_person"),
                    _changelist("authtoken.tokenproxy", _("Tokens"), _STREET, "key"),
                    _changelist("auth.user", _("users"), _SUPERUSER, "manage_accounts"),
                    _changelist("auth.group", _("groups"), _SUPERUSER, "group_work"),
                ],
            },
        ],
    },
}

# --- E-mail and SMS -------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "alliance.mail.ConsoleEmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "党建联盟平台 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The console backend writes texts to the log (the demo); alliance.sms.TencentSmsBackend and
# alliance.sms.AliyunSmsBackend send them through the providers' official SDKs (README, "Text messages").
SMS_BACKEND = env_str("SMS_BACKEND", "alliance.sms.ConsoleSmsBackend")
# Providers send approved templates, not free text: notification kind (exact, a prefix ending in ":", or
# "*" for every other kind) -> {"template": id, "params": [names]} (alliance/sms.py). A kind without a
# template is not sent by text message.
SMS_TEMPLATES = env_json("SMS_TEMPLATES")
for _kind, _template in SMS_TEMPLATES.items():
    # A mistyped mapping is refused at start-up, not discovered when a message is due.
    if not (
        isinstance(_template, dict)
        and isinstance(_template.get("template"), str | int)
        and isinstance(_template.get("params", []), list | dict)
    ):
        raise ImproperlyConfigured(
            f'SMS_TEMPLATES[{_kind!r}] must be {{"template": "<id>", "params": ["<name>", ...]}}, not {_template!r}'
        )
SMS_SIGN_NAME = env_str("SMS_SIGN_NAME")
SMS_SDK_APP_ID = env_str("SMS_SDK_APP_ID")
SMS_ACCESS_KEY_ID = env_str("SMS_ACCESS_KEY_ID")
SMS_ACCESS_KEY_SECRET = env_str("SMS_ACCESS_KEY_SECRET")
SMS_REGION = env_str("SMS_REGION", "ap-guangzhou")
# Unset: the provider's public endpoint. The tests point the real SDKs at a fake on 127.0.0.1.
SMS_ENDPOINT = env_str("SMS_ENDPOINT")
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 10)
# The secret in the address providers push receipts to (/sms/receipts/<tencent|aliyun>/<secret>/); unset,
# there is no such address and the beat task asks for receipts instead.
SMS_RECEIPT_SECRET = env_str("SMS_RECEIPT_SECRET")
# Texts to one number a day (Asia/Shanghai), counted in the database; later ones wait for the next day.
SMS_DAILY_CAP = env_int("SMS_DAILY_CAP", 20)
if SMS_DAILY_CAP < 1:
    raise ImproperlyConfigured("SMS_DAILY_CAP must be at least 1 (text messages to one number a day).")
# Password recovery by text-message code (alliance/passwords.py): wrong codes allowed per code.
SMS_CODE_MAX_ATTEMPTS = env_int("SMS_CODE_MAX_ATTEMPTS", 5)
# Codes asked for one number in an hour, whether or not an account has that number.
SMS_CODE_PER_PHONE_HOURLY = env_int("SMS_CODE_PER_PHONE_HOURLY", 5)
# The address people reach the platform at, used for links inside e-mails and text messages, QR posters and
# the calendar address. Unset: the address each request came in on, and outside a request the last one
# known (alliance/site.py); a deployment sets it (README, "Deployment").
SITE_URL = env_str("SITE_URL", "").rstrip("/")

# --- Security (production) ------------------------------------------------------------------------
SECURE = env_bool("SECURE", not (DEBUG or TESTING))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = SECURE
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# /healthz is probed over plain HTTP inside the compose network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Strict for the platform's own pages; alliance/security.py relaxes styles for the admin and the API's
# library-made pages and says why. Scripts are 'self' everywhere and never inline; only the admin adds
# 'unsafe-eval', which unfold's Alpine.js needs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}
# Browser features no page of the platform uses are switched off for it and anything it might embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "alliance.api.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["alliance.api.permissions.ObjectPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        # First: an unknown query parameter on a list answers 400 before any filter reads the others.
        "alliance.api.filters.KnownParameters",
        # django-filter's, without building a filterset for a list asked without filters (issue 12).
        "alliance.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "alliance.api.filters.OrderingFilter",
    ],
    # JSON that is malformed or nested too deeply answers 400 in the user's language (alliance.api.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "alliance.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # DRF's JSON renderer, with orjson writing the same bytes for the lists that vouch for their values.
    "DEFAULT_RENDERER_CLASSES": [
        "alliance.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "alliance.api.pagination.KeysetPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "alliance.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "alliance.api.errors.exception_handler",
    # 0 means REMOTE_ADDR for DRF too (None would trust the whole X-Forwarded-For header).
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "login": "10/min",
        # Residents' public form and tracking, per client address (shared through Redis when configured).
        "need_submit": env_str("NEED_SUBMIT_RATE", "5/hour"),
        # Invalid or refused submissions count apart (typos do not use up the allowance above), more
        # generously, so that the form cannot be hammered with bad input either.
        "need_submit_invalid": env_str("NEED_SUBMIT_INVALID_RATE", "30/hour"),
        # Needs a member unit's liaisons file as the unit's own, per unit (demands.services.need_file_for_unit).
        "unit_need_file": env_str("UNIT_NEED_FILE_RATE", "30/hour"),
        # Units applying to join through the portal.
        "unit_apply": env_str("UNIT_APPLY_RATE", "5/hour"),
        "need_track": env_str("NEED_TRACK_RATE", "20/hour"),
        # Each request for a password-set link voids the account's earlier ones (alliance/passwords.py).
        "password_forgot": "5/hour",
        # Text-message codes asked for from one address (the number's own limit is SMS_CODE_PER_PHONE_HOURLY),
        # and the codes tried from one address.
        "password_code": env_str("PASSWORD_CODE_RATE", "10/hour"),
        "password_code_check": env_str("PASSWORD_CODE_CHECK_RATE", "30/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "党建联盟平台 API",
    # Replaced per request by the translated text (alliance.api.schema.describe_tags).
    "DESCRIPTION": "Party-building alliance platform: units, needs, projects, meetings, volunteers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs pages load Swagger UI and ReDoc from the vendored sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The groups (one per app) and the description in the reader's language (alliance.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "alliance.api.schema.describe_tags",
    ],
    # Several models have a "status" or a "kind": each choice set gets a name of its own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "UnitStatusEnum": "members.models.MemberUnit.Status",
        "NeedStatusEnum": "demands.models.Need.Status",
        "NeedKindEnum": "demands.models.Need.Kind",
        "NeedChannelEnum": "demands.models.Need.Channel",
        "StaffEntryChannelEnum": ["phone", "visit", "staff"],
        "ResourceStatusEnum": "demands.models.Resource.Status",
        "ResourceKindEnum": "demands.models.Resource.Kind",
        "ClaimStatusEnum": "projects.models.ProjectClaim.Status",
        "ProjectStatusEnum": "projects.models.ServiceProject.Status",
        "MeetingStatusEnum": "meetings.models.JointMeeting.Status",
        "MeetingKindEnum": "meetings.models.Kind",
        "MeetingLevelEnum": "meetings.models.Level",
        "UnitLevelEnum": "members.models.MemberUnit.Level",
        "InvitationStatusEnum": "meetings.models.Invitation.Status",
        "ResolutionStatusEnum": "meetings.models.Resolution.Status",
        "PartyMemberStatusEnum": "volunteers.models.PartyMember.Status",
        "PostStatusEnum": "volunteers.models.VolunteerPost.Status",
        "PostClaimStatusEnum": "volunteers.models.PostClaim.Status",
    },
}

# --- Personal data --------------------------------------------------------------------------------
# A resident's contact name, phone and address are emptied this many days after their need was closed or
# rejected (PIPL art. 19: kept no longer than needed; beat task demands.tasks.anonymise_resident_data).
RESIDENT_DATA_RETENTION_DAYS = env_int("RESIDENT_DATA_RETENTION_DAYS", 180)
if RESIDENT_DATA_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("RESIDENT_DATA_RETENTION_DAYS must be at least 1 (days after a need ends).")

# --- Celery ---------------------------------------------------------------------------------------
# With REDIS_URL the broker is Redis. Without it, kombu's filesystem transport carries tasks between
# the web process and one `celery worker -B` (RECIPES.md), so reminders still go out with no services.
CELERY_DATA_DIR = VAR_DIR / "celery"
# A publish after commit tries once, briefly: kombu's default retries for 4 s with sleeps (6 s a
# notification, measured), which stalled every web worker. Workers reconnect on their own schedule
# (broker_connection_retry), which these options do not touch.
REDIS_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "max_retries": 0,
    "socket_connect_timeout": REDIS_TIMEOUT,
    # Reads get longer: a busy Redis must not make workers drop their connection, and a Redis that
    # accepts but does not answer still holds a publish for 5 s at most.
    "socket_timeout": max(REDIS_TIMEOUT, 5),
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DATA_DIR / "beat-schedule")

# --- Logging --------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Password-set links and tracking codes never reach the log, whichever logger a line comes from.
    "filters": {"redact": {"()": "alliance.masking.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The development server's request lines (with query strings) through the redacting handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The filesystem transport has no host; kombu says so on every connection.
        "kombu.connection": {"level": "ERROR"},
    },
}
