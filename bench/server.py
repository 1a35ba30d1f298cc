"""The service the way production runs it, for benchmarks: gunicorn with production settings
and, if asked, a Celery worker on Redis. Every process started here is stopped again, also
on Ctrl-C, SIGTERM or an error (``Stack`` is a context manager; ``stop_all`` runs at exit).

README, "Production": ``gunicorn config.wsgi:application --workers 4 --timeout 30
--access-logfile -`` and ``celery -A config worker``, with ``DJANGO_ENV=production`` (DEBUG
off, a real ``SECRET_KEY``), persistent connections and the broker in ``CELERY_BROKER_URL``.
The benchmark's own choices: 127.0.0.1 on a free port, ``SECURE_SSL_REDIRECT=false`` (the
clients send ``X-Forwarded-Proto: https`` as the proxy would), a client throttle out of reach,
e-mail to the dummy backend (rendered and recorded, then dropped).
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEALTHZ = "/healthz"
DEFAULT_BROKER = "redis://127.0.0.1:6379/13"  # a Redis database of its own: flushed freely

_running: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(conn, path: str, body: bytes | None = None, headers: dict | None = None):
    conn.request("POST" if body is not None else "GET", path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read()


def production_env(broker: str = "") -> dict[str, str]:
    """The environment of the server and worker processes (DATABASE_URL is the caller's)."""
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CONN_MAX_AGE": "600",
        "THROTTLE_CLIENT": "10000000/min",
        "THROTTLE_ANONYMOUS": "10000000/min",
        "CELERY_BROKER_URL": broker,  # empty: tasks run eagerly, in the request
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "INFO",
    }
    env.pop("DEBUG", None)
    return env


def spawn(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Start ``command`` in its own process group, output to ``log``; stopped at exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _running.append(process)
    return process


def gunicorn_command(port: int, workers: int, *options: str) -> list[str]:
    """README's production command line: ``workers`` sync workers, a 30 s timeout, bound to
    127.0.0.1:``port``, plus ``options``."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        str(workers),
        "--timeout",
        "30",
        *options,
        "--bind",
        f"127.0.0.1:{port}",
    ]


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc): gunicorn's workers."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return sorted(found)


def start_gunicorn(
    port: int, workers: int, log: Path, *, broker: str = "", env: dict | None = None
) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:``port``; returns once /healthz answers 200 (exits if it never
    does within a minute, showing the end of the log)."""
    command = gunicorn_command(port, workers, "--access-logfile", "-")
    server = spawn(command, env or production_env(broker), log)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 60 and server.poll() is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                if request(conn, HEALTHZ, headers={"X-Forwarded-Proto": "https"})[0] == 200:
                    return server
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
    except BaseException:  # Ctrl-C while it starts
        stop_process(server)
        raise
    stop_process(server)
    sys.exit(f"gunicorn did not answer /healthz; see {log}:\n{log.read_text()[-3000:]}")


def start_celery(
    log: Path, *, broker: str, concurrency: int, env: dict | None = None
) -> subprocess.Popen:
    """``celery -A config worker`` on ``broker``; returns once the worker says it is ready."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"bench-{os.getpid()}@%h",
    ]
    worker = spawn(command, env or production_env(broker), log)
    started = time.monotonic()
    try:
        while time.monotonic() - started < 60 and worker.poll() is None:
            if " ready." in log.read_text(errors="replace"):
                return worker
            time.sleep(0.3)
    except BaseException:
        stop_process(worker)
        raise
    stop_process(worker)
    sys.exit(f"the Celery worker did not start; see {log}:\n{log.read_text()[-3000:]}")


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """TERM to the master (graceful), then KILL to the group it leads if it lingers."""
    if process.poll() is None:
        try:
            process.terminate()
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Workers the master forked live in its process group (start_new_session): none may stay.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process in _running:
        _running.remove(process)


def stop_all() -> None:
    for process in list(reversed(_running)):
        stop_process(process)


atexit.register(stop_all)


def exit_on_sigterm() -> None:
    """SIGTERM (kill) unwinds like Ctrl-C, so ``finally`` blocks and atexit stop the servers."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# --- The broker ---------------------------------------------------------------------------


def redis_client(broker: str):
    import redis

    return redis.Redis.from_url(broker)


def flush_broker(broker: str) -> None:
    """Empty the benchmark's own Redis database (never anything else: the URL names it)."""
    if not broker.rstrip("/").rsplit("/", 1)[-1].isdigit():
        sys.exit(f"The broker URL {broker} names no Redis database number; refusing to flush.")
    redis_client(broker).flushdb()


def queued_tasks(broker: str) -> int:
    """Tasks waiting in the default queue plus those taken but not yet acknowledged."""
    client = redis_client(broker)
    return int(client.llen("celery")) + int(client.hlen("unacked"))


def wait_for_tasks(broker: str, timeout: float = 120) -> int:
    """Wait until the worker has done every queued task (or ``timeout``); returns what is left."""
    started = time.monotonic()
    left = queued_tasks(broker)
    while left and time.monotonic() - started < timeout:
        time.sleep(0.5)
        left = queued_tasks(broker)
    return left


class Stack:
    """gunicorn (``workers`` sync workers) and, with a broker, a Celery worker, on a free port;
    stopped on leaving the ``with`` block."""

    def __init__(self, *, workers: int, broker: str, concurrency: int, logs: Path, name: str):
        self.workers = workers
        self.broker = broker
        self.concurrency = concurrency
        self.gunicorn_log = logs / f"{name}-gunicorn.log"
        self.celery_log = logs / f"{name}-celery.log"
        self.port = free_port()
        self.server: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Stack:
        env = production_env(self.broker)
        try:
            if self.broker:
                flush_broker(self.broker)
                self.worker = start_celery(
                    self.celery_log, broker=self.broker, concurrency=self.concurrency, env=env
                )
            self.server = start_gunicorn(self.port, self.workers, self.gunicorn_log, env=env)
        except BaseException:
            self.__exit__()
            raise
        return self

    def drain(self, timeout: float = 120) -> int:
        return wait_for_tasks(self.broker, timeout) if self.broker and self.worker else 0

    def __exit__(self, *exc) -> None:
        for process in (self.server, self.worker):
            if process is not None:
                stop_process(process)
