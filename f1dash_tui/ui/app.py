"""The Textual app: wiring of screens, pollers and the data they share.

``create_app`` is the one factory the CLI and the tests use.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from f1dash_tui.render.formatting import format_retry
from f1dash_tui.render.traces import (
    METRICS,
    Metric,
    PlotMarker,
    SparkStyle,
    next_metric,
)
from f1dash_tui.render.track_map import MapStyle
from f1dash_tui.settings import Settings
from f1dash_tui.store import Store
from f1dash_tui.store.snapshots import LapKey
from f1dash_tui.ui.live_data import LiveData
from f1dash_tui.ui.messages import (
    EventsUpdate,
    LiveFrame,
    PollFailed,
    PollPayload,
    PollSucceeded,
    ReferenceUpdate,
    SlowUpdate,
)
from f1dash_tui.ui.poll_jobs import events_job, live_job, reference_job, slow_job
from f1dash_tui.ui.pollers import Poller, StoreAccess
from f1dash_tui.ui.screens.base import DashboardScreen
from f1dash_tui.ui.screens.best_laps import BestLapsScreen
from f1dash_tui.ui.screens.compare import CompareScreen
from f1dash_tui.ui.screens.events import EventsScreen
from f1dash_tui.ui.screens.help import HelpScreen
from f1dash_tui.ui.screens.live import LiveScreen
from f1dash_tui.ui.widgets.list_table import ListTable
from f1dash_tui.ui.widgets.timing_tower import TimingTower

SCREEN_ORDER = ("live", "compare", "best", "events")
SCREEN_TITLES = {
    "live": "Live",
    "compare": "Lap compare",
    "best": "Best laps",
    "events": "Events",
}
POLL_INTERVALS_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
"""Steps for + and -: 0.1 s is the ingest batch time, below it nothing new arrives."""


PLOT_MARKERS: dict[MapStyle, PlotMarker] = {
    "braille": "braille",
    "block": "hd",
    "ascii": "dot",
}
"""plotext's marker for each glyph set (``hd`` is its half-block marker)."""


def glyphs_for_terminal(
    term: str | None = None, encoding: str | None = None
) -> MapStyle:
    """Which text glyphs the terminal can draw: braille, half blocks, or ASCII.

    The Linux console's 512-glyph font has the half blocks but no braille; a
    terminal that is not UTF-8 (or is ``dumb``/a VT100) gets plain ASCII.
    """
    term = os.environ.get("TERM", "") if term is None else term
    if encoding is None:
        encoding = getattr(sys.__stdout__, "encoding", None) or "utf-8"
    if "utf" not in encoding.lower() or term in ("dumb", "vt100", "vt220"):
        return "ascii"
    if term == "linux":
        return "block"
    return "braille"


