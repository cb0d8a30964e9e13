"""What every layout module provides, the helpers to write one, and the default
normalisation from a packet's raw fields to the columns of ``telemetry.columns``.

The registry convention (one module ``layouts/fYYYY.py`` per packetFormat)
--------------------------------------------------------------------------
Each module defines, at import time and with no other side effect:

- ``PACKET_FORMAT: int`` -- the header's packetFormat it decodes (e.g. 2025).
- ``HEADER: np.dtype`` -- the packet header; ``PACKET_ID_OFFSET: int`` -- byte offset
  of packetId inside it (3 in 2018, 5 in 2019-2022, 6 from 2023 on).
- ``LAYOUTS: dict[int, np.dtype]`` -- packetId -> the whole packet: little-endian,
  packed (no padding), the header as a nested field named ``header``, per-car arrays
  as sub-array fields of full length (20, 22 or 24 cars), field names the snake_case
  of the specification's ``m_`` names (``m_lastLapTimeInMS`` ->
  ``last_lap_time_in_ms``). Text is ``S<n>`` bytes; unions get overlapping fields.
- ``NORMALISERS: dict[int, Normaliser]`` (optional) -- packetId -> a function that
  overrides ``DEFAULT_NORMALISERS`` for that packet in this format.
- ``normalise_header(headers) -> dict[str, np.ndarray]`` (optional) -- overrides
  ``default_header_columns``, e.g. for formats without an overall frame identifier.

A normaliser is ``f(records) -> dict[kind, Rows]``: ``records`` is the numpy
structured array of n packets of one (format, id); it returns, per decoded kind
(a key of ``columns.TABLES`` or of ``EXTRA_TABLES`` below), the body columns and
``packet_row`` -- for each output row, which of the n packets it came from --
and, when every packet gives the same number of rows, ``rows_per_packet``. The
decoder then adds the header columns and ``datagram_index`` by that index and
casts every column to its contract dtype, filling columns a format does not send
(NaN for floats, -1 for integers). One packet may feed several kinds: before 2021
Car Status also yields ``car_damage`` rows. ``records`` lives in memory the decoder
reuses for the next chunk, so a normaliser returns views of it or new arrays and
keeps nothing; a unit conversion is returned as a ``Computed``, which the decoder
evaluates straight into its output column.

The default normalisers are written against the 2024+ field names and read only
what is there (``field_or`` fills what a format lacks), so a format module
overrides only the packets whose names or units differ. Units are decided from
the dtype where formats differ: integer direction vectors are divided by 32767,
integer (2026) g-forces by 1000.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from f1dash_tui.telemetry.columns import WHEELS, Column

# ---------------------------------------------------------------------------
# Writing layouts
# ---------------------------------------------------------------------------

_FIELD_TYPE = re.compile(r"^(?P<base>[A-Za-z_][A-Za-z0-9_]*)(?P<dims>(\[\d+\])*)$")


def struct(spec: str, **nested: np.dtype) -> np.dtype:
    """A packed little-endian struct from ``"name type name type ..."``.

    A type is a numpy code (``u1 i2 f4 f8 S32``) or the keyword name of a nested
    dtype, optionally followed by array dimensions: ``f4[4]``, ``Zone[21]``,
    ``u1[50][24]``.
    """
    tokens = spec.split()
    if len(tokens) % 2:
        raise ValueError(f"odd number of tokens in struct spec: {spec!r}")
    fields: list[tuple] = []
    for name, type_text in zip(tokens[::2], tokens[1::2], strict=True):
        match = _FIELD_TYPE.match(type_text)
        if match is None:
            raise ValueError(f"bad field type {type_text!r} for {name!r}")
        base = match["base"]
        dtype = nested[base] if base in nested else np.dtype("<" + base)
        dims = tuple(int(d) for d in re.findall(r"\d+", match["dims"] or ""))
        fields.append((name, dtype, dims) if dims else (name, dtype))
    return np.dtype(fields)


def union(itemsize: int, **members: np.dtype) -> np.dtype:
    """Overlapping fields at offset 0 (a C union) padded to ``itemsize`` bytes."""
    return np.dtype(
        {
            "names": list(members),
            "formats": list(members.values()),
            "offsets": [0] * len(members),
            "itemsize": itemsize,
        }
    )


def packet(header: np.dtype, spec: str = "", **nested: np.dtype) -> np.dtype:
    """A whole packet: ``header`` first, then the fields of ``spec``."""
    body = struct(spec, **nested) if spec else np.dtype([])
    fields = [("header", header)]
    fields += [(name, body[name]) for name in body.names or ()]
    return np.dtype(fields)


HEADER_2023 = struct(
    "packet_format u2 game_year u1 game_major_version u1 game_minor_version u1 "
    "packet_version u1 packet_id u1 session_uid u8 session_time f4 "
    "frame_identifier u4 overall_frame_identifier u4 player_car_index u1 "
    "secondary_player_car_index u1"
)
"""The 29-byte header of packetFormat 2023 and later."""


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    """A float column computed from raw fields, evaluated by the decoder straight
    into its output column (``fill``) rather than into a temporary array that it
    then copies: in the clip the time and direction columns' temporaries made
    over half of the page faults of a call (~400 of ~700).

    Returned by the helpers below in place of an array; ``evaluate()`` gives the
    array where no output column is at hand.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    fill: Callable[[np.ndarray], None]
    """Write the values into an array of ``shape`` and ``dtype``."""

    def evaluate(self) -> np.ndarray:
        """The values as a new array."""
        out = np.empty(self.shape, self.dtype)
        self.fill(out)
        return out


