"""The database going away: requests answer 503 ``unavailable`` (problem+json, Retry-After)
within seconds instead of hanging, and the service recovers by itself when it comes back.

In process, a query wrapper stands in for the lost database, for every way a request meets
it: a DRF view, a middleware (idempotency keys), a person's screen (HTML). Live, gunicorn
with production settings reaches PostgreSQL through a TCP proxy that the test cuts (open
connections closed, new ones never answered) and restores; nothing is restarted.
"""

import time

import pytest
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client

from config.api.errors import UNAVAILABLE_RETRY_AFTER
from config.api.roles import Role
from config.api.services import create_api_client
from tests.faults.server import Server, TcpProxy, url_of_test_database

PROBLEM = "application/problem+json"


def lost(message: str):
    def fail(execute, sql, params, many, context):
        raise OperationalError(message)

    return fail


def assert_unavailable(status, headers, body) -> None:
    assert status == 503, body
    assert headers["content-type"] == PROBLEM
    assert int(headers["retry-after"]) == UNAVAILABLE_RETRY_AFTER
    assert body["code"] == "unavailable"
    assert body["status"] == 503
    assert "database" in body["detail"]


def call(client: Client, method: str, path: str, **extra):
    response = getattr(client, method)(path, **extra)
    return response.status_code, {k.lower(): v for k, v in response.items()}, response


@pytest.fixture
def storefront_key(db) -> str:
    return create_api_client(name="shop", role=Role.STOREFRONT)[1]


def test_a_drf_view_answers_503_when_the_database_is_unreachable(db):
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(lost("server closed the connection unexpectedly")):
        status, headers, response = call(client, "get", "/api/v1/locations/")
    assert_unavailable(status, headers, response.json())


def test_a_middleware_meeting_the_lost_database_answers_503_too(storefront_key):
    # The idempotency middleware claims the key before any view runs.
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {storefront_key}")
    with connection.execute_wrapper(lost("connection timeout expired")):
        status, headers, response = call(
            client,
            "post",
            "/api/v1/orders/",
            data={},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )
    assert_unavailable(status, headers, response.json())


def test_a_store_screen_answers_an_html_503(db, django_user_model):
    client = Client(raise_request_exception=False)
    client.force_login(django_user_model.objects.create_user("anouk"))
    with connection.execute_wrapper(lost("server closed the connection unexpectedly")):
        status, headers, response = call(client, "get", "/store/")
    assert status == 503
    assert headers["content-type"].startswith("text/html")
    assert int(headers["retry-after"]) == UNAVAILABLE_RETRY_AFTER
    assert "Service unavailable" in response.content.decode()


def test_a_bug_in_a_query_is_still_a_500(db):
    def broken(execute, sql, params, many, context):
        raise ProgrammingError("column does not exist")

    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(broken):
        status, headers, response = call(client, "get", "/api/v1/locations/")
    assert status == 500
    assert response.json()["code"] == "server_error"
    assert "retry-after" not in headers


def test_healthz_says_when_to_retry(anon, monkeypatch, settings):
    from config.api import health

    monkeypatch.setattr(health, "_database_ok", lambda: False)
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker to check
    response = anon.get("/healthz")
    assert response.status_code == 503
    assert int(response["Retry-After"]) == UNAVAILABLE_RETRY_AFTER


CONNECT_TIMEOUT = 1  # DATABASE_CONNECT_TIMEOUT for the server (production default: 5)


@pytest.mark.postgres
def test_gunicorn_answers_503_fast_while_the_database_is_cut_off_and_recovers_by_itself(
    transactional_db, storefront_key, tmp_path
):
    db = connection.settings_dict
    proxy = TcpProxy((db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)))
    server = Server(
        database_url=url_of_test_database(host="127.0.0.1", port=proxy.port),
        workers=1,
        env={"DATABASE_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT)},
        log_dir=tmp_path,
    )
    token = {"Authorization": f"Token {storefront_key}"}
    reads = [("/api/v1/locations/", {}), ("/api/v1/orders/", token), ("/healthz", {})]
    try:
        master, workers = server.process.pid, server.worker_pids()
        for path, headers in reads:
            assert server.get(path, headers=headers)[0] == 200, path

        proxy.cut()
        requests = [
            *[("GET", path, None, headers) for path, headers in reads],
            # The idempotency middleware is the first to need the database here.
            ("POST", "/api/v1/orders/", {}, {**token, "Idempotency-Key": "cut-1"}),
        ]
        for method, path, body, headers in requests:
            started = time.monotonic()
            status, answer_headers, content = server.request(
                method, path, body, headers, timeout=30
            )
            elapsed = time.monotonic() - started
            assert status == 503, (path, content)
            assert answer_headers["content-type"] == PROBLEM
            assert int(answer_headers["retry-after"]) == UNAVAILABLE_RETRY_AFTER
            assert b'"code":"unavailable"' in content.replace(b" ", b"")
            # Bounded by the connect timeout, not by gunicorn's 30 s worker timeout.
            assert elapsed < CONNECT_TIMEOUT + 3, (path, elapsed)

        proxy.restore()
        # The very next requests succeed: the worker dropped its broken connection.
        for path, headers in reads:
            status, _, content = server.get(path, headers=headers)
            assert status == 200, (path, content)
        status, _, content = server.request(
            "POST", "/api/v1/orders/", {}, {**token, "Idempotency-Key": "cut-1"}
        )
        assert status == 400, content  # the key was released: validated, not "in progress"
        # Nothing was restarted: the same master and the same worker served throughout.
        assert server.process.poll() is None
        assert server.worker_pids() == workers
        assert server.process.pid == master
    finally:
        server.stop()
        proxy.close()
