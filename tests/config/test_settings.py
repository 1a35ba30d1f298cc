"""Production mode (``DJANGO_ENV=production``) passes ``check --deploy`` and refuses to start
without a real secret. Each case runs ``manage.py`` in a fresh process, because settings
are read once per process."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_ROOT = Path(settings.BASE_DIR)
GOOD_SECRET_KEY = secrets.token_urlsafe(60)


def manage(*args: str, **env_vars: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # The child reads its own settings: none of this process's database or broker overrides.
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DEBUG"):
        env.pop(name, None)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    for name, value in env_vars.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production(**env_vars: str | None) -> dict[str, str | None]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "shop.example.com",
        **env_vars,
    }


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr
    assert result.stderr == ""


def test_production_security_settings():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS >= 31536000, "
        "s.ALLOWED_HOSTS, s.SECURE_REDIRECT_EXEMPT)",
        **production(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True True True True ['shop.example.com'] ['^healthz$']"


def test_production_without_secret_key_refuses_to_start():
    if (PROJECT_ROOT / ".env").exists():
        pytest.skip("a .env file may supply SECRET_KEY")
    result = manage("check", "--deploy", **production(SECRET_KEY=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured: Production mode needs a real SECRET_KEY" in result.stderr


@pytest.mark.parametrize("secret_key", ["dev-insecure-secret-key-change-me", "", "x" * 60])
def test_production_with_an_insecure_secret_key_refuses_to_start(secret_key):
    result = manage("check", "--deploy", **production(SECRET_KEY=secret_key))
    assert result.returncode != 0
    assert "ImproperlyConfigured: Production mode needs a real SECRET_KEY" in result.stderr


def test_production_refuses_debug():
    result = manage("check", **production(DEBUG="true"))
    assert result.returncode != 0
    assert "ImproperlyConfigured: DEBUG must be off in production mode." in result.stderr


def test_an_unknown_django_env_refuses_to_start():
    result = manage("check", DJANGO_ENV="staging")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_ENV must be 'development' or 'production'." in (
        result.stderr
    )


def test_idempotency_keys_cannot_be_configured_below_24_hours():
    result = manage("check", IDEMPOTENCY_KEY_TTL_HOURS="23")
    assert result.returncode != 0
    assert "ImproperlyConfigured: IDEMPOTENCY_KEY_TTL_HOURS must be at least 24." in result.stderr


def test_development_mode_starts_without_any_environment():
    result = manage("check", DJANGO_ENV=None, SECRET_KEY=None, ALLOWED_HOSTS=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_tasks_run_eagerly_without_a_broker_and_go_to_the_broker_with_one():
    code = (
        "from django.conf import settings as s; "
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.CELERY_RESULT_BACKEND)"
    )
    embedded = manage("shell", "--no-imports", "-c", code)
    assert embedded.stdout.strip() == "True memory:// None"
    with_broker = manage(
        "shell", "--no-imports", "-c", code, CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
    )
    assert with_broker.stdout.strip() == "False redis://127.0.0.1:6379/0 None"


def test_postgresql_connections_run_without_jit_unless_asked():
    code = "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS'])"
    url = "postgres://postgres@127.0.0.1:5432/retail"
    default = manage("shell", "--no-imports", "-c", code, DATABASE_URL=url)
    assert "'options': '-c jit=off'" in default.stdout, default.stderr
    asked = manage("shell", "--no-imports", "-c", code, DATABASE_URL=url, DATABASE_JIT="true")
    assert "jit" not in asked.stdout, asked.stderr