ColumnValues = np.ndarray | Computed
"""What a normaliser gives for a column: an array (often a view of the packets)
or a Computed."""


@dataclass(frozen=True)
class Rows:
    """Body columns of one decoded kind and, per row, the index of its packet."""

    columns: dict[str, Any]
    """Column name -> ``ColumnValues`` (``Any`` because normalisers build these
    dicts as literals mixing arrays and Computed, and a dict is invariant)."""
    packet_row: np.ndarray
    rows_per_packet: int = 0
    """If > 0, rows are packet-major with this many per packet (``packet_row`` is
    ``repeat(arange(n), rows_per_packet)``) and body columns may be given as
    (n, rows_per_packet) arrays: the decoder then writes them, and broadcasts the
    header columns, straight into the table (per-car kinds, Event, Session).
    ``packet_row`` and body columns may always be (n, cars) arrays flattened
    packet-major, as ``per_car_rows`` gives them."""


Normaliser = Callable[[np.ndarray], dict[str, Rows]]


def default_header_columns(headers: np.ndarray) -> dict[str, np.ndarray]:
    """Header columns (see ``columns.HEADER_COLUMNS``) of a 2023+ header array."""
    return {
        "packet_format": headers["packet_format"],
        "session_uid": headers["session_uid"].view("<i8"),
        "session_time_s": headers["session_time"].astype(np.float64),
        "frame": headers["frame_identifier"],
        "overall_frame": headers["overall_frame_identifier"],
        "player_car_index": headers["player_car_index"],
    }


def car_array(records: np.ndarray) -> np.ndarray:
    """The per-car array of a packet (the first struct sub-array of 20+ entries)
    as an (n packets, n cars) view; its fields are the per-car columns.

    Normalisers return (n, cars) arrays as they are: the decoder flattens each
    column packet-major (one row per car per packet). Flattening the struct
    array itself would copy every field, used or not (3x slower in the bench).
    """
    for name in records.dtype.names or ():
        subdtype = records.dtype[name]
        if subdtype.subdtype is not None:
            base, shape = subdtype.subdtype
            if base.names is not None and len(shape) == 1 and shape[0] >= 20:
                return records[name]
    raise ValueError(f"no per-car array in {records.dtype}")


def per_car_rows(records: np.ndarray, cars: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(packet_row, car_index)`` for an (n packets, n cars) array: both
    (n, n cars), packet-major when flattened. Read-only broadcast views, so no
    memory is written for them: per-car tables never read ``packet_row``, and
    the decoder broadcasts ``car_index`` straight into the table."""
    count, num_cars = cars.shape[0], cars.shape[1]
    packet_row = np.broadcast_to(np.arange(count)[:, None], (count, num_cars))
    car_index = np.broadcast_to(np.arange(num_cars, dtype=np.uint8), (count, num_cars))
    return packet_row, car_index


def field_or(values: np.ndarray, name: str, fill: float = np.nan) -> np.ndarray:
    """``values[name]`` or, if this format has no such field, ``fill`` per row."""
    if values.dtype.names is not None and name in values.dtype.names:
        return values[name]
    return np.full(values.shape, fill)


def wheel_field_or(values: np.ndarray, name: str) -> np.ndarray:
    """The wheel array ``values[name]`` or NaN wheels if the format lacks it."""
    if values.dtype.names is not None and name in values.dtype.names:
        return values[name]
    return np.full((*values.shape, len(WHEELS)), np.nan)


def wheels(prefix: str, values: np.ndarray, scale: float = 1.0) -> dict:
    """Four columns ``prefix_rl .. prefix_fr`` from a (..., 4) wheel array."""
    columns = {}
    for position, wheel in enumerate(WHEELS):
        column = values[..., position]
        columns[f"{prefix}_{wheel}"] = column * scale if scale != 1.0 else column
    return columns


def scaled(values: np.ndarray, factor: float | np.floating) -> Computed:
    """``values * factor``, e.g. an integer unit converted to float."""

    def fill(out: np.ndarray) -> None:
        np.multiply(values, factor, out=out)

    return Computed(values.shape, np.result_type(values, factor), fill)


def seconds_from_ms(milliseconds: np.ndarray) -> Computed:
    """Milliseconds (any integer type) as float64 seconds."""
    return scaled(milliseconds, 1e-3)


def seconds_from_parts(milliseconds: np.ndarray, minutes: np.ndarray) -> Computed:
    """A time sent as a milliseconds part plus a whole minutes part, in seconds."""

    def fill(out: np.ndarray) -> None:
        np.multiply(milliseconds, 1e-3, out=out)
        # Minutes parts are mostly 0 (sectors and gaps under a minute): adding
        # them only when present spares a temporary array.
        if minutes.any():
            out += minutes * 60.0

    return Computed(milliseconds.shape, np.dtype(np.float64), fill)


def direction(values: np.ndarray) -> np.ndarray | Computed:
    """A normalised direction component as float: int16 values are /32767."""
    if values.dtype.kind in "iu":
        return scaled(values, np.float32(1 / 32767))
    return values


def g_force(values: np.ndarray) -> np.ndarray | Computed:
    """A g-force component as float: quantised (int16, 2026) values are /1000."""
    if values.dtype.kind in "iu":
        return scaled(values, np.float32(1 / 1000))
    return values


_CONTROL_CHARACTERS = dict.fromkeys((*range(0x20), 0x7F, *range(0x80, 0xA0)), "\ufffd")
"""C0, DEL and C1 controls -> U+FFFD. Online players choose their own names: an ESC
or CSI in one would reach every dashboard's terminal as an escape sequence (clear
the screen, set the title, ...). No real name contains a control character."""


def _name_decoder() -> Callable[[bytes], str]:
    cache: dict[bytes, str] = {}

    def decode(raw: bytes) -> str:
        text = cache.get(raw)
        if text is None:
            # Names are NUL-terminated UTF-8; bytes after the NUL are garbage.
            text = raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")
            text = text.translate(_CONTROL_CHARACTERS)
            if len(cache) < 4096:  # bounded: names repeat, random bytes do not
                cache[raw] = text
        return text

    return decode


decode_name = _name_decoder()


def names(raw: np.ndarray) -> np.ndarray:
    """An object array of ``str`` from an ``S<n>`` array of NUL-terminated UTF-8."""
    # numpy strips trailing NULs from S values; split at the first NUL anyway,
    # because a name may be followed by stale bytes.
    flat = raw.reshape(-1).tolist()
    return np.array([decode_name(value) for value in flat], dtype=object)


def normalise_motion(records: np.ndarray) -> dict[str, Rows]:
    """Motion: one row per car per packet."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns: dict[str, ColumnValues] = {"car_index": car_index}
    for axis in "xyz":
        columns[f"world_position_{axis}_m"] = cars[f"world_position_{axis}"]
        columns[f"world_velocity_{axis}_mps"] = cars[f"world_velocity_{axis}"]
        columns[f"world_forward_dir_{axis}"] = direction(
            cars[f"world_forward_dir_{axis}"]
        )
        columns[f"world_right_dir_{axis}"] = direction(cars[f"world_right_dir_{axis}"])
    for component in ("lateral", "longitudinal", "vertical"):
        columns[f"g_force_{component}"] = g_force(cars[f"g_force_{component}"])
    for angle in ("yaw", "pitch", "roll"):
        columns[f"{angle}_rad"] = cars[angle]
    return {"motion": Rows(columns, packet_row, cars.shape[1])}


