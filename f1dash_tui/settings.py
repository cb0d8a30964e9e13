"""The effective configuration as frozen dataclasses, shared by every layer.

``config.py`` builds a ``Settings`` from defaults, the TOML file, ``F1DASH_*``
environment variables and command-line options (in that order of increasing
precedence). Everything else only reads these dataclasses. The TOML keys are the
section and field names below (``[store] kind = "sqlite"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "f1dash-tui"


def default_sqlite_path() -> Path:
    """Where the embedded store lives unless configured: the user's data directory."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "telemetry.sqlite3"


def default_spool_dir() -> Path:
    """Where ingest spools rows while a HeavyDB server is unreachable."""
    return Path(platformdirs.user_state_dir(APP_NAME)) / "spool"


@dataclass(frozen=True)
class HeavyDBSettings:
    """Connection to a HeavyDB (formerly OmniSci/MapD) server."""

    host: str = "localhost"
    port: int = 6274
    user: str = "admin"
    password: str = field(default="", repr=False)
    """Secret: from the file, F1DASH_HEAVYDB_PASSWORD or a prompt, never a flag."""
    database: str = "heavyai"
    protocol: str = "binary"
    """binary, http or https."""
    tls_verify: bool = True
    """With https: verify the server's certificate."""
    tls_ca_file: str = ""
    """With https: a CA bundle to verify against (empty: the system's)."""
    connect_timeout_s: float = 5.0


@dataclass(frozen=True)
class StoreSettings:
    """Which store to use and where it is."""

    kind: str = "sqlite"
    """sqlite (embedded, the default) or heavydb."""
    sqlite_path: Path = field(default_factory=default_sqlite_path)
    heavydb: HeavyDBSettings = field(default_factory=HeavyDBSettings)


@dataclass(frozen=True)
class IngestSettings:
    """The UDP listener and the writer's batching."""

    # All interfaces: the game usually sends from another machine (console or PC).
    listen_host: str = "0.0.0.0"
    listen_port: int = 20777
    """The game's default telemetry port."""
    allowed_senders: tuple[str, ...] = ()
    """Sender IP addresses to accept; empty accepts every sender."""
    batch_max_s: float = 0.1
    """Flush a batch at least this often (the dashboard's freshness depends on it)."""
    batch_max_rows: int = 20_000
    queue_max_datagrams: int = 50_000
    spool_dir: Path = field(default_factory=default_spool_dir)


MIN_POLL_INTERVAL_S = 0.05
"""The fastest a dashboard polls: 20 Hz, a third of the game's 60 Hz send rate."""

MAX_LIVE_POLL_INTERVAL_S = 60.0
"""The slowest the live panels poll: a live view a minute old is as slow as it makes
sense (a larger value, up to 1e308, was taken and the panels never updated)."""

MAX_SLOW_POLL_INTERVAL_S = 600.0
"""The slowest best laps and pipeline health poll: ten minutes, a few laps."""


@dataclass(frozen=True)
class UISettings:
    """The dashboard."""

    live_poll_interval_s: float = 0.5
    """Timing tower, car panel, track map, lap compare."""
    slow_poll_interval_s: float = 5.0
    """Best laps and pipeline health."""
    theme: str = "textual-dark"
    units: str = "metric"
    """metric (km/h, degC) or imperial (mph, degF)."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, after precedence has been applied."""

    store: StoreSettings = field(default_factory=StoreSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    ui: UISettings = field(default_factory=UISettings)
    log_file: Path | None = None
    """Log file; None logs nowhere (never to the terminal the TUI draws on)."""
    log_level: str = "INFO"
