"""Client threads that send requests back to back to a server and time the answers.

Each thread has its own ``http.client`` connection (reopened when the server closes it, as
gunicorn's sync workers do after every answer) and sends ``X-Forwarded-Proto: https`` as the
proxy in front of production would. All threads start together; requests that start inside
the warm-up are sent but not recorded.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench._setup import Deadline, percentile

# make(rng, thread_index) -> (method, path, body or None, extra headers)
Make = Callable[[random.Random, int], tuple[str, str, bytes | None, dict]]


@dataclass
class Result:
    latencies: list[float]
    errors: Counter
    samples: list[str]
    created: int  # 201 answers, warm-up included (for the books)
    seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def summary(self) -> dict:
        ordered = sorted(self.latencies)
        return {
            "ok": len(ordered),
            "per_second": self.per_second,
            "p50_ms": percentile(ordered, 0.50) * 1000,
            "p99_ms": percentile(ordered, 0.99) * 1000,
            "errors": sum(self.errors.values()),
            "error_kinds": {str(k): v for k, v in self.errors.items()},
            "error_samples": self.samples,
        }


def drive(
    port: int,
    make: Make,
    *,
    threads: int,
    deadline: Deadline,
    expected: frozenset[int] = frozenset({200, 201}),
    stop: threading.Event | None = None,
    seed: int = 0,
) -> Result:
    barrier = threading.Barrier(threads)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[Counter] = [Counter() for _ in range(threads)]
    created = [0] * threads
    samples: list[str] = []
    stop = stop or threading.Event()

    def work(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        try:
            while not stop.is_set():
                method, path, body, headers = make(rng, index)
                started = time.perf_counter()
                if started >= deadline.end:
                    break
                try:
                    conn.request(
                        method,
                        path,
                        body=body,
                        headers={
                            "Accept": "application/json",
                            "Content-Type": "application/json",
                            "X-Forwarded-Proto": "https",
                            **headers,
                        },
                    )
                    response = conn.getresponse()
                    status, content = response.status, response.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()  # the next request opens a new connection
                    status, content = type(exc).__name__, b""
                elapsed = time.perf_counter() - started
                if status == 201:
                    created[index] += 1
                if started < deadline.start:
                    continue
                if status in expected:
                    latencies[index].append(elapsed)
                else:
                    errors[index][status] += 1
                    if len(samples) < 3:
                        samples.append(f"{status}: {content[:300]!r}")
        finally:
            conn.close()

    pool = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return Result(
        latencies=[v for per in latencies for v in per],
        errors=sum(errors, Counter()),
        samples=samples,
        created=sum(created),
        seconds=deadline.seconds,
    )