def normalise_session(records: np.ndarray) -> dict[str, Rows]:
    """Session: one row per packet."""
    columns = {
        "weather": records["weather"],
        "track_temperature_c": records["track_temperature"],
        "air_temperature_c": records["air_temperature"],
        "total_laps": records["total_laps"],
        "track_length_m": records["track_length"],
        "session_type": records["session_type"],
        "track_id": records["track_id"],
        "formula": records["formula"],
        "session_time_left_s": records["session_time_left"],
        "session_duration_s": records["session_duration"],
        "pit_speed_limit_kph": records["pit_speed_limit"],
        "game_paused": records["game_paused"],
        "is_spectating": records["is_spectating"],
        "spectator_car_index": records["spectator_car_index"],
        "safety_car_status": records["safety_car_status"],
        "network_game": records["network_game"],
        "sector2_lap_distance_start_m": field_or(records, "sector2_lap_distance_start"),
        "sector3_lap_distance_start_m": field_or(records, "sector3_lap_distance_start"),
    }
    return {"session": Rows(columns, np.arange(len(records)), 1)}


def normalise_lap_data(records: np.ndarray) -> dict[str, Rows]:
    """Lap Data (2024+ names: times as milliseconds and minutes parts)."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "last_lap_time_s": seconds_from_ms(cars["last_lap_time_in_ms"]),
        "current_lap_time_s": seconds_from_ms(cars["current_lap_time_in_ms"]),
        "sector1_time_s": seconds_from_parts(
            cars["sector1_time_ms_part"], cars["sector1_time_minutes_part"]
        ),
        "sector2_time_s": seconds_from_parts(
            cars["sector2_time_ms_part"], cars["sector2_time_minutes_part"]
        ),
        "delta_to_car_in_front_s": seconds_from_parts(
            cars["delta_to_car_in_front_ms_part"],
            cars["delta_to_car_in_front_minutes_part"],
        ),
        "delta_to_race_leader_s": seconds_from_parts(
            cars["delta_to_race_leader_ms_part"],
            cars["delta_to_race_leader_minutes_part"],
        ),
        **lap_data_common(cars),
    }
    return {"lap_data": Rows(columns, packet_row, cars.shape[1])}


def lap_data_common(cars: np.ndarray) -> dict[str, ColumnValues]:
    """Lap Data columns whose fields kept their name and unit from 2021 to 2026."""
    return {
        "lap_distance_m": cars["lap_distance"],
        "total_distance_m": cars["total_distance"],
        "safety_car_delta_s": cars["safety_car_delta"],
        "car_position": cars["car_position"],
        "current_lap_num": cars["current_lap_num"],
        "pit_status": cars["pit_status"],
        "num_pit_stops": cars["num_pit_stops"],
        "sector": cars["sector"],
        "current_lap_invalid": cars["current_lap_invalid"],
        "penalties_s": cars["penalties"],
        "total_warnings": cars["total_warnings"],
        "grid_position": cars["grid_position"],
        "driver_status": cars["driver_status"],
        "result_status": cars["result_status"],
        "pit_lane_timer_active": cars["pit_lane_timer_active"],
        "pit_lane_time_in_lane_s": seconds_from_ms(cars["pit_lane_time_in_lane_in_ms"]),
        "pit_stop_timer_s": seconds_from_ms(cars["pit_stop_timer_in_ms"]),
        "speed_trap_fastest_kph": field_or(cars, "speed_trap_fastest_speed"),
    }


# Event codes -> which union member carries their details and how its fields map
# to event columns. Codes absent here (SSTA, SEND, DRSE, CHQF, LGOT, RDFL) carry
# no details. A member or field the format lacks is skipped (the column stays -1
# or NaN), so one table serves every format.
EVENT_DETAILS: dict[str, tuple[str, dict[str, str]]] = {
    "FTLP": ("fastest_lap", {"vehicle_idx": "vehicle_index", "lap_time": "lap_time_s"}),
    "RTMT": ("retirement", {"vehicle_idx": "vehicle_index", "reason": "reason"}),
    "DRSD": ("drs_disabled", {"reason": "reason"}),
    "TMPT": ("team_mate_in_pits", {"vehicle_idx": "vehicle_index"}),
    "RCWN": ("race_winner", {"vehicle_idx": "vehicle_index"}),
    "PENA": (
        "penalty",
        {
            "penalty_type": "penalty_type",
            "infringement_type": "infringement_type",
            "vehicle_idx": "vehicle_index",
            "other_vehicle_idx": "other_vehicle_index",
            "time": "time_s",
            "lap_num": "lap_number",
            "places_gained": "places_gained",
        },
    ),
    "SPTP": ("speed_trap", {"vehicle_idx": "vehicle_index", "speed": "speed_kph"}),
    "STLG": ("start_lights", {"num_lights": "num_lights"}),
    "DTSV": ("drive_through_penalty_served", {"vehicle_idx": "vehicle_index"}),
    "SGSV": (
        "stop_go_penalty_served",
        {"vehicle_idx": "vehicle_index", "stop_time": "time_s"},
    ),
    "FLBK": (
        "flashback",
        {
            "flashback_frame_identifier": "flashback_frame",
            "flashback_session_time": "flashback_session_time_s",
        },
    ),
    "BUTN": ("buttons", {"button_status": "button_status"}),
    "OVTK": (
        "overtake",
        {
            "overtaking_vehicle_idx": "vehicle_index",
            "being_overtaken_vehicle_idx": "other_vehicle_index",
        },
    ),
    "SCAR": (
        "safety_car",
        {"safety_car_type": "safety_car_type", "event_type": "safety_car_event_type"},
    ),
    "COLL": (
        "collision",
        {"vehicle1_idx": "vehicle_index", "vehicle2_idx": "other_vehicle_index"},
    ),
}

_EVENT_INT_COLUMNS = (
    "vehicle_index",
    "other_vehicle_index",
    "penalty_type",
    "infringement_type",
    "lap_number",
    "places_gained",
    "num_lights",
    "flashback_frame",
    "button_status",
    "safety_car_type",
    "safety_car_event_type",
    "reason",
)
_EVENT_FLOAT_COLUMNS = ("lap_time_s", "speed_kph", "time_s", "flashback_session_time_s")


def normalise_event(records: np.ndarray) -> dict[str, Rows]:
    """Event: one row per packet, the details of its code in the event columns."""
    count = len(records)
    codes = np.array(
        [raw.decode("ascii", errors="replace") for raw in records["event_string_code"]],
        dtype=object,
    )
    columns: dict[str, np.ndarray] = {"event_code": codes}
    for name in _EVENT_INT_COLUMNS:
        columns[name] = np.full(count, -1, dtype=np.int64)
    for name in _EVENT_FLOAT_COLUMNS:
        columns[name] = np.full(count, np.nan)
    details = records["event_details"]
    members = details.dtype.names or ()
    for code in set(codes.tolist()):
        if code not in EVENT_DETAILS:
            continue
        member, mapping = EVENT_DETAILS[code]
        if member not in members:
            continue
        mask = codes == code
        values = details[member][mask]
        for field, column in mapping.items():
            if field in (values.dtype.names or ()):
                columns[column][mask] = values[field]
    for column in ("vehicle_index", "other_vehicle_index"):
        # 255 is the spec's "no car" (e.g. a penalty with no other car involved).
        columns[column][columns[column] == 255] = -1
    return {"event": Rows(columns, np.arange(count), 1)}


def normalise_participants(records: np.ndarray) -> dict[str, Rows]:
    """Participants: one row per car slot per packet (inactive slots included)."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    driver_id = cars["driver_id"].astype(np.int32)
    # 2026 widened driverId to uint16 with 65535 for a network human; the column
    # keeps the older 255 for that, so one value means it in every format.
    driver_id[driver_id == 65535] = 255
    network_id = cars["network_id"].astype(np.int32)
    network_id[network_id > 32767] = -1  # the contract column is int16
    columns = {
        "car_index": car_index,
        "num_active_cars": records["num_active_cars"][packet_row],
        "ai_controlled": cars["ai_controlled"],
        "driver_id": driver_id,
        "network_id": network_id,
        "team_id": cars["team_id"],
        "my_team": cars["my_team"],
        "race_number": cars["race_number"],
        "nationality": cars["nationality"],
        "name": names(cars["name"]),
        "your_telemetry": cars["your_telemetry"],
        "platform": field_or(cars, "platform", -1),
    }
    return {"participants": Rows(columns, packet_row, cars.shape[1])}


