"""Typed errors raised by the core and shown to the user as one line.

The core (telemetry, ingest, store) raises these; the CLI prints ``str(error)`` on
stderr and exits non-zero; the UI shows them in the panel that failed.
"""

from __future__ import annotations


class F1DashError(Exception):
    """An error a user can cause or fix; ``str()`` is the one-line message."""

    exit_code = 1


class ConfigError(F1DashError):
    """The configuration file, environment or options are invalid."""

    exit_code = 2


class StoreError(F1DashError):
    """The store could not be opened, reached or queried."""


class StoreUnavailableError(StoreError):
    """The store is (perhaps temporarily) unreachable; callers may retry."""


class StoreMissingError(StoreUnavailableError):
    """The SQLite store file is not there (yet, or any more) or has no tables yet:
    ingest creates it, so a viewer retries at its poll interval."""


class SchemaVersionError(StoreError):
    """The store was written by a different schema version."""


class CaptureError(F1DashError):
    """A capture file is missing, unreadable or not a pcap/pcapng file."""


class ListenError(F1DashError):
    """The UDP listener could not bind (port busy, bad address, permission)."""
