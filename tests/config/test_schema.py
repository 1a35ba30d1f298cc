"""The OpenAPI schema at /api/schema/ describes the API (API.md, first paragraph)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def schema(anon) -> dict:
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return json.loads(response.content)


def test_schema_is_valid_openapi(schema):
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Omnistock retail API"


def test_schema_is_served_as_yaml_by_default(anon):
    response = anon.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content)["paths"]


def test_schema_describes_the_catalog_with_problem_errors_and_idempotency(schema):
    create = schema["paths"]["/api/v1/categories/"]["post"]
    assert {"tokenAuth": []} in create["security"]
    assert {} not in create["security"]  # writing needs a token
    assert {} in schema["paths"]["/api/v1/categories/"]["get"]["security"]  # reading does not
    headers = [p["name"] for p in create["parameters"] if p["in"] == "header"]
    assert headers == ["Idempotency-Key"]
    for status in ("400", "401", "403", "409", "415", "422", "429"):
        assert PROBLEM in create["responses"][status]["content"], status
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <key>`",
    }


def test_schema_generation_has_no_warnings():
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            os.devnull,
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr


def test_interactive_docs_answer_html(anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger-ui" in response.content
    assert b"/api/schema/" in response.content