def normalise_car_telemetry(records: np.ndarray) -> dict[str, Rows]:
    """Car Telemetry: one row per car per packet; clutch 0-100 becomes 0..1."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "speed_kph": cars["speed"],
        "throttle": cars["throttle"],
        "steer": cars["steer"],
        "brake": cars["brake"],
        "clutch": scaled(cars["clutch"], np.float32(0.01)),
        "gear": cars["gear"],
        "engine_rpm": cars["engine_rpm"],
        "drs": cars["drs"],
        "rev_lights_percent": cars["rev_lights_percent"],
        **wheels("brakes_temperature_c", cars["brakes_temperature"]),
        **wheels("tyres_surface_temperature_c", cars["tyres_surface_temperature"]),
        **wheels("tyres_inner_temperature_c", cars["tyres_inner_temperature"]),
        "engine_temperature_c": cars["engine_temperature"],
        **wheels("tyres_pressure_psi", cars["tyres_pressure"]),
    }
    return {"car_telemetry": Rows(columns, packet_row, cars.shape[1])}


def normalise_car_status(records: np.ndarray) -> dict[str, Rows]:
    """Car Status (2021+: damage moved to its own packet)."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    return {
        "car_status": Rows(
            car_status_columns(cars, car_index), packet_row, cars.shape[1]
        )
    }


