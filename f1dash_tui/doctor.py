"""``f1dash-tui doctor``: is this machine ready to ingest and show telemetry?

Checks the store (reachable, schema version, SQLite's page check), the UDP port (free
to bind), the terminal (size, colours) and versions, each as one line. Only a failed
check makes the exit status non-zero; a warning (a small terminal, say) does not.
"""

from __future__ import annotations

import errno
import logging
import os
import platform
import shutil
import socket
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING

from f1dash_tui import __version__
from f1dash_tui.errors import F1DashError, StoreMissingError
from f1dash_tui.settings import Settings

if TYPE_CHECKING:
    from f1dash_tui.store.base import Store

logger = logging.getLogger(__name__)

OK = "ok"
WARN = "warn"
FAIL = "FAIL"

MIN_COLUMNS = 80
MIN_ROWS = 24
"""The smallest terminal every screen is laid out for."""

PACKAGES = ("textual", "rich", "click", "numpy", "dpkt", "plotext", "pyheavydb")


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: str
    detail: str


@dataclass
class Report:
    """Every check's result, in order."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status != FAIL for check in self.checks)

    def lines(self) -> list[str]:
        width = max((len(check.name) for check in self.checks), default=0)
        lines = [
            f"[{check.status:>4}] {check.name:<{width}}  {check.detail}"
            for check in self.checks
        ]
        failed = sum(check.status == FAIL for check in self.checks)
        warned = sum(check.status == WARN for check in self.checks)
        if failed:
            lines.append(f"{failed} problem(s) found")
        elif warned:
            lines.append(f"no problems; {warned} warning(s) above")
        else:
            lines.append("all good")
        return lines


def run_checks(settings: Settings) -> Report:
    """Run every check and collect the results."""
    return Report(
        [
            check_versions(),
            check_packages(),
            check_store(settings),
            check_udp_port(settings.ingest.listen_host, settings.ingest.listen_port),
            check_terminal_size(),
            check_colours(),
            check_theme(settings.ui.theme),
        ]
    )


def check_versions() -> Check:
    python = platform.python_version()
    status = OK if sys.version_info >= (3, 10) else FAIL
    return Check("versions", status, f"f1dash-tui {__version__}, Python {python}")


def check_packages() -> Check:
    found = []
    missing = []
    for package in PACKAGES:
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            missing.append(package)
    if missing:
        # pyheavydb is only needed for a HeavyDB store.
        status = FAIL if set(missing) - {"pyheavydb"} else WARN
        return Check("packages", status, "missing: " + ", ".join(missing))
    return Check("packages", OK, ", ".join(found))


def check_store(settings: Settings) -> Check:
    """Open the store read-only and read its schema version."""
    store_settings = settings.store
    if store_settings.kind == "sqlite":
        where = f"SQLite {store_settings.sqlite_path}"
        if not store_settings.sqlite_path.exists():
            from f1dash_tui.store.sqlite import creation_problem

            problem = creation_problem(store_settings.sqlite_path)
            if problem:
                return Check(
                    "store",
                    FAIL,
                    f"{where} cannot be created ({problem}); set store.sqlite_path "
                    "(--sqlite-path) to a file in a writable folder",
                )
            return Check(
                "store",
                WARN,
                f"{where} does not exist yet (ingest, replay or simulate creates it)",
            )
    else:
        heavydb = store_settings.heavydb
        where = f"HeavyDB {heavydb.host}:{heavydb.port}/{heavydb.database}"
    try:
        from f1dash_tui.store import open_store

        store = open_store(store_settings, read_only=True)
    except ImportError as error:
        return Check("store", FAIL, f"{where}: store support missing ({error})")
    except StoreMissingError as error:
        # A file without tables yet, as one a starting ingest has just created.
        logger.info("doctor: store check: %s", error)
        problem = None
        if store_settings.kind == "sqlite":
            from f1dash_tui.store.sqlite import open_problem

            problem = open_problem(store_settings.sqlite_path)
        if problem:
            # Empty and unwritable (/proc/version): no ingest can make a store in it.
            return Check(
                "store",
                FAIL,
                f"{where} is empty and cannot be written ({problem}); set "
                "store.sqlite_path (--sqlite-path) to a file in a writable folder",
            )
        return Check(
            "store",
            WARN,
            f"{where} is still empty (ingest, replay or simulate creates the store "
            "in it)",
        )
    except (F1DashError, OSError) as error:
        logger.info("doctor: store check failed: %s", error)
        return Check("store", FAIL, f"{where}: {error}")
    try:
        version = store.schema_version
        damage = _sqlite_damage(store) if store_settings.kind == "sqlite" else None
    except (F1DashError, OSError) as error:
        logger.info("doctor: store check failed: %s", error)
        return Check("store", FAIL, f"{where}: {error}")
    finally:
        store.close()
    if damage:
        return Check(
            "store",
            FAIL,
            f"{where} is damaged ({damage}); move it aside and start a new store "
            "(recordings replay into it)",
        )
    return Check("store", OK, f"{where}, schema version {version}, integrity ok")


def _sqlite_damage(store: Store) -> str | None:
    """SQLite's ``quick_check`` of every page (a few seconds a GB): the first
    problem it finds, or None. A damaged page goes unnoticed by opening the file,
    and by writes that do not touch it."""
    try:
        ((first,), *_) = store.fetch("PRAGMA quick_check(1)")
    except F1DashError as error:
        # A page too damaged to read fails the check itself.
        return str(error.__cause__ or error)
    if first == "ok":
        return None
    # The report is several lines under a "*** in database main ***" heading.
    found = [line for line in str(first).splitlines() if not line.startswith("***")]
    return "; ".join(found) or str(first)


def check_udp_port(host: str, port: int) -> Check:
    """Bind the listen address for a moment: can ingest receive there?

    A port in use is only a warning: a running ingest holds it, and that is the
    normal setup while doctor checks a dashboard's machine.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return Check(
                "udp port",
                WARN,
                f"{host}:{port} in use: fine if that is your running ingest; "
                "otherwise give ingest another port with `f1dash-tui ingest --listen "
                "HOST:PORT` (or listen_port under [ingest] in the config file)",
            )
        return Check("udp port", FAIL, f"{host}:{port} {error.strerror or error}")
    return Check("udp port", OK, f"{host}:{port} is free")


