#!/usr/bin/env python3
"""Save the README's screenshot: the live screen on the bundled real capture, as SVG.

Replays the capture into a temporary SQLite store at its recorded pace (as the demo
does), opens the dashboard headless at the given size, selects a car part-way through
the clip, and saves what the app draws.

Usage: scripts/screenshot.py [OUT.svg] [--size 160x48]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from f1dash_tui.demo import SOURCE_LABEL_REAL, DemoFeed, bundled_capture, demo_settings
from f1dash_tui.settings import Settings
from f1dash_tui.store import open_store
from f1dash_tui.ui.app import create_app

REPLAY_BEFORE_SHOT_S = 14.0
"""Seconds of the ~21 s clip to play first: far enough for a lap change (laps and
best-lap columns filled) and a long enough trace in the car panel."""
SETTLE_S = 2.0
"""After selecting the car: several 0.5 s live polls."""


async def capture(settings: Settings, out: Path, size: tuple[int, int]) -> None:
    app = create_app(settings, store=None, source_label=SOURCE_LABEL_REAL)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(REPLAY_BEFORE_SHOT_S - SETTLE_S)
        # Select the fourth car in the tower, as a race engineer would.
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause(SETTLE_S)
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/screenshot-live.svg", type=Path)
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    columns, rows = (int(part) for part in args.size.split("x"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="f1dash-shot-") as store_dir:
        settings = demo_settings(Settings(), Path(store_dir))
        open_store(settings.store).close()
        with bundled_capture() as capture_path:
            feed = DemoFeed(settings, capture_path=capture_path, loop=False, speed=1.0)
            feed.start()
            try:
                asyncio.run(capture(settings, args.out, (columns, rows)))
            finally:
                feed.stop()
        if feed.error is not None:
            raise SystemExit(f"replay failed: {feed.error}")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