def car_status_columns(cars: np.ndarray, car_index: np.ndarray) -> dict:
    """The car_status columns of a per-car Car Status array (names 2020-2026)."""
    return {
        "car_index": car_index,
        "traction_control": cars["traction_control"],
        "anti_lock_brakes": cars["anti_lock_brakes"],
        "fuel_mix": cars["fuel_mix"],
        "front_brake_bias_pct": cars["front_brake_bias"],
        "pit_limiter_status": cars["pit_limiter_status"],
        "fuel_in_tank_kg": cars["fuel_in_tank"],
        "fuel_capacity_kg": cars["fuel_capacity"],
        "fuel_remaining_laps": cars["fuel_remaining_laps"],
        "max_rpm": cars["max_rpm"],
        "idle_rpm": cars["idle_rpm"],
        "max_gears": cars["max_gears"],
        "drs_allowed": cars["drs_allowed"],
        "drs_activation_distance_m": field_or(cars, "drs_activation_distance", -1),
        "actual_tyre_compound": cars["actual_tyre_compound"],
        "visual_tyre_compound": cars["visual_tyre_compound"],
        "tyres_age_laps": field_or(cars, "tyres_age_laps", -1),
        "vehicle_fia_flags": cars["vehicle_fia_flags"],
        "ers_store_energy_j": cars["ers_store_energy"],
        "ers_deploy_mode": cars["ers_deploy_mode"],
        "ers_harvested_this_lap_mguk_j": cars["ers_harvested_this_lap_mguk"],
        "ers_harvested_this_lap_mguh_j": cars["ers_harvested_this_lap_mguh"],
        "ers_deployed_this_lap_j": cars["ers_deployed_this_lap"],
    }


def normalise_final_classification(records: np.ndarray) -> dict[str, Rows]:
    """Final Classification: one row per car slot per packet."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "position": cars["position"],
        "num_laps": cars["num_laps"],
        "grid_position": cars["grid_position"],
        "points": cars["points"],
        "num_pit_stops": cars["num_pit_stops"],
        "result_status": cars["result_status"],
        "best_lap_time_s": seconds_from_ms(cars["best_lap_time_in_ms"]),
        "total_race_time_s": cars["total_race_time"],
        "penalties_time_s": cars["penalties_time"],
        "num_penalties": cars["num_penalties"],
        "num_tyre_stints": cars["num_tyre_stints"],
    }
    return {"final_classification": Rows(columns, packet_row, cars.shape[1])}


def normalise_car_damage(records: np.ndarray) -> dict[str, Rows]:
    """Car Damage (2021+)."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    return {
        "car_damage": Rows(
            car_damage_columns(cars, car_index), packet_row, cars.shape[1]
        )
    }


def car_damage_columns(cars: np.ndarray, car_index: np.ndarray) -> dict:
    """The car_damage columns of a per-car damage array (names 2021-2026)."""
    return {
        "car_index": car_index,
        **wheels("tyres_wear_pct", cars["tyres_wear"]),
        **wheels("tyres_damage_pct", cars["tyres_damage"]),
        **wheels("brakes_damage_pct", wheel_field_or(cars, "brakes_damage")),
        "front_left_wing_damage_pct": cars["front_left_wing_damage"],
        "front_right_wing_damage_pct": cars["front_right_wing_damage"],
        "rear_wing_damage_pct": cars["rear_wing_damage"],
        "floor_damage_pct": field_or(cars, "floor_damage"),
        "diffuser_damage_pct": field_or(cars, "diffuser_damage"),
        "sidepod_damage_pct": field_or(cars, "sidepod_damage"),
        "drs_fault": field_or(cars, "drs_fault", -1),
        "ers_fault": field_or(cars, "ers_fault", -1),
        "gearbox_damage_pct": cars["gear_box_damage"],
        "engine_damage_pct": cars["engine_damage"],
    }


def normalise_session_history(records: np.ndarray) -> dict[str, Rows]:
    """Session History (2024+ names): one row per lap present (numLaps of 100)."""
    packet_row, lap_offset, laps = laps_present(records)
    sector_times_s = [
        seconds_from_parts(
            laps[f"sector{n}_time_ms_part"], laps[f"sector{n}_time_minutes_part"]
        )
        for n in (1, 2, 3)
    ]
    return {
        "session_history": session_history_rows(
            records, packet_row, lap_offset, laps, sector_times_s
        )
    }


