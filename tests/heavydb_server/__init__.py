"""A HeavyDB-wire-compatible test server backed by SQLite (tests only).

The real pyheavydb client talks to it over TCP with HeavyDB's Thrift binary protocol.
``HeavyDBTestServer`` runs it in a thread; ``HeavyDBServerProcess`` runs
``python -m tests.heavydb_server`` so a test can kill and restart it.
"""

from __future__ import annotations

from .backend import heavydb_backend
from .handler import SERVER_VERSION, HeavyDBTestHandler
from .process import HeavyDBServerProcess
from .server import HeavyDBTestServer

__all__ = [
    "SERVER_VERSION",
    "HeavyDBServerProcess",
    "HeavyDBTestHandler",
    "HeavyDBTestServer",
    "heavydb_backend",
]
