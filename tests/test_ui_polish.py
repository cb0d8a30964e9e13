"""A new user's list of dashboard problems, each driven with Pilot on a real store.

The store is filled from the bundled Melbourne capture (the ``melbourne_store``
fixture of test_ui_app), so every value shown comes from the real pipeline.
"""

from __future__ import annotations

from pathlib import Path

import test_ui_app
from test_ui_app import plain, wait_until

from f1dash_tui.settings import Settings, StoreSettings
from f1dash_tui.ui.app import create_app
from f1dash_tui.ui.screens.help import HelpScreen

SIZE_LARGE = (160, 48)
melbourne_store = test_ui_app.melbourne_store  # the module-scoped store fixture


def _settings(path: Path) -> Settings:
    return Settings(store=StoreSettings(sqlite_path=path))


async def test_ctrl_c_quits_and_ctrl_q_still_does(melbourne_store: Path) -> None:
    for key in ("ctrl+c", "ctrl+q"):
        app = create_app(_settings(melbourne_store))
        async with app.run_test(size=SIZE_LARGE) as pilot:
            await pilot.press(key)
            await pilot.pause()
            assert app.return_code == 0, key
            assert not app._notifications, key  # no "press ctrl+q to quit" notice


async def test_help_lists_ctrl_c_and_explains_lap_time_letters(
    melbourne_store: Path,
) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        shown = " ".join(
            plain(static.content, 200) for static in app.screen.query("Static")
        )
        assert "ctrl+c" in shown
        assert "Quit" in shown
        # The tower's letters after lap times (formatting.lap_time_state) are
        # explained: P fastest of anyone, B the driver's own best.
        assert "fastest lap of anyone" in shown
        assert "own best lap" in shown
        lines = shown.splitlines()
        assert any(line.split()[:1] == ["P"] and "anyone" in line for line in lines)
        assert any(line.split()[:1] == ["B"] and "own best" in line for line in lines)