def laps_present(records: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(packet_row, lap_offset, laps)`` of laps 1..numLaps of each Session
    History packet, laps a 1-D copy of just those entries of the 100-lap arrays.

    Converting only the laps present, not all 100 and then masking, made the
    normaliser ~4x faster on the clip (a car has driven ~5 laps of 100).
    """
    laps = records["lap_history_data"]
    max_laps = laps.shape[1]
    num_laps = np.minimum(records["num_laps"], max_laps)
    present = np.arange(max_laps)[None, :] < num_laps[:, None]
    packet_row, lap_offset = np.nonzero(present)
    return packet_row, lap_offset, laps[packet_row, lap_offset]


def session_history_rows(
    records: np.ndarray,
    packet_row: np.ndarray,
    lap_offset: np.ndarray,
    laps: np.ndarray,
    sector_times_s: Sequence[ColumnValues],
) -> Rows:
    """Rows for the laps from ``laps_present`` (one per lap) and their sector
    times in seconds."""
    columns = {
        "car_index": records["car_idx"][packet_row],
        "lap_number": lap_offset + 1,
        "lap_time_s": seconds_from_ms(laps["lap_time_in_ms"]),
        "sector1_time_s": sector_times_s[0],
        "sector2_time_s": sector_times_s[1],
        "sector3_time_s": sector_times_s[2],
        "lap_valid_flags": laps["lap_valid_bit_flags"],
        "best_lap_time_lap_num": records["best_lap_time_lap_num"][packet_row],
    }
    return Rows(columns, packet_row)


# --- kinds outside columns.TABLES -------------------------------------------


def _extra(*columns: Column) -> tuple[Column, ...]:
    return columns


def _wheel_columns(prefix: str, dtype: str, unit: str) -> tuple[Column, ...]:
    return tuple(Column(f"{prefix}_{wheel}", dtype, unit) for wheel in WHEELS)


_CAR = Column("car_index", "u1", "", "index of the car in the packet's arrays")

EXTRA_TABLES: dict[str, tuple[Column, ...]] = {
    "car_setups": _extra(
        _CAR,
        Column("front_wing", "i2"),
        Column("rear_wing", "i2"),
        Column("on_throttle_pct", "i2", "%", "differential on throttle"),
        Column("off_throttle_pct", "i2", "%", "differential off throttle"),
        Column("front_camber_deg", "f4", "deg"),
        Column("rear_camber_deg", "f4", "deg"),
        Column("front_toe_deg", "f4", "deg"),
        Column("rear_toe_deg", "f4", "deg"),
        Column("front_suspension", "i2"),
        Column("rear_suspension", "i2"),
        Column("front_anti_roll_bar", "i2"),
        Column("rear_anti_roll_bar", "i2"),
        Column("front_suspension_height", "i2"),
        Column("rear_suspension_height", "i2"),
        Column("brake_pressure_pct", "i2", "%"),
        Column("brake_bias_pct", "i2", "%"),
        Column("engine_braking_pct", "i2", "%", "2024+"),
        *_wheel_columns("tyre_pressure_psi", "f4", "psi"),
        Column("ballast", "i2"),
        Column("fuel_load_kg", "f4", "kg"),
    ),
    "lobby_info": _extra(
        _CAR,
        Column("num_players", "i2"),
        Column("ai_controlled", "i2"),
        Column("team_id", "i4", "", "65535 = no team selected (2026)"),
        Column("nationality", "i2"),
        Column("platform", "i2"),
        Column("name", "O"),
        Column("car_number", "i2"),
        Column("your_telemetry", "i2"),
        Column("ready_status", "i2", "", "0 not ready, 1 ready, 2 spectating"),
    ),
    "tyre_sets": _extra(
        _CAR,
        Column("set_index", "u1", "", "0-12 dry, 13-19 wet"),
        Column("actual_tyre_compound", "i2"),
        Column("visual_tyre_compound", "i2"),
        Column("wear_pct", "i2", "%"),
        Column("available", "i2"),
        Column("recommended_session", "i2"),
        Column("life_span_laps", "i2", "laps"),
        Column("usable_life_laps", "i2", "laps"),
        Column("lap_delta_time_s", "f8", "s", "vs the fitted set"),
        Column("fitted", "i2"),
    ),
    "motion_ex": _extra(
        Column("car_index", "u1", "", "the player's car (motion ex is player only)"),
        *_wheel_columns("suspension_position", "f4", ""),
        *_wheel_columns("suspension_velocity", "f4", ""),
        *_wheel_columns("suspension_acceleration", "f4", ""),
        *_wheel_columns("wheel_speed", "f4", ""),
        *_wheel_columns("wheel_slip_ratio", "f4", ""),
        *_wheel_columns("wheel_slip_angle", "f4", ""),
        *_wheel_columns("wheel_lat_force", "f4", ""),
        *_wheel_columns("wheel_long_force", "f4", ""),
        *_wheel_columns("wheel_vert_force", "f4", ""),
        Column("height_of_cog_above_ground_m", "f4", "m"),
        Column("local_velocity_x_mps", "f4", "m/s"),
        Column("local_velocity_y_mps", "f4", "m/s"),
        Column("local_velocity_z_mps", "f4", "m/s"),
        Column("angular_velocity_x_radps", "f4", "rad/s"),
        Column("angular_velocity_y_radps", "f4", "rad/s"),
        Column("angular_velocity_z_radps", "f4", "rad/s"),
        Column("angular_acceleration_x_radps2", "f4", "rad/s2"),
        Column("angular_acceleration_y_radps2", "f4", "rad/s2"),
        Column("angular_acceleration_z_radps2", "f4", "rad/s2"),
        Column("front_wheels_angle_rad", "f4", "rad"),
        Column("front_aero_height_m", "f4", "m", "2024+"),
        Column("rear_aero_height_m", "f4", "m", "2024+"),
        Column("front_roll_angle_rad", "f4", "rad", "2024+"),
        Column("rear_roll_angle_rad", "f4", "rad", "2024+"),
        Column("chassis_yaw_rad", "f4", "rad", "2024+"),
        Column("chassis_pitch_rad", "f4", "rad", "2025+"),
        *_wheel_columns("wheel_camber_rad", "f4", "rad"),
        *_wheel_columns("wheel_camber_gain_rad", "f4", "rad"),
    ),
    "time_trial": _extra(
        Column("data_set", "u1", "", "0 player session best, 1 personal best, 2 rival"),
        _CAR,
        Column("team_id", "i4"),
        Column("lap_time_s", "f8", "s"),
        Column("sector1_time_s", "f8", "s"),
        Column("sector2_time_s", "f8", "s"),
        Column("sector3_time_s", "f8", "s"),
        Column("traction_control", "i2"),
        Column("gearbox_assist", "i2"),
        Column("anti_lock_brakes", "i2"),
        Column("equal_car_performance", "i2"),
        Column("custom_setup", "i2"),
        Column("valid", "i2"),
    ),
    "lap_positions": _extra(
        _CAR,
        Column("lap_number", "i2", "", "1-based"),
        Column("position", "i2", "", "position at the start of the lap; 0 = none"),
    ),
    "car_telemetry_2": _extra(
        _CAR,
        Column("active_aero_mode", "i2", "", "0 corner, 1 straight"),
        Column("active_aero_available", "i2"),
        Column("active_aero_activation_distance_m", "i4", "m"),
        Column("overtake_available", "i2"),
        Column("overtake_active", "i2"),
        Column("overtake_activation_distance_m", "i4", "m"),
        Column("regulations_2026", "i2", "", "1 = 2026 regulations apply"),
        Column("driving_wrong_way", "i2"),
    ),
}
"""Columns of the decoded kinds that ``columns.TABLES`` does not list (the store
need not keep them), with header columns prepended like the others."""


def normalise_car_setups(records: np.ndarray) -> dict[str, Rows]:
    """Car Setups: one row per car slot per packet."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "front_wing": cars["front_wing"],
        "rear_wing": cars["rear_wing"],
        "on_throttle_pct": cars["on_throttle"],
        "off_throttle_pct": cars["off_throttle"],
        "front_camber_deg": cars["front_camber"],
        "rear_camber_deg": cars["rear_camber"],
        "front_toe_deg": cars["front_toe"],
        "rear_toe_deg": cars["rear_toe"],
        "front_suspension": cars["front_suspension"],
        "rear_suspension": cars["rear_suspension"],
        "front_anti_roll_bar": cars["front_anti_roll_bar"],
        "rear_anti_roll_bar": cars["rear_anti_roll_bar"],
        "front_suspension_height": cars["front_suspension_height"],
        "rear_suspension_height": cars["rear_suspension_height"],
        "brake_pressure_pct": cars["brake_pressure"],
        "brake_bias_pct": cars["brake_bias"],
        "engine_braking_pct": field_or(cars, "engine_braking", -1),
        "tyre_pressure_psi_rl": cars["rear_left_tyre_pressure"],
        "tyre_pressure_psi_rr": cars["rear_right_tyre_pressure"],
        "tyre_pressure_psi_fl": cars["front_left_tyre_pressure"],
        "tyre_pressure_psi_fr": cars["front_right_tyre_pressure"],
        "ballast": cars["ballast"],
        "fuel_load_kg": cars["fuel_load"],
    }
    return {"car_setups": Rows(columns, packet_row, cars.shape[1])}


