"""What the API fuzzer (tests/fuzz/) found in the shared API plumbing, pinned down."""

import json
import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(anon) -> dict:
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    return json.loads(response.content)


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=", "offset=-1", "offset=null"])
def test_a_malformed_page_is_a_400_not_the_default_page(anon, query):
    response = anon.get(f"/api/v1/categories/?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["attr"] == query.split("=")[0]


def test_a_well_formed_page_still_answers_and_a_huge_limit_is_capped(anon):
    assert anon.get("/api/v1/categories/?limit=5&offset=0").status_code == 200
    assert anon.get("/api/v1/categories/?limit=100000").status_code == 200


def test_the_schema_gives_limit_and_offset_their_minimums(schema):
    params = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/categories/"]["get"]["parameters"]
    }
    assert params["limit"]["minimum"] == 1
    assert params["offset"]["minimum"] == 0


def test_the_idempotency_key_header_says_what_the_middleware_accepts(schema):
    post = schema["paths"]["/api/v1/categories/"]["post"]
    (key,) = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"}


def _decimal_patterns(schema) -> set[str]:
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if node.get("format") == "decimal" and "pattern" in node:
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def test_decimal_patterns_refuse_what_drf_refuses(schema):
    patterns = _decimal_patterns(schema)
    assert patterns
    for pattern in patterns:
        for bad in ("", "-", ".", "-.", "1.2.3", "abc"):
            assert not re.search(pattern, bad), (pattern, bad)
        for good in ("0", "5", "5.", ".5", "12.50"):
            assert re.search(pattern, good), (pattern, good)


def test_non_negative_money_has_no_minus_sign(schema):
    amount = schema["components"]["schemas"]["LocationRequest"]["properties"]["handling_cost"]
    assert not re.search(amount["pattern"], "-1.00")


def test_a_non_empty_nested_list_has_min_items(schema):
    body = schema["components"]["schemas"]["ReservationInRequest"]
    assert body["properties"]["lines"]["minItems"] == 1


def test_a_read_only_field_declared_optional_is_not_required(schema, anon):
    location = schema["components"]["schemas"]["Location"]
    assert "distance_km" in location["properties"]
    assert "distance_km" not in location["required"]
