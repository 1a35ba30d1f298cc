"""``/healthz``: what a load balancer asks before sending traffic."""

import pytest
from django.db import OperationalError

from config.api import health
from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


class UnreachableDatabase:
    def cursor(self):
        raise OperationalError("connection refused")


@pytest.fixture(autouse=True)
def _forget_the_last_broker_check(monkeypatch):
    monkeypatch.setattr(health, "_broker_ok_at", float("-inf"))


@pytest.fixture
def embedded_broker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def real_broker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


def test_healthy_when_the_database_answers(anon, embedded_broker):
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_unavailable_when_the_database_does_not_answer(anon, embedded_broker, monkeypatch):
    monkeypatch.setattr(health, "connection", UnreachableDatabase())
    response = anon.get("/healthz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["detail"]) == ("unavailable", "Unavailable: database.")


def test_checks_the_broker_when_one_is_configured(anon, real_broker, monkeypatch):
    monkeypatch.setattr(health, "_broker_ok", lambda: True)
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_unavailable_when_the_broker_does_not_answer(anon, real_broker, monkeypatch):
    # Nothing listens on port 1: the real probe has to fail, quickly. (Celery reads the
    # CELERY_BROKER_URL environment variable before its configuration.)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    assert celery_app.conf.broker_url == "redis://127.0.0.1:1/0"
    response = anon.get("/healthz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "Unavailable: broker."


def test_both_failures_are_named(anon, real_broker, monkeypatch):
    monkeypatch.setattr(health, "connection", UnreachableDatabase())
    monkeypatch.setattr(health, "_broker_ok", lambda: False)
    response = anon.get("/healthz")
    assert response.status_code == 503
    assert response.json()["detail"] == "Unavailable: database, broker."


@pytest.mark.broker
def test_healthy_with_the_real_broker(anon):
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_health_is_not_throttled_or_authenticated(anon, embedded_broker):
    response = anon.get("/healthz", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 200


def test_a_broker_that_answered_moments_ago_is_not_asked_again(real_broker, monkeypatch):
    calls = []

    class Connection:
        def __enter__(self):
            calls.append(1)
            return self

        def __exit__(self, *exc):
            return False

        def ensure_connection(self, **kwargs):
            if fail:
                raise ConnectionError("refused")

    monkeypatch.setattr(celery_app, "connection_for_write", Connection)
    fail = False
    assert health._broker_ok()
    assert health._broker_ok()
    assert len(calls) == 1  # the second call inside the window asked nobody
    monkeypatch.setattr(health, "_broker_ok_at", float("-inf"))  # the window is over
    fail = True
    assert not health._broker_ok()
    assert not health._broker_ok()  # a failure is never remembered: asked again
    assert len(calls) == 3