def normalise_lobby_info(records: np.ndarray) -> dict[str, Rows]:
    """Lobby Info: one row per player slot per packet."""
    players = car_array(records)
    packet_row, car_index = per_car_rows(records, players)
    columns = {
        "car_index": car_index,
        "num_players": records["num_players"][packet_row],
        "ai_controlled": players["ai_controlled"],
        "team_id": players["team_id"],
        "nationality": players["nationality"],
        "platform": field_or(players, "platform", -1),
        "name": names(players["name"]),
        "car_number": players["car_number"],
        "your_telemetry": field_or(players, "your_telemetry", -1),
        "ready_status": players["ready_status"],
    }
    return {"lobby_info": Rows(columns, packet_row, players.shape[1])}


def normalise_tyre_sets(records: np.ndarray) -> dict[str, Rows]:
    """Tyre Sets: one row per tyre set (20) per packet."""
    flat = records["tyre_set_data"]  # (n packets, 20 sets): the decoder flattens
    num_sets = flat.shape[1]
    packet_row = np.repeat(np.arange(len(records)), num_sets)
    columns = {
        "car_index": records["car_idx"][packet_row],
        "set_index": np.tile(np.arange(num_sets, dtype=np.uint8), len(records)),
        "actual_tyre_compound": flat["actual_tyre_compound"],
        "visual_tyre_compound": flat["visual_tyre_compound"],
        "wear_pct": flat["wear"],
        "available": flat["available"],
        "recommended_session": flat["recommended_session"],
        "life_span_laps": flat["life_span"],
        "usable_life_laps": flat["usable_life"],
        "lap_delta_time_s": seconds_from_ms(flat["lap_delta_time"]),
        "fitted": flat["fitted"],
    }
    return {"tyre_sets": Rows(columns, packet_row, num_sets)}


