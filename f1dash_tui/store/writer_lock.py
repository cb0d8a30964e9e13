"""One writer per SQLite store: a lock file beside it that a writer holds while open.

SQLite itself lets two writers take turns, so two `f1dash-tui ingest` processes on one
store (each on its own port, say) both ran and stored every session twice, with two
``sessions`` rows of one UID. A writer now takes an exclusive ``flock`` on
``<store>-lock`` when it opens the store and keeps it until it closes; a second writer
(ingest, replay or simulate) fails at once, naming the first. The kernel drops the lock
when its process ends, however it ends (SIGKILL too), so a lock is never stale; the
file itself stays, holding the last writer's pid. Readers never lock.

Where ``fcntl`` does not exist (Windows) there is no lock, as before.
"""

from __future__ import annotations

import os
from pathlib import Path

from f1dash_tui.errors import StoreUnavailableError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on the platforms CI runs
    fcntl = None  # type: ignore[assignment]


def lock_path(store_path: Path) -> Path:
    """The lock file of the store at ``store_path``."""
    return store_path.with_name(store_path.name + "-lock")


class WriterLock:
    """The exclusive writer lock of one store; ``release`` (or process exit) frees
    it. Raises StoreUnavailableError naming the holder when another has it."""

    def __init__(self, store_path: Path) -> None:
        self.path = lock_path(store_path)
        self._fd: int | None = None
        if fcntl is None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o664)
        except OSError as error:
            raise StoreUnavailableError(
                f"cannot create the writer lock {self.path}: {error.strerror or error}"
            ) from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _read_holder(fd)
            os.close(fd)
            raise StoreUnavailableError(
                f"another f1dash-tui ({holder}) is writing to {store_path}: one "
                "writer per store (ingest, replay or simulate), so stop it first or "
                "use another --sqlite-path"
            ) from error
        os.ftruncate(fd, 0)
        # The pid only: the command line may hold more than others should read.
        os.write(fd, f"pid {os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _read_holder(fd: int) -> str:
    """What the lock file says of its holder ("pid 1234")."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "another process"
