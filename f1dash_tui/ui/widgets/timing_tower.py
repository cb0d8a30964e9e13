"""The timing tower: one row per car in position order (a DataTable)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from f1dash_tui.render import formatting as fmt
from f1dash_tui.render.palette import tyre_look
from f1dash_tui.store.snapshots import TimingTower, TowerRow
from f1dash_tui.ui import labels

COLUMNS = (
    ("pos", "P"),
    ("number", "No"),
    ("driver", "Driver"),
    ("gap", "Gap"),
    ("interval", "Int"),
    ("last", "Last"),
    ("best", "Best"),
    ("sector", "S"),
    ("tyre", "Tyre"),
    ("stops", "Pit"),
    ("penalties", "Pen"),
    ("tags", "Tags"),
)

SELECTED_MARK = "▶"


def tower_cells(
    row: TowerRow,
    *,
    is_selected: bool,
    overall_best_s: float | None,
    packet_format: int | None = None,
) -> list[Text | str]:
    """The cells of one tower row (pure: unit-testable without an app)."""
    driver = Text()
    driver.append("▌", style=labels.team_colour_of(packet_format, row.team_id))
    driver.append(row.driver_name or f"car {row.car_index}")
    last_state = fmt.lap_time_state(row.last_lap_s, row.best_lap_s, overall_best_s)
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
        str(row.race_number),
        driver,
        fmt.format_gap(row.gap_to_leader_s, is_leader=row.position == 1),
        fmt.format_gap(row.interval_s, is_leader=row.position == 1)
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


_STATE_STYLE = {"overall-best": "bold magenta", "personal-best": "green"}


class TimingTowerTable(DataTable[Text | str]):
    """The tower; up/down or j/k move the cursor, Enter selects the car."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.car_by_row: list[int] = []
        self._shown: tuple[int, int, int | None, int | None] | None = None
        self._cells: list[list[Text | str]] = []

    def on_mount(self) -> None:
        """Create the columns once."""
        for key, label in COLUMNS:
            self.add_column(label, key=key)
        self.fixed_columns = 3

    def show_tower(
        self,
        tower: TimingTower,
        selected_car: int | None,
        packet_format: int | None = None,
    ) -> None:
        """Show this tower, keeping the cursor on the same row.

        Only changed cells are updated when the running order is unchanged (the
        usual case between two polls); a new order rebuilds the rows.
        """
        shown = (tower.session_uid, tower.frame, selected_car, packet_format)
        if shown == self._shown:
            return
        self._shown = shown
        overall_best = min(
            (r.best_lap_s for r in tower.rows if r.best_lap_s), default=None
        )
        cells = [
            tower_cells(
                row,
                is_selected=row.car_index == selected_car,
                overall_best_s=overall_best,
                packet_format=packet_format,
            )
            for row in tower.rows
        ]
        order = [row.car_index for row in tower.rows]
        if order == self.car_by_row and len(cells) == len(self._cells):
            for row_index, (new, old) in enumerate(
                zip(cells, self._cells, strict=True)
            ):
                for column_index, (value, before) in enumerate(
                    zip(new, old, strict=True)
                ):
                    if value != before:
                        self.update_cell_at(Coordinate(row_index, column_index), value)
            self._cells = cells
            return
        cursor_row = self.cursor_row
        self.clear()
        for car_index, row_cells in zip(order, cells, strict=True):
            self.add_row(*row_cells, key=str(car_index))
        self.car_by_row = order
        self._cells = cells
        if self.row_count:
            self.move_cursor(row=min(cursor_row, self.row_count - 1), animate=False)