_MOTION_EX_WHEELS = (
    "suspension_position",
    "suspension_velocity",
    "suspension_acceleration",
    "wheel_speed",
    "wheel_slip_ratio",
    "wheel_slip_angle",
    "wheel_lat_force",
    "wheel_long_force",
    "wheel_vert_force",
)
_MOTION_EX_SCALARS = {
    "height_of_cog_above_ground": "height_of_cog_above_ground_m",
    "local_velocity_x": "local_velocity_x_mps",
    "local_velocity_y": "local_velocity_y_mps",
    "local_velocity_z": "local_velocity_z_mps",
    "angular_velocity_x": "angular_velocity_x_radps",
    "angular_velocity_y": "angular_velocity_y_radps",
    "angular_velocity_z": "angular_velocity_z_radps",
    "angular_acceleration_x": "angular_acceleration_x_radps2",
    "angular_acceleration_y": "angular_acceleration_y_radps2",
    "angular_acceleration_z": "angular_acceleration_z_radps2",
    "front_wheels_angle": "front_wheels_angle_rad",
    "front_aero_height": "front_aero_height_m",
    "rear_aero_height": "rear_aero_height_m",
    "front_roll_angle": "front_roll_angle_rad",
    "rear_roll_angle": "rear_roll_angle_rad",
    "chassis_yaw": "chassis_yaw_rad",
    "chassis_pitch": "chassis_pitch_rad",
}


def normalise_motion_ex(records: np.ndarray) -> dict[str, Rows]:
    """Motion Ex (player car only): one row per packet."""
    count = len(records)
    columns: dict[str, np.ndarray] = {
        "car_index": records["header"]["player_car_index"]
    }
    for field in (*_MOTION_EX_WHEELS, "wheel_camber", "wheel_camber_gain"):
        values = wheel_field_or(records, field)
        prefix = f"{field}_rad" if field.startswith("wheel_camber") else field
        columns.update(wheels(prefix, values))
    for field, column in _MOTION_EX_SCALARS.items():
        columns[column] = field_or(records, field)
    return {"motion_ex": Rows(columns, np.arange(count), 1)}


def normalise_time_trial(records: np.ndarray) -> dict[str, Rows]:
    """Time Trial: three rows per packet (session best, personal best, rival)."""
    data_sets = (
        "player_session_best_data_set",
        "personal_best_data_set",
        "rival_data_set",
    )
    stacked = np.stack([records[name] for name in data_sets], axis=1).reshape(-1)
    packet_row = np.repeat(np.arange(len(records)), len(data_sets))
    columns = {
        "data_set": np.tile(np.arange(len(data_sets), dtype=np.uint8), len(records)),
        "car_index": stacked["car_idx"],
        "team_id": stacked["team_id"],
        "lap_time_s": seconds_from_ms(stacked["lap_time_in_ms"]),
        "sector1_time_s": seconds_from_ms(stacked["sector1_time_in_ms"]),
        "sector2_time_s": seconds_from_ms(stacked["sector2_time_in_ms"]),
        "sector3_time_s": seconds_from_ms(stacked["sector3_time_in_ms"]),
        "traction_control": stacked["traction_control"],
        "gearbox_assist": stacked["gearbox_assist"],
        "anti_lock_brakes": stacked["anti_lock_brakes"],
        "equal_car_performance": stacked["equal_car_performance"],
        "custom_setup": stacked["custom_setup"],
        "valid": stacked["valid"],
    }
    return {"time_trial": Rows(columns, packet_row, len(data_sets))}


def normalise_lap_positions(records: np.ndarray) -> dict[str, Rows]:
    """Lap Positions: one row per (lap present, car slot) per packet."""
    positions = records["position_for_vehicle_idx"]  # (n, laps, cars)
    max_laps, num_cars = positions.shape[1], positions.shape[2]
    num_laps = np.minimum(records["num_laps"], max_laps)
    present = np.arange(max_laps)[None, :] < num_laps[:, None]
    packet_row, lap_offset = np.nonzero(present)
    columns = {
        "car_index": np.tile(np.arange(num_cars, dtype=np.uint8), len(packet_row)),
        "lap_number": np.repeat(
            records["lap_start"][packet_row].astype(np.int64) + lap_offset + 1,
            num_cars,
        ),
        "position": positions[present].reshape(-1),
    }
    return {"lap_positions": Rows(columns, np.repeat(packet_row, num_cars))}


def normalise_car_telemetry_2(records: np.ndarray) -> dict[str, Rows]:
    """Car Telemetry 2 (2026): one row per car per packet."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "active_aero_mode": cars["active_aero_mode"],
        "active_aero_available": cars["active_aero_available"],
        "active_aero_activation_distance_m": cars["active_aero_activation_distance"],
        "overtake_available": cars["overtake_available"],
        "overtake_active": cars["overtake_active"],
        "overtake_activation_distance_m": cars["overtake_activation_distance"],
        "regulations_2026": cars["2026_regulations"],
        "driving_wrong_way": cars["driving_wrong_way"],
    }
    return {"car_telemetry_2": Rows(columns, packet_row, cars.shape[1])}


DEFAULT_NORMALISERS: Mapping[int, Normaliser] = {
    0: normalise_motion,
    1: normalise_session,
    2: normalise_lap_data,
    3: normalise_event,
    4: normalise_participants,
    5: normalise_car_setups,
    6: normalise_car_telemetry,
    7: normalise_car_status,
    8: normalise_final_classification,
    9: normalise_lobby_info,
    10: normalise_car_damage,
    11: normalise_session_history,
    12: normalise_tyre_sets,
    13: normalise_motion_ex,
    14: normalise_time_trial,
    15: normalise_lap_positions,
    16: normalise_car_telemetry_2,
}
"""packetId -> normaliser, used where a format module does not override it."""
