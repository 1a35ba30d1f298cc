"""Helpers for the fault tests: gunicorn run the way production runs it, against the test
database; the processes it forks; a TCP proxy that can cut the database away.

The test database must hold committed data the server can see, so tests using the server
use ``transactional_db``; the server fixture depends on it and so stops before the tables
are flushed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench.server import children, free_port, gunicorn_command, production_env, stop_process

ROOT = Path(settings.BASE_DIR)


def url_of_test_database(*, host: str | None = None, port: int | None = None) -> str:
    """The URL of the database this test runs on (pytest-django's ``test_...``)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = host or db.get("HOST") or "127.0.0.1"
    port = port or db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Server:
    """``gunicorn config.wsgi`` with production settings (DEBUG off, a real SECRET_KEY,
    persistent connections with health checks), sync workers, on a free local port."""

    def __init__(
        self,
        *,
        database_url: str,
        workers: int = 2,
        env: dict | None = None,
        log_dir: Path | None = None,
    ):
        self.port = free_port()
        self.log = Path(log_dir or tempfile.gettempdir()) / f"gunicorn-{self.port}.log"
        # The benchmarks' production environment (DEBUG off, a real SECRET_KEY, plain HTTP,
        # persistent connections, tasks run eagerly in the request, e-mail dropped).
        environment = {
            **production_env(broker=""),
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        environment.pop("DEBUG", None)
        command = gunicorn_command(self.port, workers, "--graceful-timeout", "5")
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers = workers
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.get("/healthz", timeout=5)[0] == 200 and len(self.worker_pids()) == (
                    self.workers
                ):
                    return
            time.sleep(0.2)
        log = self.log.read_text()[-3000:]
        self.stop()
        raise RuntimeError(f"gunicorn did not come up:\n{log}")

    def worker_pids(self) -> list[int]:
        return [pid for pid in children(self.process.pid) if alive(pid)]

    def request(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        headers: dict | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict, bytes]:
        """(status, headers with lower-case names, body); one connection per request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            all_headers = {"Accept": "application/json", **(headers or {})}
            if payload is not None:
                all_headers["Content-Type"] = "application/json"
            conn.request(method, path, body=payload, headers=all_headers)
            response = conn.getresponse()
            content = response.read()
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                content,
            )
        finally:
            conn.close()

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def stop(self) -> None:
        """TERM to the master, KILL to its group if it lingers; waits for every worker."""
        pids = [self.process.pid, *self.worker_pids()]
        stop_process(self.process)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)


class TcpProxy:
    """A TCP relay to ``upstream`` that a test can cut and restore.

    Cut: every relayed connection is closed at once, and new connections are accepted and
    then left without an answer (a black hole, the worst case for a client: only its own
    timeout ends the wait). Restore: new connections are relayed again.
    """

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._held: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                if not self.up:
                    self._held.append(client)
                    continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        with self._lock:
            self.up = False
            relayed = list(self._open)
        for sock in relayed:
            self._close(sock)

    def restore(self) -> None:
        with self._lock:
            self.up = True
            held, self._held = self._held, []
        for sock in held:
            sock.close()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.restore()
        self.listener.close()
