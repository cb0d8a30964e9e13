"""The HeavyDB entry of the parametrised store fixtures (tests/store_fixtures.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from f1dash_tui.settings import StoreSettings

from .server import HeavyDBTestServer

TEST_PASSWORD = 'p\'it;wall "pw" ñ'
"""Quotes, a semicolon and non-ASCII: a password travels intact through Thrift."""


@contextlib.contextmanager
def heavydb_backend(tmp_path: Path) -> Iterator[StoreSettings]:
    """A fresh HeavyDB test server (in a thread) and settings that reach it."""
    db_path = tmp_path / "heavydb-server.sqlite3"
    with HeavyDBTestServer(db_path, password=TEST_PASSWORD) as server:
        yield server.store_settings()
