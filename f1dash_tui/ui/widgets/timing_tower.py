"""The timing tower: one row per car in position order (a DataTable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from f1dash_tui.render import formatting as fmt
from f1dash_tui.render.gaps import ordered_gaps
from f1dash_tui.render.palette import tyre_look
from f1dash_tui.store.snapshots import TimingTower as TimingTowerSnapshot
from f1dash_tui.store.snapshots import TowerRow
from f1dash_tui.ui import labels
from f1dash_tui.ui.widgets.line_view import line_strip


@dataclass(frozen=True)
class TowerColumn:
    """A tower column: its title, width in cells and how early it gives way."""

    title: str
    width: int
    drop_rank: int
    """The tower takes columns in rank order while they fit: 0 always shows, and
    the highest rank is the first to go when the tower is narrow."""
    right: bool = False


COLUMNS = (
    TowerColumn("P", 3, 0, right=True),
    TowerColumn("No", 3, 7, right=True),
    TowerColumn("Driver", 12, 0),
    TowerColumn("Gap", 9, 0, right=True),
    # As wide as Gap: an interval can be over a minute too ("+1:05.400").
    TowerColumn("Int", 9, 1, right=True),
    TowerColumn("Last", 10, 2),
    TowerColumn("Best", 10, 4),
    TowerColumn("S", 2, 6),
    TowerColumn("Tyre", 5, 3),
    TowerColumn("Pit", 4, 8),
    TowerColumn("Pen", 6, 5),
    TowerColumn("Tags", 9, 9),
)
"""Order of the cells from ``tower_cells``; 93 cells wide with all columns (the
tower at 160 columns has 94), 53 with the first six (120 columns have 54)."""

SELECTED_MARK = "▶"
CELL_CACHE_MAX = 5000
"""Rendered cells kept: 22 cars x 12 columns change a few cells a poll; 5,000 is
minutes of racing, and the cache starts afresh when full."""


def _last_lap_confirmed(row: TowerRow) -> bool:
    """Whether the store's laps hold the last lap yet: ingest writes a lap once the
    game's lap history confirms it, seconds after the line. Until then a lap faster
    than the driver's best stored valid lap may still turn out invalid (a penalty
    for running wide comes with it), so it must not read P or B meanwhile."""
    if row.last_lap_s is None or row.last_lap_invalid:
        return True
    return row.best_lap_s is not None and row.last_lap_s >= row.best_lap_s - 1e-6


def tower_cells(
    row: TowerRow,
    *,
    is_selected: bool,
    overall_best_s: float | None,
    packet_format: int | None = None,
    gaps: tuple[float | None, float | None] | None = None,
) -> list[Text | str]:
    """The cells of one tower row (pure: unit-testable without an app).

    ``gaps`` is (gap to leader, interval) as ``ordered_gaps`` made them consistent
    with the order; without it the row's own (the game's) are shown.
    """
    gap_s, interval_s = (
        gaps if gaps is not None else (row.gap_to_leader_s, row.interval_s)
    )
    driver = Text()
    driver.append("▌", style=labels.team_colour_of(packet_format, row.team_id))
    driver.append(row.driver_name or f"car {row.car_index}")
    last_state = fmt.lap_time_state(
        row.last_lap_s,
        row.best_lap_s,
        overall_best_s,
        invalid=row.last_lap_invalid,
        confirmed=_last_lap_confirmed(row),
    )
    best_state = fmt.lap_time_state(row.best_lap_s, row.best_lap_s, overall_best_s)
    tyre = tyre_look(row.visual_tyre_compound)
    tyre_text = Text()
    tyre_text.append(tyre.letter, style=f"bold {tyre.colour}")
    if row.tyres_age_laps is not None:
        tyre_text.append(f" {row.tyres_age_laps}")
    pit = labels.PIT_TAG.get(row.pit_status, "")
    stops = "" if row.num_pit_stops is None else str(row.num_pit_stops)
    return [
        Text(
            f"{SELECTED_MARK if is_selected else ' '}{row.position:>2}",
            style="bold" if is_selected else "",
        ),
        "" if row.race_number is None else str(row.race_number),
        driver,
        fmt.format_gap(gap_s, is_leader=row.position == 1),
        fmt.format_gap(interval_s, is_leader=row.position == 1)
        if row.position != 1
        else "",
        _timed(row.last_lap_s, last_state),
        _timed(row.best_lap_s, best_state),
        f"S{row.sector + 1}",
        tyre_text,
        f"{pit} {stops}".strip(),
        fmt.format_penalties(row.penalties_s, row.total_warnings),
        labels.tower_tags(
            row.pit_status,
            row.driver_status,
            row.result_status,
            row.current_lap_invalid,
        ),
    ]


def _timed(seconds: float | None, state: fmt.TimeState) -> Text:
    text = Text(fmt.format_lap_time(seconds))
    if state.symbol.strip():
        text.append(f" {state.symbol}")
        text.stylize(_STATE_STYLE.get(state.style, ""))
    return text


_STATE_STYLE = {
    "overall-best": "bold magenta",
    "personal-best": "green",
    "invalid": "red",
}
_COLUMN_GAP = Segment(" ")


def visible_columns(width: int) -> list[int]:
    """Indices of the columns that fit in ``width`` cells, in the tower's order.

    Columns are taken by rank while they fit, one space apart; one too wide for the
    room left is skipped, so a narrower one of lower rank can still use it. A column
    shows whole or not at all: a cut Int ("+1:05.4") would read as another time.
    """
    shown: list[int] = []
    used = -1  # n columns need n - 1 spaces between them
    for index in sorted(range(len(COLUMNS)), key=lambda i: COLUMNS[i].drop_rank):
        column = COLUMNS[index]
        if column.drop_rank == 0 or used + 1 + column.width <= width:
            shown.append(index)
            used += 1 + column.width
    return sorted(shown)


def _title_line(columns: list[int]) -> Text:
    titles = (
        COLUMNS[i].title.rjust(COLUMNS[i].width)
        if COLUMNS[i].right
        else COLUMNS[i].title.ljust(COLUMNS[i].width)
        for i in columns
    )
    return Text(" ".join(titles), no_wrap=True, overflow="crop", end="", style="bold")


def tower_line(cells: list[Text | str], columns: list[int]) -> Text:
    """One tower row laid out in fixed-width columns, one space between them.

    Built as one string plus spans (no per-cell Text copies): it runs for 22 rows
    every poll, and the copy-and-pad version took most of the tower's render time.
    Every glyph the tower uses is one cell wide, so ``len`` is the width.
    """
    pieces: list[str] = []
    spans: list[Span] = []
    position = 0
    for index in columns:
        if pieces:
            pieces.append(" ")
            position += 1
        column = COLUMNS[index]
        cell = cells[index]
        plain = (cell if isinstance(cell, str) else cell.plain)[: column.width]
        padding = column.width - len(plain)
        start = position + (padding if column.right else 0)
        pieces.append(" " * padding + plain if column.right else plain + " " * padding)
        if isinstance(cell, Text):
            if cell.style:
                spans.append(Span(start, start + len(plain), cell.style))
            for span in cell.spans:
                if span.start < len(plain):
                    end = min(span.end, len(plain))
                    spans.append(Span(start + span.start, start + end, span.style))
        position += column.width
    return Text("".join(pieces), spans=spans, no_wrap=True, overflow="crop", end="")


class TimingTower(Widget, can_focus=True):
    """The tower: up/down or j/k move the cursor, Enter selects the car.

    A custom widget rather than a DataTable: the tower changes every poll in every
    row (gaps, distances), and re-laying a 22x12 DataTable cost ~5 ms per poll plus
    its per-cell rendering; this draws fixed-width lines in one pass.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("home", "cursor_to(0)", "First car", show=False),
        Binding("end", "cursor_to(-1)", "Last car", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("enter", "choose", "Select car"),
    ]
    DEFAULT_CSS = """
    TimingTower { height: 1fr; }
    """

    cursor_row: reactive[int] = reactive(0)

    class CarChosen(Message):
        """Enter was pressed on a car's row."""

        def __init__(self, car_index: int) -> None:
            super().__init__()
            self.car_index = car_index

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.car_by_row: list[int] = []
        self._cells: list[list[Text | str]] = []
        self._shown: tuple[int, int, int | None, int | None] | None = None
        self._top = 0
        self._strips: dict[tuple[object, ...], Strip] = {}
        self._cell_segments: dict[tuple[object, ...], list[Segment]] = {}
        self._base_style = Style()

    @property
    def row_count(self) -> int:
        """Cars in the tower."""
        return len(self._cells)

    def row_text(self, row_index: int) -> list[str]:
        """The plain text of each cell of a row (for tests and screen readers)."""
        return [
            cell.plain if isinstance(cell, Text) else cell
            for cell in self._cells[row_index]
        ]

    def show_tower(
        self,
        tower: TimingTowerSnapshot,
        selected_car: int | None,
        packet_format: int | None = None,
    ) -> None:
        """Show this tower (the cursor stays on the same row number)."""
        shown = (tower.session_uid, tower.frame, selected_car, packet_format)
        if shown == self._shown:
            return
        self._shown = shown
        overall_best = min(
            (r.best_lap_s for r in tower.rows if r.best_lap_s), default=None
        )
        old_cells = self._cells
        self._cells = [
            tower_cells(
                row,
                is_selected=row.car_index == selected_car,
                overall_best_s=overall_best,
                packet_format=packet_format,
                gaps=gaps,
            )
            for row, gaps in zip(tower.rows, ordered_gaps(tower.rows), strict=True)
        ]
        self.car_by_row = [row.car_index for row in tower.rows]
        if self.cursor_row >= len(self._cells):
            self.cursor_row = max(0, len(self._cells) - 1)
        if len(old_cells) != len(self._cells):
            self._strips.clear()
            self.refresh()
            return
        # Repaint only the rows whose cells changed (a car that did not move and
        # whose gap did not change keeps its line).
        changed = {
            index
            for index, (old, new) in enumerate(zip(old_cells, self._cells, strict=True))
            if old != new
        }
        if not changed:
            return
        for key in [key for key in self._strips if key[1] in changed]:
            del self._strips[key]
        width = max(1, self.content_size.width)
        self.refresh(
            *(
                Region(0, index - self._top + 1, width, 1)
                for index in sorted(changed)
                if 0 <= index - self._top < self.content_size.height - 1
            )
        )

    def watch_cursor_row(self) -> None:
        """Redraw with the cursor on its new row."""
        self.refresh()

    def action_cursor_down(self) -> None:
        """Next car."""
        if self.cursor_row < len(self._cells) - 1:
            self.cursor_row += 1

    def action_cursor_up(self) -> None:
        """Previous car."""
        if self.cursor_row > 0:
            self.cursor_row -= 1

    def action_cursor_to(self, row: int) -> None:
        """The first (0) or the last (-1) car."""
        if self._cells:
            self.cursor_row = row % len(self._cells)

    def action_cursor_page(self, pages: int) -> None:
        """As many cars down (1) or up (-1) as the tower shows at once."""
        if self._cells:
            rows_fit = max(1, self.content_size.height - 1)
            row = self.cursor_row + pages * rows_fit
            self.cursor_row = max(0, min(len(self._cells) - 1, row))

    def action_choose(self) -> None:
        """Tell the screen which car is under the cursor."""
        if 0 <= self.cursor_row < len(self.car_by_row):
            self.post_message(self.CarChosen(self.car_by_row[self.cursor_row]))

    def render_lines(self, crop: Region) -> list[Strip]:
        """Scroll to keep the cursor in view, then draw the lines (``render_line``)."""
        rows_fit = max(1, self.content_size.height - 1)
        if self.cursor_row < self._top:
            self._top = self.cursor_row
        elif self.cursor_row >= self._top + rows_fit:
            self._top = self.cursor_row - rows_fit + 1
        self._top = max(0, min(self._top, max(0, len(self._cells) - rows_fit)))
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """One line as a cached Strip: the title (y = 0) or a car's row.

        Lines are built once per tower snapshot, width and cursor state; a Strip
        straight from Rich segments skips the Text-to-Content conversion, which
        measured ~9 ms of the tower's ~11 ms per repaint.
        """
        width = self.content_size.width
        row_index = self._top + y - 1
        if y > 0 and row_index >= len(self._cells):
            return Strip.blank(width, self._base_style)
        is_cursor = y > 0 and row_index == self.cursor_row
        key = (y == 0, row_index, width, is_cursor, self.has_focus, self._base_style)
        strip = self._strips.get(key)
        if strip is None:
            columns = visible_columns(width)
            if y == 0:
                segments = list(_title_line(columns).render(self.app.console))
            else:
                segments = self._row_segments(self._cells[row_index], columns)
                if is_cursor:
                    cursor = (
                        Style(reverse=True) if self.has_focus else Style(underline=True)
                    )
                    segments = list(Segment.apply_style(segments, post_style=cursor))
            strip = line_strip(segments, width, self._base_style)
            self._strips[key] = strip
        return strip

    def _row_segments(
        self, cells: list[Text | str], columns: list[int]
    ) -> list[Segment]:
        """A row's segments from each cell's cached segments.

        Most cells (name, tyre, lap times) are the same from poll to poll; only gaps
        and a few others change, so a cell is laid out and rendered once and its
        segments reused: Text.render of whole lines was ~6 ms of every poll.
        """
        segments: list[Segment] = []
        cache = self._cell_segments
        for index in columns:
            if segments:
                segments.append(_COLUMN_GAP)
            cell = cells[index]
            key = (
                (index, cell)
                if isinstance(cell, str)
                else (index, cell.plain, cell.style, tuple(cell.spans))
            )
            cell_segments = cache.get(key)
            if cell_segments is None:
                if len(cache) > CELL_CACHE_MAX:
                    cache.clear()
                line = tower_line(cells, [index])
                cell_segments = list(line.render(self.app.console))
                cache[key] = cell_segments
            segments.extend(cell_segments)
        return list(Segment.simplify(segments))

    def on_focus(self) -> None:
        """The cursor shows reversed while the tower has focus."""
        self.refresh()

    def on_blur(self) -> None:
        """...and underlined when it does not."""
        self.refresh()