def check_terminal_size() -> Check:
    if not sys.stdout.isatty():
        return Check("terminal", WARN, "not a terminal (output is redirected)")
    size = shutil.get_terminal_size()
    detail = f"{size.columns}x{size.lines}"
    if size.columns < MIN_COLUMNS or size.lines < MIN_ROWS:
        return Check(
            "terminal", WARN, f"{detail}; {MIN_COLUMNS}x{MIN_ROWS} or larger fits best"
        )
    return Check("terminal", OK, detail)


def check_colours() -> Check:
    if os.environ.get("NO_COLOR"):
        return Check("colours", OK, "NO_COLOR is set: monochrome")
    from rich.console import Console

    # Judged from TERM/COLORTERM as a terminal would be, even when output is piped.
    colour_system = Console(force_terminal=True).color_system
    term = os.environ.get("TERM", "unset")
    if colour_system is None:
        return Check("colours", WARN, f"no colour support detected (TERM={term})")
    return Check("colours", OK, f"{colour_system} (TERM={term})")


def check_theme(theme: str) -> Check:
    """The configured theme is one Textual ships (config loading rejects others, so
    this fails only for settings built in code)."""
    from f1dash_tui.config import theme_names

    names = theme_names()
    if not names:
        return Check("theme", WARN, f"{theme} (Textual is not installed)")
    if theme not in names:
        return Check(
            "theme", FAIL, f"unknown theme {theme!r}; one of: {', '.join(names)}"
        )
    return Check("theme", OK, theme)
