"""Start and stop the test server as a separate process (for outage tests).

A process can be SIGKILLed like a crashed server and restarted on the same port with
the same SQLite file, which a thread in the test process cannot imitate.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from f1dash_tui.settings import HeavyDBSettings, StoreSettings

PASSWORD_ENV = "F1DASH_TEST_HEAVYDB_PASSWORD"
"""Where ``python -m tests.heavydb_server`` looks for its password by default."""

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0
"""Import of pyheavydb + thrift takes about 1 s; a loaded CI box can be 10x slower."""


class HeavyDBServerProcess:
    """The test server in a subprocess; ``start()`` waits until it listens."""

    def __init__(
        self,
        db_path: Path,
        *,
        password: str,
        user: str = "admin",
        database: str = "heavyai",
        port: int = 0,
    ) -> None:
        self.db_path = Path(db_path)
        self.user = user
        self.database = database
        self.port = port
        self._password = password
        self._process: subprocess.Popen[str] | None = None

    def __repr__(self) -> str:
        return f"HeavyDBServerProcess(127.0.0.1:{self.port}, db={self.db_path})"

    def store_settings(self) -> StoreSettings:
        """Settings that make ``open_store`` connect to this server."""
        heavydb = HeavyDBSettings(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self._password,
            database=self.database,
            protocol="binary",
            connect_timeout_s=2.0,
        )
        return StoreSettings(kind="heavydb", heavydb=heavydb)

    @property
    def host(self) -> str:
        """The address the server listens on (loopback)."""
        return "127.0.0.1"

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return None if self._process is None else self._process.pid

    def __enter__(self) -> HeavyDBServerProcess:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> HeavyDBServerProcess:
        """Start the process (same port as before after a restart) and wait for it."""
        if self._process is not None:
            raise RuntimeError("the server process is already running")
        # The password travels in the environment, never in the argument list.
        env = dict(os.environ, **{PASSWORD_ENV: self._password})
        command = [
            sys.executable,
            "-m",
            "tests.heavydb_server",
            "--port",
            str(self.port),
            "--db",
            str(self.db_path),
            "--user",
            self.user,
            "--database",
            self.database,
        ]
        # stderr goes to a file: a pipe nobody drains would block a chatty server.
        with self.log_path.open("a") as log_file:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log_file,
                text=True,
            )
        self._process = process
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.1)
            if ready:
                line = process.stdout.readline()
                if line.startswith("listening "):
                    self.port = int(line.rsplit(":", 1)[1])
                    return self
            if process.poll() is not None:
                break
        self.kill()
        raise RuntimeError(f"HeavyDB test server did not start: {self._last_error()}")

    @property
    def log_path(self) -> Path:
        """Where the server process writes its stderr."""
        return self.db_path.with_name(self.db_path.name + ".server.log")

    def _last_error(self) -> str:
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    def pause(self) -> None:
        """SIGSTOP the server: it keeps its port (the kernel still accepts TCP
        connections) but answers nothing, like a hung or overloaded server."""
        assert self._process is not None, "the server is not running"
        self._process.send_signal(signal.SIGSTOP)
        # Signals arrive asynchronously: wait until the kernel shows it stopped, so
        # the caller's next request cannot be answered first.
        process = psutil.Process(self._process.pid)
        deadline = time.monotonic() + START_TIMEOUT_S
        while process.status() != psutil.STATUS_STOPPED:
            if time.monotonic() > deadline:
                raise RuntimeError("the HeavyDB test server did not stop on SIGSTOP")
            time.sleep(0.01)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        assert self._process is not None, "the server is not running"
        self._process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would, and reap it."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait(timeout=10)
        self._close_pipes()

    def stop(self) -> None:
        """Stop the server politely (SIGTERM), or kill it after 10 s."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        assert self._process is not None
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None
