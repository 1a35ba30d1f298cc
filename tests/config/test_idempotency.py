"""``Idempotency-Key`` on POSTs (API.md, "Idempotency")."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from config.api.idempotency import caller_scope, purge_expired_keys, request_fingerprint
from config.api.models import IdempotencyRecord
from config.api.roles import Role
from config.api.services import create_api_client
from config.api.tasks import purge_idempotency_keys
from config.api.throttling import CallerRateThrottle
from inventory import services as inventory_services
from inventory.models import Category

pytestmark = pytest.mark.django_db

URL = "/api/v1/categories/"
BODY = json.dumps({"code": "tees", "name": "Tees", "parent": None})
PROBLEM = "application/problem+json"


def token_client(role: Role = Role.MERCHANDISER, name: str = "merch") -> tuple[APIClient, str]:
    _, key = create_api_client(name=name, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def post(client: APIClient, key: str, body: str = BODY):
    return client.post(URL, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def record_for(*, token: str, key: str, body: str = BODY, age: timedelta, locked_for: timedelta):
    """An in-progress claim made ``age`` ago and locked ``locked_for`` ago, as the
    middleware would have written it for this caller, key and body."""
    request = RequestFactory().post(
        URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    now = timezone.now()
    return IdempotencyRecord.objects.create(
        scope=caller_scope(request),
        key=key,
        fingerprint=request_fingerprint(request, body.encode()),
        created_at=now - age,
        locked_at=now - locked_for,
    )


def test_replay_returns_the_first_response_byte_for_byte_with_no_second_effect():
    client, _ = token_client()
    first = post(client, "key-1")
    assert first.status_code == 201, first.content
    second = post(client, "key-1")
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"] == "application/json"
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Category.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.status, record.response_status) == ("key-1", "completed", 201)


def test_a_stored_error_response_replays_too():
    client, _ = token_client()
    bad = json.dumps({"code": "tees"})
    first = post(client, "key-400", bad)
    assert first.status_code == 400
    second = post(client, "key-400", bad)
    assert (second.status_code, second.content) == (400, first.content)
    assert second["Content-Type"] == PROBLEM
    assert not Category.objects.exists()


def test_same_key_with_a_different_body_is_422_and_changes_nothing():
    client, _ = token_client()
    assert post(client, "key-1").status_code == 201
    response = post(client, "key-1", json.dumps({"code": "shoes", "name": "Shoes"}))
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Category.objects.values_list("code", flat=True)) == ["tees"]
    assert IdempotencyRecord.objects.get().response_status == 201


def test_same_key_on_another_path_is_a_different_request():
    client, _ = token_client()
    assert post(client, "key-1").status_code == 201
    response = client.post(
        "/api/v1/channels/",
        data=BODY,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_same_key_from_another_caller_is_independent():
    first_client, _ = token_client(name="merch A")
    second_client, _ = token_client(name="merch B")
    assert post(first_client, "shared-key").status_code == 201
    response = post(second_client, "shared-key", json.dumps({"code": "shoes", "name": "Shoes"}))
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert sorted(Category.objects.values_list("code", flat=True)) == ["shoes", "tees"]
    assert IdempotencyRecord.objects.filter(key="shared-key").count() == 2


def test_post_without_a_key_is_not_recorded():
    client, _ = token_client()
    assert client.post(URL, data=BODY, content_type="application/json").status_code == 201
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["k" * 256, "   "])
def test_a_key_over_255_characters_or_blank_is_400(key):
    client, _ = token_client()
    response = post(client, key)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == [
        {"attr": "Idempotency-Key", "code": "invalid", "detail": "1 to 255 characters."}
    ]
    assert not Category.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_a_key_of_exactly_255_characters_is_accepted():
    client, _ = token_client()
    assert post(client, "k" * 255).status_code == 201
    assert IdempotencyRecord.objects.get().key == "k" * 255


def test_a_request_while_the_first_is_running_is_409_in_progress():
    client, token = token_client()
    record = record_for(token=token, key="key-1", age=timedelta(0), locked_for=timedelta(0))
    response = post(client, "key-1")
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "idempotency_key_in_progress"
    assert not Category.objects.exists()
    after = IdempotencyRecord.objects.get()
    assert (after.status, after.locked_at) == ("in_progress", record.locked_at)


def test_a_stale_in_progress_claim_is_taken_over():
    client, token = token_client()
    stale = settings.IDEMPOTENCY_KEY_LOCK_TIMEOUT + timedelta(seconds=1)
    record_for(token=token, key="key-1", age=stale, locked_for=stale)
    response = post(client, "key-1")
    assert response.status_code == 201, response.content
    assert Category.objects.filter(code="tees").count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.status, record.response_status) == ("completed", 201)
    assert bytes(record.response_body) == response.content


def test_a_claim_just_under_the_lock_timeout_is_still_in_progress():
    client, token = token_client()
    fresh = settings.IDEMPOTENCY_KEY_LOCK_TIMEOUT - timedelta(seconds=5)
    record_for(token=token, key="key-1", age=fresh, locked_for=fresh)
    assert post(client, "key-1").status_code == 409
    assert not Category.objects.exists()


def test_a_401_is_not_stored():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert post(client, "key-1").status_code == 401
    assert not IdempotencyRecord.objects.exists()
    assert post(client, "key-1").status_code == 401
    assert not IdempotencyRecord.objects.exists()


def test_a_429_is_not_stored(monkeypatch):
    client, _ = token_client()
    monkeypatch.setattr(
        CallerRateThrottle, "THROTTLE_RATES", {"anonymous": None, "client": "1/min"}
    )
    cache.clear()
    assert client.get(URL).status_code == 200
    throttled = post(client, "key-1")
    assert throttled.status_code == 429
    assert not IdempotencyRecord.objects.exists()
    assert not Category.objects.exists()
    cache.clear()  # the minute is over
    assert post(client, "key-1").status_code == 201
    assert Category.objects.filter(code="tees").count() == 1


def test_a_5xx_is_not_stored_and_a_retry_runs_again(monkeypatch):
    client, _ = token_client()
    client.raise_request_exception = False
    real_create_category = inventory_services.create_category

    def broken(**kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(inventory_services, "create_category", broken)
    failed = post(client, "key-1")
    assert failed.status_code == 500
    assert not IdempotencyRecord.objects.exists()
    assert not Category.objects.exists()

    monkeypatch.setattr(inventory_services, "create_category", real_create_category)
    retried = post(client, "key-1")
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")
    assert Category.objects.filter(code="tees").count() == 1


def age_record(key: str, age: timedelta) -> None:
    IdempotencyRecord.objects.filter(key=key).update(created_at=timezone.now() - age)


def test_keys_are_kept_at_least_24_hours():
    assert timedelta(hours=24) <= settings.IDEMPOTENCY_KEY_TTL
    client, _ = token_client()
    first = post(client, "key-1")
    age_record("key-1", timedelta(hours=23))
    assert purge_expired_keys() == 0
    replay = post(client, "key-1")
    assert (replay.status_code, replay.content) == (201, first.content)
    assert replay["Idempotent-Replayed"] == "true"
    assert Category.objects.count() == 1


def test_an_expired_key_is_forgotten_and_the_request_runs_again():
    client, _ = token_client()
    assert post(client, "key-1").status_code == 201
    age_record("key-1", settings.IDEMPOTENCY_KEY_TTL + timedelta(minutes=1))
    response = post(client, "key-1", json.dumps({"code": "shoes", "name": "Shoes"}))
    assert response.status_code == 201
    assert sorted(Category.objects.values_list("code", flat=True)) == ["shoes", "tees"]
    assert bytes(IdempotencyRecord.objects.get().response_body) == response.content


@pytest.fixture
def old_and_new_records():
    client, _ = token_client()
    post(client, "old")
    post(client, "new", json.dumps({"code": "shoes", "name": "Shoes"}))
    age_record("old", settings.IDEMPOTENCY_KEY_TTL + timedelta(seconds=1))
    age_record("new", settings.IDEMPOTENCY_KEY_TTL - timedelta(minutes=1))


def test_purge_expired_keys_deletes_records_older_than_the_ttl(old_and_new_records):
    assert purge_expired_keys() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_the_celery_task_purges_expired_keys(old_and_new_records):
    # .apply() runs the task here whether or not a broker is configured.
    assert purge_idempotency_keys.apply().get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_the_purge_is_scheduled_on_beat():
    from config.celery import app

    schedule = app.conf.beat_schedule["purge-idempotency-keys"]
    assert (
        schedule["task"] == purge_idempotency_keys.name == "config.api.tasks.purge_idempotency_keys"
    )