class F1DashApp(App[None]):
    """The dashboard: four screens over one set of pollers and one LiveData."""

    CSS_PATH = "app.tcss"
    TITLE = "f1dash-tui"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "live": LiveScreen,
        "compare": CompareScreen,
        "best": BestLapsScreen,
        "events": EventsScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        # The footer has 80 columns at worst: it shows the keys a new user needs
        # (Tab, pause, ? and q, ~40 columns with the screen's own keys); the rest
        # are in the help screen (?) and the command palette.
        Binding("1", "show_screen('live')", "Live", show=False),
        Binding("2", "show_screen('compare')", "Compare", show=False),
        Binding("3", "show_screen('best')", "Best laps", show=False),
        Binding("4", "show_screen('events')", "Events", show=False),
        Binding("tab", "next_screen", "Next screen", priority=True),
        Binding("p", "toggle_pause", "Pause/resume"),
        Binding("plus,equals_sign", "slower", "Longer poll interval", show=False),
        Binding("minus", "faster", "Shorter poll interval", show=False),
        Binding("question_mark", "help", "Keys"),
        Binding("q", "quit", "Quit"),
        # Engineers reach for Ctrl-C first; Textual would only say "press ctrl+q".
        Binding("ctrl+c,ctrl+q", "quit", "Quit", show=False),
    ]

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run in the terminal, sized by the terminal itself.

        Textual sizes the screen with shutil.get_terminal_size(), which prefers the
        COLUMNS and LINES environment variables. A shell or tmux that exported them
        at another size (80x24 when tmux starts a command before sizing its window)
        would pin the dashboard to that size and ignore every resize, so on a real
        terminal they are dropped first.
        """
        stdout = sys.__stdout__
        if stdout is not None and stdout.isatty():
            os.environ.pop("COLUMNS", None)
            os.environ.pop("LINES", None)
        # Whatever the app exits with (snapshot tests exit with an SVG) is returned.
        return super().run(*args, **kwargs)

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        source_label: str = "",
        feed_name: str = "",
    ) -> None:
        super().__init__()
        self.settings = settings
        self.source_label = source_label
        self.feed_name = feed_name
        """What writes the store when not a separate ingest (the demo's "replay"):
        the header says it ended rather than "ingest not running"."""
        self.store_access = StoreAccess(settings.store, store)
        self.live = LiveData()
        self.clock: Callable[[], float] = time.time
        """Wall clock for data ages; tests fix it so snapshots are repeatable."""
        self.live_interval_s = settings.ui.live_poll_interval_s
        self.paused = False
        self.metric: Metric = METRICS[0]
        self.map_style: MapStyle = glyphs_for_terminal()
        self.spark_style: SparkStyle = "ascii" if self.map_style == "ascii" else "block"
        self.plot_marker: PlotMarker = PLOT_MARKERS[self.map_style]
        self.refresh_seconds: deque[float] = deque(maxlen=100_000)
        """How long applying each poll result took on the main thread (benchmark)."""
        self.refresh_cpu_seconds: deque[float] = deque(maxlen=100_000)
        """The main thread's CPU time for the same (wall time counts waiting for a
        core on a busy machine; this does not)."""
        self.packet_to_screen_s: deque[float] = deque(maxlen=100_000)
        """For each new write seen: time from ingest receiving the newest packet to
        the widgets showing it (benchmark)."""
        self._last_shown_packet_unix_s: float | None = None
        self.frames_on_screen: deque[tuple[float, int]] = deque(maxlen=100_000)
        """(wall time, lap-data frame) each time a new tower frame has been drawn:
        the benchmark matches them with the times ingest committed each frame."""
        slow = settings.ui.slow_poll_interval_s
        self.pollers: dict[str, Poller] = {
            "live": Poller(
                self, "live", lambda: self.live_interval_s, self._job(live_job)
            ),
            "events": Poller(
                self,
                "events",
                lambda: max(1.0, self.live_interval_s),
                self._job(events_job),
            ),
            "slow": Poller(self, "slow", lambda: slow, self._job(slow_job)),
            "reference": Poller(
                self, "reference", lambda: slow, self._job(reference_job)
            ),
        }
        for poller in self.pollers.values():
            poller.clock = lambda: self.clock()
            poller.is_store_missing = self.store_access.is_store_missing

    # ----------------------------------------------------------- lifecycle
    def on_mount(self) -> None:
        """Theme, first screen, pollers, and a 1 s tick for the age badges."""
        if self.settings.ui.theme in self.available_themes:
            self.theme = self.settings.ui.theme
        self.switch_mode("live")
        for poller in self.pollers.values():
            poller.start()
        self.set_interval(1.0, self._tick_ages, name="ages")

    def on_unmount(self) -> None:
        """Close the store if the app opened it."""
        self.store_access.close()

    def _tick_ages(self) -> None:
        self._show({"status"})

    def _job(
        self,
        builder: Callable[[LiveData, StoreAccess], Callable[[], PollPayload] | None],
    ) -> Callable[[], Callable[[], PollPayload] | None]:
        return lambda: builder(self.live, self.store_access)

    # ----------------------------------------------------------- results
    def on_poll_succeeded(self, message: PollSucceeded) -> None:
        """Apply a poll's snapshots, refresh the screen, schedule the next poll."""
        started = time.perf_counter()
        started_cpu = time.thread_time()
        parts = self._apply(message.payload)
        self.pollers[message.group].finished(ok=True)
        parts.add("status")
        self._show(parts)
        self.refresh_seconds.append(time.perf_counter() - started)
        self.refresh_cpu_seconds.append(time.thread_time() - started_cpu)
        if isinstance(message.payload, LiveFrame) and message.payload.tower:
            self.call_after_refresh(self._mark_on_screen, message.payload.tower.frame)
        if isinstance(message.payload, LiveFrame) and message.payload.session:
            written = message.payload.session.last_packet_unix_s
            if written is not None and written != self._last_shown_packet_unix_s:
                self._last_shown_packet_unix_s = written
                self.packet_to_screen_s.append(time.time() - written)

    def _mark_on_screen(self, frame: int) -> None:
        """After the screen refresh that drew ``frame`` (for the benchmark)."""
        if not self.frames_on_screen or self.frames_on_screen[-1][1] != frame:
            self.frames_on_screen.append((time.time(), frame))

    def on_poll_failed(self, message: PollFailed) -> None:
        """Keep the last good data, show the error and when the next try is."""
        self.pollers[message.group].finished(
            ok=False, error=message.error, store_missing=message.store_missing
        )
        self._show({"status"})

    def _apply(self, payload: PollPayload) -> set[str]:
        live = self.live
        if isinstance(payload, LiveFrame):
            parts, new_session = live.apply_live_frame(payload)
            if new_session:
                for group in ("events", "slow"):
                    self.pollers[group].poll_soon()
            return parts
        if isinstance(payload, EventsUpdate):
            return live.apply_events(payload)
        if isinstance(payload, SlowUpdate):
            parts = live.apply_slow(payload, read_unix_s=self.clock())
            if parts:
                self.pollers["reference"].poll_soon()
            return parts | {"slow"}
        if isinstance(payload, ReferenceUpdate):
            return live.apply_reference(payload)
        return set()

    # ----------------------------------------------------------- screenshots
    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Save screenshots (the palette's Screenshot) in the working directory.

        Textual's default is ~/Downloads, which a server reached over ssh rarely
        has: the save failed. Textual's notice then names the saved file in full.
        """
        if path is None:
            try:
                path = str(Path.cwd())
            except OSError:  # the directory was removed: the save fails and says so
                path = "."
        return super().deliver_screenshot(filename, path, time_format)

    def on_delivery_failed(self, event: events.DeliveryFailed) -> None:
        """Say why a screenshot could not be saved (Textual's notice does not)."""
        if event.name == "screenshot":
            event.prevent_default()  # instead of Textual's "Failed to save screenshot"
            self.notify(
                f"could not save the screenshot: {event.exception}",
                title="Screenshot",
                severity="error",
                markup=False,  # "[Errno 2] ..." is no markup
            )

    def trail(self) -> tuple[np.ndarray, np.ndarray]:
        """Every car's recent positions (the map's outline before a lap completes)."""
        return self.live.trail()

    # ----------------------------------------------------------- screen updates
    def _show(self, parts: set[str]) -> None:
        # A screen being taken down can still be mounted with its widgets already
        # removed (the 1 s age tick hit one): each show_data skips what is gone.
        if not self.screen_stack:
            return  # results can arrive before the first screen is up
        screen = self.screen
        if isinstance(screen, DashboardScreen) and screen.is_mounted:
            screen.show_data(parts)

    @property
    def packet_format(self) -> int | None:
        """The game's packet format of the session on screen (for enum names)."""
        return self.live.session.packet_format if self.live.session else None

    def data_age_s(self) -> float | None:
        """Seconds since ingest last wrote the session on screen."""
        session = self.live.session
        if session is None or session.last_packet_unix_s is None:
            return None
        return max(0.0, self.clock() - session.last_packet_unix_s)

    def polling_label(self) -> str:
        """``polling 0.5s`` or ``PAUSED``."""
        if self.paused:
            return "PAUSED (p resumes)"
        return f"polling {self.live_interval_s:g}s"

    def first_error(self) -> tuple[str, str] | None:
        """The first failing poller's (error, retry time), for the header.

        The poller's name (live, events...) is left out: every poller reads the
        same store, and the error says what is wrong with it.
        """
        now = self.clock()
        for poller in self.pollers.values():
            status = poller.status
            if status.error is not None:
                retry_in_s = (
                    None
                    if self.paused or status.next_try_unix_s is None
                    else status.next_try_unix_s - now
                )
                return status.error, format_retry(retry_in_s)
        return None

    # ----------------------------------------------------------- user actions
    def select_car(self, car_index: int) -> None:
        """Make ``car_index`` the selected car; its trace starts afresh."""
        if car_index == self.live.selected_car:
            return
        self.live.selected_car = car_index
        self.live.car_state = None
        self.live.samples = None
        self.live.bump("car")
        self.live.bump("live")
        self._show({"car", "live"})
        self.pollers["live"].poll_soon()

    def set_reference(self, key: LapKey) -> None:
        """Use this lap as the lap-compare reference."""
        self.live.reference_key = key
        self.pollers["reference"].poll_soon()
        name = next(
            (lap.driver_name for lap in self.live.best_laps if lap.key == key), ""
        )
        who = name or f"car {key.car_index}"
        self.notify(f"reference lap: {who} lap {key.lap_number}")

    def cycle_metric(self) -> None:
        """Next metric on the lap-compare screen."""
        self.metric = next_metric(self.metric)

    def action_show_screen(self, name: str) -> None:
        """Switch to one of the four screens."""
        if name in self.MODES and name != self.current_mode:
            self.switch_mode(name)

    def action_next_screen(self) -> None:
        """Tab: the next screen in the order live, compare, best laps, events."""
        if self.current_mode not in SCREEN_ORDER:
            return
        index = SCREEN_ORDER.index(self.current_mode)
        self.switch_mode(SCREEN_ORDER[(index + 1) % len(SCREEN_ORDER)])

    def action_toggle_pause(self) -> None:
        """Stop or restart every poller."""
        self.paused = not self.paused
        for poller in self.pollers.values():
            if self.paused:
                poller.pause()
            else:
                poller.resume()
        self._show({"status"})

    def _step_interval(self, step: int) -> None:
        """The next step of ``POLL_INTERVALS_S`` longer (+1) or shorter (-1) than
        the interval now; none further that way (--poll-interval can start past
        the steps): it stays."""
        now = self.live_interval_s
        if step > 0:
            self.live_interval_s = min(
                (s for s in POLL_INTERVALS_S if s > now), default=now
            )
        else:
            self.live_interval_s = max(
                (s for s in POLL_INTERVALS_S if s < now), default=now
            )
        # One notice at a time: pressing + five times must not stack five toasts.
        self.clear_notifications()
        self.notify(f"live panels poll every {self.live_interval_s:g} s")
        self._show({"status"})

    def action_slower(self) -> None:
        """Poll the live panels less often."""
        self._step_interval(+1)

    def action_faster(self) -> None:
        """Poll the live panels more often."""
        self._step_interval(-1)

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen(self.key_sections()))

    def action_cycle_metric(self) -> None:
        """Next lap-compare metric (from the command palette on any screen)."""
        self.cycle_metric()
        self._show({"car"})

    def action_pick_reference(self) -> None:
        """Open the reference-lap picker (goes to lap compare first)."""
        self.switch_mode("compare")
        screen = self.screen
        if isinstance(screen, CompareScreen):
            screen.action_pick_reference()

    def key_sections(self) -> list[tuple[str, Iterable[BindingType]]]:
        """Every screen's bindings, for the help screen."""
        return [
            ("everywhere", self.BINDINGS),
            ("live", LiveScreen.BINDINGS),
            ("live tower", TimingTower.BINDINGS),
            ("lap compare", CompareScreen.BINDINGS),
            ("best laps", BestLapsScreen.BINDINGS),
            ("events", EventsScreen.BINDINGS),
            ("lists", ListTable.BINDINGS),
        ]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette lists every action of the dashboard."""
        # Textual's own "Keys" opens its key panel, a second entry beside ours for
        # the same thing: the help screen (?) lists every screen's keys, keep it.
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        for name in SCREEN_ORDER:
            yield SystemCommand(
                f"Screen: {SCREEN_TITLES[name]}",
                f"Switch to the {SCREEN_TITLES[name]} screen",
                partial(self.action_show_screen, name),
            )
        yield SystemCommand("Next screen", "Tab", self.action_next_screen)
        yield SystemCommand("Pause / resume polling", "p", self.action_toggle_pause)
        yield SystemCommand("Longer poll interval", "+", self.action_slower)
        yield SystemCommand("Shorter poll interval", "-", self.action_faster)
        yield SystemCommand(
            "Cycle metric", "m: lap-compare metric", self.action_cycle_metric
        )
        yield SystemCommand(
            "Pick reference lap",
            "r: choose the lap-compare reference",
            self.action_pick_reference,
        )
        yield SystemCommand(
            "Select car under cursor",
            "Enter on the live screen",
            self._select_under_cursor,
        )
        yield SystemCommand("Keys", "?: every key of every screen", self.action_help)

    def _select_under_cursor(self) -> None:
        screen = self.screen
        if isinstance(screen, LiveScreen):
            screen.action_select_car()


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    source_label: str = "",
    feed_name: str = "",
) -> F1DashApp:
    """The dashboard app on ``store`` (or the configured store, opened read-only).

    ``source_label`` says where the data comes from ("real capture: ...", "synthetic
    race", "live UDP") and is shown in the header; ``feed_name`` names what feeds
    the store when it is not a separate ingest (the demo's "replay").
    """
    return F1DashApp(
        settings, store=store, source_label=source_label, feed_name=feed_name
    )
