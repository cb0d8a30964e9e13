"""Run the HeavyDB test server as a process: ``python -m tests.heavydb_server``.

The password comes from ``--password`` or, so that it stays out of the process's
argument list, from the environment variable named by ``--password-env``
(default F1DASH_TEST_HEAVYDB_PASSWORD). Once listening it prints one line,
``listening 127.0.0.1:PORT``, on stdout; SIGTERM or SIGINT stop it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .process import PASSWORD_ENV
from .server import HeavyDBTestServer


def main(argv: list[str] | None = None) -> int:
    """Parse options, serve until a signal arrives, return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tests.heavydb_server")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--db", type=Path, required=True, help="SQLite file")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--database", default="heavyai")
    parser.add_argument("--password", default=None)
    parser.add_argument("--password-env", default=PASSWORD_ENV)
    options = parser.parse_args(argv)
    password = options.password
    if password is None:
        password = os.environ.get(options.password_env)
    if password is None:
        parser.error(f"give --password or set {options.password_env}")
    server = HeavyDBTestServer(
        options.db,
        password=password,
        user=options.user,
        database=options.database,
        port=options.port,
    )
    try:
        server.start()
    except OSError as error:
        print(f"cannot listen on port {options.port}: {error}", file=sys.stderr)
        return 1

    def request_stop(_signum: int, _frame: object) -> None:
        server._stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(f"listening {server.host}:{server.port}", flush=True)
    server.serve_forever()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
