"""Shared fixtures: where the real captures are.

The real captures live in ../shared/data/f1-udp beside the checkout (CI lays a copy of
shared/ there). F1DASH_TEST_DATA overrides the location. The bundled Melbourne clip
inside the package is always available.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CAPTURE = REPO_ROOT / "f1dash_tui" / "data" / "melbourne-2026-race.pcap"


def _shared_data_dir() -> Path:
    override = os.environ.get("F1DASH_TEST_DATA")
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "data" / "f1-udp"


SHARED_DATA = _shared_data_dir()


@pytest.fixture(scope="session")
def f1_udp_dir() -> Path:
    """The folder of real captures (streams/ and packets/)."""
    if not (SHARED_DATA / "SOURCES.md").exists():
        pytest.fail(
            f"real captures not found at {SHARED_DATA}; set F1DASH_TEST_DATA to the "
            "f1-udp folder"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def melbourne_pcap() -> Path:
    """The bundled real capture: F1 25 (2026 pack), Melbourne race, 22 cars."""
    assert BUNDLED_CAPTURE.exists(), BUNDLED_CAPTURE
    return BUNDLED_CAPTURE


# Store fixtures parametrised over the store backends (tests/store_fixtures.py).
pytest_plugins = ["store_fixtures"]
