"""Security in production mode, seen from outside: the headers and cookies a response
carries, HTTPS redirects, the proxy header taken only when configured; and no secret
committed to the repository.

Production responses come from ``manage.py shell`` in a fresh process (settings are read
once per process) with ``DJANGO_ENV=production``, driving Django's test client against a
throwaway SQLite file, so nothing here needs PostgreSQL.
"""

import json
import re
import shutil
import subprocess

import pytest

from tests.config.test_settings import PROJECT_ROOT, manage, production

PROBE = """
import json
from django.test import Client

def seen(response):
    cookies = {
        name: {"secure": bool(c["secure"]), "httponly": bool(c["httponly"]),
               "samesite": c["samesite"]}
        for name, c in response.cookies.items()
    }
    return {"status": response.status_code, "headers": dict(response.items()),
            "cookies": cookies}

client = Client(HTTP_HOST="shop.example.com")
https = {"HTTP_X_FORWARDED_PROTO": "https"}
print(json.dumps({
    "healthz": seen(client.get("/healthz", **https)),
    "api": seen(client.get("/api/v1/no-such-thing/", **https)),
    "login": seen(client.get("/store/login/", **https)),
    "plain_api": seen(client.get("/api/v1/locations/")),
    "plain_healthz": seen(client.get("/healthz")),
}))
"""


def probe(tmp_path, **env) -> dict:
    database = f"sqlite:///{tmp_path / 'probe.sqlite3'}"
    result = manage(
        "shell", "--no-imports", "-c", PROBE, **production(DATABASE_URL=database, **env)
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_responses_carry_the_security_headers_and_secure_cookies(tmp_path):
    seen = probe(tmp_path)
    for name in ("healthz", "api", "login"):
        headers = seen[name]["headers"]
        assert headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        ), name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", name
        assert headers["X-Frame-Options"] == "DENY", name
    assert seen["healthz"]["status"] == 200
    assert seen["api"]["status"] == 404
    assert seen["api"]["headers"]["Content-Type"] == "application/problem+json"
    # The sign-in page sets the CSRF cookie: HTTPS only.
    assert seen["login"]["status"] == 200
    assert seen["login"]["cookies"]["csrftoken"]["secure"] is True
    # Plain HTTP is sent to HTTPS, except the load balancer's health check.
    assert seen["plain_api"]["status"] == 301
    assert seen["plain_api"]["headers"]["Location"] == "https://shop.example.com/api/v1/locations/"
    assert seen["plain_healthz"]["status"] == 200


def test_the_proxy_header_is_trusted_only_when_configured(tmp_path):
    # SECURE_PROXY_SSL_HEADER="" (no TLS proxy in front): X-Forwarded-Proto proves nothing.
    seen = probe(tmp_path, SECURE_PROXY_SSL_HEADER="")
    assert seen["api"]["status"] == 301
    assert seen["api"]["headers"]["Location"].startswith("https://")


# --- No secrets in the repository ------------------------------------------------------------

# Split so that this file does not match itself.
SECRET_PATTERNS = {
    "private key": re.compile("-----BEGIN [A-Z ]*" + "PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)" + r"[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_" + r"[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-" + r"[A-Za-z0-9-]{10,}"),
    "Django secret key": re.compile(
        r"""^\s*SECRET_KEY\s*=\s*["'](?!dev-insecure-secret-key-change-me)[^"']{20,}["']""",
        re.MULTILINE,
    ),
}


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        ["git", "ls-files", "-z"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    )
    return [name for name in result.stdout.decode().split("\0") if name]


def test_no_secrets_in_tracked_files():
    found = []
    for name in tracked_files():
        path = PROJECT_ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        found += [
            f"{name}: {what}" for what, pattern in SECRET_PATTERNS.items() if pattern.search(text)
        ]
    assert found == []


def test_no_env_file_or_key_file_is_tracked():
    names = tracked_files()
    assert not [n for n in names if re.search(r"(^|/)\.env$|\.(pem|key|p12|pfx)$|id_rsa", n)]


def test_the_secret_key_comes_from_the_environment_in_production():
    # config/settings.py refuses production without one (tests/config/test_settings.py);
    # the only literal in the settings is the development key, which production refuses.
    settings_text = (PROJECT_ROOT / "config" / "settings.py").read_text()
    assert 'SECRET_KEY = env.str("SECRET_KEY"' in settings_text
