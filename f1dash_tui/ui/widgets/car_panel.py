"""The selected car's panel: live values, lap sparklines, tyres, fuel, ERS, damage."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from f1dash_tui.render import formatting as fmt
from f1dash_tui.render.palette import tyre_look
from f1dash_tui.render.traces import SparkStyle, sparkline_by_distance
from f1dash_tui.store.snapshots import CarSamples, CarState, TowerRow
from f1dash_tui.ui import labels
from f1dash_tui.ui.widgets.line_view import LineView

MJ = 1_000_000.0


def car_panel_lines(
    row: TowerRow | None,
    state: CarState | None,
    samples: CarSamples | None,
    *,
    track_length_m: float,
    width: int,
    units: str,
    spark_style: SparkStyle = "block",
    compact: bool = False,
    packet_format: int | None = None,
) -> list[Text]:
    """The panel's rows for this car, one Text a line (pure; cached by the screen)."""
    if row is None:
        return [Text("no car selected: move with up/down or j/k, Enter selects")]
    title = Text()
    title.append("▌", style=labels.team_colour_of(packet_format, row.team_id))
    # Before the first Participants packet the car has no number, name or team:
    # it is "car N" as in the tower.
    number = "" if row.race_number is None else f" #{row.race_number}"
    title.append(f"P{row.position}{number} ", style="bold")
    title.append(row.driver_name or f"car {row.car_index}", style="bold")
    if row.team_id is not None:
        title.append(f"  {labels.team_name(packet_format, row.team_id)}")
    title.append(f"  lap {row.lap_number}")
    title.append(f"  S{row.sector + 1}")
    if row.current_lap_invalid:
        title.append("  X invalid", style="bold")
    lines: list[Text] = [title]

    live = Text()
    if state is not None:
        speed = fmt.format_speed(state.speed_kph, units)
        live.append(f"Speed {speed}", style="bold")
        live.append(f"  Gear {fmt.format_gear(state.gear)}")
        rpm = "—" if state.engine_rpm is None else f"{state.engine_rpm:,}"
        live.append(f"  RPM {rpm}")
        live.append(f"  DRS {labels.DRS_STATE.get(state.drs or 0, '—')}")
        live.append(f" T{fmt.format_percent(state.throttle, is_fraction=True)}")
        live.append(f" B{fmt.format_percent(state.brake, is_fraction=True)}")
    else:
        live.append("waiting for telemetry")
    lines.append(live)

    spark_width = max(10, width - 6)
    if samples is not None and len(samples.frame):
        for label, values, low, high in (
            ("spd", samples.speed_kph, 0.0, 360.0),
            ("thr", samples.throttle, 0.0, 1.0),
            ("brk", samples.brake, 0.0, 1.0),
        ):
            spark = Text(f"{label} ")
            spark.append(
                sparkline_by_distance(
                    samples.lap_distance_m,
                    values,
                    track_length_m,
                    spark_width,
                    low=low,
                    high=high,
                    style=spark_style,
                )
            )
            lines.append(spark)
    else:
        lines.append(Text("spd (no samples this lap yet)"))

    if state is not None:
        energy = (
            "—"
            if state.ers_store_energy_j is None
            else f"{state.ers_store_energy_j / MJ:.2f} MJ"
        )
        fuel = fmt.format_fuel(state.fuel_in_tank_kg, units)
        laps_left = (
            ""
            if state.fuel_remaining_laps is None
            else f" ({state.fuel_remaining_laps:+.1f} laps)"
        )
        tyre = tyre_look(row.visual_tyre_compound)
        mode = "—" if state.ers_deploy_mode is None else str(state.ers_deploy_mode)
        lines.append(
            Text(
                f"ERS {energy} mode {mode}  Fuel {fuel}{laps_left}"
                f"  Tyre {tyre.letter} {tyre.name}"
            )
        )
        if compact:
            lines.append(Text(_tyre_line(state)))
        else:
            lines.extend(Text(line) for line in _tyre_table(state, units))
            lines.append(Text(_damage_line(state)))
    return lines


def _tyre_table(state: CarState, units: str) -> list[str]:
    """Per-corner temperatures and wear, as fixed-width lines (a Rich Table cost
    more to render than the rest of the panel together)."""
    degrees = "°F" if units == "imperial" else "°C"

    def temperatures(
        values: tuple[float, float, float, float] | None,
    ) -> tuple[float, float, float, float] | None:
        if values is None or units != "imperial":
            return values
        rl, rr, fl, fr = (v * 9 / 5 + 32 for v in values)
        return (rl, rr, fl, fr)

    lines = [f"{'tyres':>9} {'FL':>5} {'FR':>5} {'RL':>5} {'RR':>5}"]
    for label, values in (
        (f"surf {degrees}", temperatures(state.tyres_surface_temperature_c)),
        (f"inner {degrees}", temperatures(state.tyres_inner_temperature_c)),
        ("wear %", state.tyres_wear_pct),
        (f"brake {degrees}", temperatures(state.brakes_temperature_c)),
    ):
        rl, rr, fl, fr = fmt.format_wheels(values)
        lines.append(f"{label:>9} {fl:>5} {fr:>5} {rl:>5} {rr:>5}")
    return lines


def _tyre_line(state: CarState) -> str:
    """Surface temperature and wear per corner on one line (short terminals)."""
    rl, rr, fl, fr = fmt.format_wheels(state.tyres_surface_temperature_c)
    wear_rl, wear_rr, wear_fl, wear_fr = fmt.format_wheels(state.tyres_wear_pct)
    return (
        f"tyres °C FL {fl} FR {fr} RL {rl} RR {rr}"
        f"  wear % {wear_fl}/{wear_fr}/{wear_rl}/{wear_rr}"
    )


def _damage_line(state: CarState) -> str:
    """Damage in one line of under 60 cells (the side column is 64 wide)."""

    def pct(value: float | None) -> str:
        return fmt.format_percent(value, is_fraction=False)

    wings = (
        f"wing L {pct(state.front_left_wing_damage_pct)}"
        f" R {pct(state.front_right_wing_damage_pct)}"
        f" rear {pct(state.rear_wing_damage_pct)}"
    )
    return (
        f"damage {wings} floor {pct(state.floor_damage_pct)}"
        f" eng {pct(state.engine_damage_pct)}"
        f" gbox {pct(state.gearbox_damage_pct)}"
    )


class CarPanel(LineView):
    """The selected car's values; rendered from snapshots by the screen. As tall as
    its rows; only rows whose values changed are repainted."""

    DEFAULT_CSS = """
    CarPanel { height: auto; border: round $primary; padding: 0 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(auto_height=True, wrap=True, **kwargs)
