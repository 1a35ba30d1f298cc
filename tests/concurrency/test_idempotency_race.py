"""Several requests with the same Idempotency-Key at once: the database picks one owner."""

import json
import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.api.models import IdempotencyRecord
from config.api.roles import Role
from config.api.services import create_api_client
from inventory import services as inventory_services
from inventory.models import Category

pytestmark = [pytest.mark.postgres]

THREADS = 8
BODY = json.dumps({"code": "tees", "name": "Tees", "parent": None})


def test_concurrent_posts_with_one_key_create_one_category(transactional_db, monkeypatch):
    _, key = create_api_client(name="merch", role=Role.MERCHANDISER)
    real_create_category = inventory_services.create_category

    def slow_create_category(**kwargs):
        time.sleep(0.3)  # hold the claim long enough for the others to find it in progress
        return real_create_category(**kwargs)

    monkeypatch.setattr(inventory_services, "create_category", slow_create_category)
    barrier = threading.Barrier(THREADS)
    responses = []
    errors = []

    def post_once():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            barrier.wait(timeout=10)
            responses.append(
                client.post(
                    "/api/v1/categories/",
                    data=BODY,
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY="till-7-sale-42",
                )
            )
        except Exception as exc:  # reported below, in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post_once) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(responses) == THREADS
    owners = [
        r for r in responses if r.status_code == 201 and not r.has_header("Idempotent-Replayed")
    ]
    replays = [r for r in responses if r.status_code == 201 and r.has_header("Idempotent-Replayed")]
    in_progress = [r for r in responses if r.status_code == 409]
    assert len(owners) == 1
    assert len(owners) + len(replays) + len(in_progress) == THREADS
    assert all(r.content == owners[0].content for r in replays)
    assert all(r.json()["code"] == "idempotency_key_in_progress" for r in in_progress)
    assert Category.objects.filter(code="tees").count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.status, record.response_status) == ("completed", 201)
