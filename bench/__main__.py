"""``python -m bench``: the whole suite, one table; ``python -m bench load``: the load test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_dev python -m bench
    DATABASE_URL=... python -m bench --size small --seconds 2 --only checkout,pos
    DATABASE_URL=... python -m bench load --seconds 60 --users 50

The single scripts (``python -m bench.checkout`` and the others) still run on their own.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from bench.dataset import SIZES
from bench.server import DEFAULT_BROKER
from bench.suite import ALL


def common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--size", choices=sorted(SIZES), default="full", help="data set (default: full)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="drop and load the data set even if it is cached"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="Celery worker processes (default 2)"
    )
    parser.add_argument(
        "--broker",
        default=DEFAULT_BROKER,
        help=f"Redis database of the benchmark's own, flushed at start (default {DEFAULT_BROKER})",
    )
    parser.add_argument("--json", help="write the results here (default: bench/results/...)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["load"]:
        from bench import load

        parser = argparse.ArgumentParser(prog="python -m bench load", description=load.__doc__)
        common(parser)
        parser.add_argument("--seconds", type=float, default=60, help="run time (default 60)")
        parser.add_argument("--users", type=int, default=50, help="Locust users (default 50)")
        parser.add_argument(
            "--spawn-rate", type=float, default=10, help="users started per second (default 10)"
        )
        args = parser.parse_args(argv[1:])
        args.command_line = "python -m bench " + shlex.join(argv)
        return load.run(args)

    from bench import suite

    parser = argparse.ArgumentParser(prog="python -m bench", description=suite.__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    common(parser)
    parser.add_argument(
        "--seconds", type=float, default=5, help="recorded seconds per measurement (default 5)"
    )
    parser.add_argument(
        "--warmup", type=float, default=1, help="unrecorded seconds first (default 1)"
    )
    parser.add_argument(
        "--clients", default="1,8,32", help="client threads, comma-separated (default 1,8,32)"
    )
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(ALL)}")
    args = parser.parse_args(argv)
    args.command_line = "python -m bench " + shlex.join(argv)
    return suite.run(args)


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        raise SystemExit("Interrupted; every process the benchmark started is stopped.") from None
