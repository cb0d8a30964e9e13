"""Session logic, decided from the data: sessions, flashbacks, lap positions, laps.

``SessionTracker.process`` takes one decoded batch (``DecodedBatch.tables``: kind ->
column arrays, each with ``datagram_index``) and returns the tables to store: the
decoded tables cleaned up and completed, plus ``sessions``, ``laps`` and ``rewinds``.

The rules (issue 5):

- A session starts at the first good Session packet of a new non-zero session UID: one
  ``sessions`` row. Packets with UID 0 (menus, some end-of-session packets) are dropped
  and counted; they never start or split a session. Rows of a UID whose Session packet
  has not arrived yet are stored anyway (the game sends Session at 2 Hz, so its row
  follows within 0.5 s); a UID already in the store (a restarted ingest) gets no second
  ``sessions`` row.
- A Session packet with impossible values (unknown track id, zero track length: the
  game sends such after a save is loaded) is dropped and counted, so it never replaces
  good session data.
- A flashback (the frame goes back while the overall frame does not, or the FLBK
  event) writes one ``rewinds`` row: samples with ``frame > to_frame`` and
  ``overall_frame < at_overall_frame`` are superseded (``store.schema.REWINDS``).
  ``at_overall_frame`` is one past the overall frame of the first datagram after the
  flashback, because the game sends the last frame before it and the first frame after
  it with the same overall frame (F1 25: FLBK event at frame 58,793 and the next packet
  at frame 57,980 both carry overall frame 59,585).
- Formats before 2023 send no overall frame (the decoder copies the frame): a monotonic
  one is synthesised per session, rising by one across a flashback.
- The game sends nothing while paused, so time gaps never end a session.
- A session already in the store (a capture replayed again, or again after Ctrl-C)
  resumes: rows up to the overall frame the store holds of their table
  (``stored_through``) are processed, so lap state is right, but not written again.
  Only formats with a real overall frame (2023 on): the frame synthesised for older
  formats restarts with ingest. Completed laps are matched by car and lap number
  instead (``stored_laps``, every format): laps are written when Session History
  confirms them, not in frame order, so a lap a killed ingest held back is written
  when its rows come again, even after later laps were stored.
- The same for a session sent again to a running ingest (``replay --to-udp`` twice):
  its overall frame goes back more than ``RESENT_BACK_FRAMES``, which the game never
  does (a flashback keeps it rising; a restarted session has a new UID). The batch is
  split there, the session's per-car state starts afresh (laps still waiting for
  Session History are written first) and rows up to the last overall frame seen are
  processed but not written again.
- ``lap_number``/``lap_distance_m`` on car_telemetry and motion rows come from the same
  car's latest lap data at or before the row's overall frame (an as-of join), and
  ``world_position_x_m``/``_z_m`` on car_telemetry rows from its latest motion row
  (motion comes first in a frame, so it is the same frame's position).
- Kinds the dashboard only reads "the latest of" (motion, car status, car damage) are
  kept for at most ``THINNED_INTERVAL_S`` packets per second of session time, whole
  packets at a time; lap data and car telemetry keep every frame.
- A car's lap number advancing from L to L+1 completes lap L: the lap time is lap
  L+1's ``last_lap_time_s``, sectors 1 and 2 come from lap L's last lap data, sector 3
  is the rest. Where the format has Session History (2021+), the lap is held up to
  ``HISTORY_WAIT_S`` for the car's history row of that lap, whose times and valid flag
  win. Tags: first (a race's lap from the grid), out (started in the pit lane or
  the game's out-lap status), in (ended in the pit lane, or in-lap status), pit (a
  stop in the box), sc (full or virtual safety car at any time), invalid.

Everything per car is vectorised over the batch (numpy sorts, as-of joins and
segment reductions); the Python loops run per session UID in the batch (one, rarely
two) and per completed lap or flashback, never per car row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from f1dash_tui.telemetry import enums
from f1dash_tui.telemetry.simulator import is_synthetic_session

log = logging.getLogger(__name__)

Tables = dict[str, dict[str, np.ndarray]]

MAX_CARS = 32
"""Per-car state arrays are this long: car arrays hold at most 24 cars (2026)."""

MAX_HISTORY_LAPS = 128
"""Session History holds at most 100 laps per car; rows beyond are always kept."""

HISTORY_VALUES = (
    "lap_time_s",
    "sector1_time_s",
    "sector2_time_s",
    "sector3_time_s",
    "lap_valid_flags",
)

HISTORY_WAIT_S = 3.0
"""Session time a completed lap waits for its Session History row. The game sends
one car's history per packet, cycling through the grid (Melbourne 2026 clip: 379
history packets in 21 s, each car's about every 1.2 s), so 3 s sees every car's."""

REWIND_DEDUPE_FRAMES = 120
"""A frame drop within 120 overall frames (2 s at 60 Hz) of an FLBK event to the same
frame is the same flashback seen twice, not a second one."""

FIRST_OVERALL_FRAME_FORMAT = 2023
"""The first packetFormat whose header carries an overall frame identifier."""

RESENT_BACK_FRAMES = 120
"""An overall frame more than 120 frames (2 s at 60 Hz) behind the last one seen is
the session sent again; UDP reordering on a network is a few frames at most."""

MAX_FRAME_JUMP = 1_000_000
"""Overall frames a session moves on at most between one batch and the next: over
an hour at 240 fps. A datagram further ahead (a corrupt one) is left out and
counted, or it would end every car's lap there and every datagram after it would
look sent again."""

_FRAME_COLUMN_OF_DERIVED = {"laps": "completed_frame", "rewinds": "at_overall_frame"}
"""The overall-frame column of derived tables that have one under another name."""

# Lap tags, as bits while accumulating and as names in laps.tags (schema order).
TAG_FIRST, TAG_OUT, TAG_IN, TAG_PIT, TAG_SC, TAG_INVALID = 1, 2, 4, 8, 16, 32
TAG_NAMES = (
    (TAG_FIRST, "first"),
    (TAG_OUT, "out"),
    (TAG_IN, "in"),
    (TAG_PIT, "pit"),
    (TAG_SC, "sc"),
    (TAG_INVALID, "invalid"),
)

PIT_STATUS_IN_PIT_AREA = 2
DRIVER_STATUS_IN_LAP = 2
DRIVER_STATUS_OUT_LAP = 3
RESULT_STATUS_FINISHED = 3
SAFETY_CAR_FULL, SAFETY_CAR_VIRTUAL = 1, 2

SAMPLE_KINDS_WITH_LAP_POSITION = ("car_telemetry", "motion")

WORLD_POSITION_COLUMNS = ("world_position_x_m", "world_position_z_m")
"""Motion columns copied onto car_telemetry rows (the track map and racing line)."""

THINNED_INTERVAL_S = 0.1
THINNED_KINDS = ("motion", "car_status", "car_damage")
"""Kinds stored for at most one packet per 0.1 s of session time. At 60 Hz the game
sends motion (and car status, at the menu's rate) every frame: 1,320 rows/s each for
22 cars. The dashboard reads only their latest rows (tyres, fuel, ERS, damage;
positions come from car_telemetry), and 10 Hz is at most one 0.5 s poll behind;
motion alone was a third of a flat-out replay's write time."""

THINNED_TOLERANCE_S = 0.004
"""A packet 96 ms after the last one kept is kept: 0.1 s of 60 Hz frames can add up
to 0.0999... s, and 96 ms still spans more than eleven 120 Hz frames, so no send
rate keeps more than 10 packets/s."""

_CAR_SHIFT = np.int64(1) << np.int64(40)
"""Sort key car * 2**40 + overall frame: overall frames are uint32, car < 256."""


def tag_text(bits: int) -> str:
    """Lap tag bits as the comma-separated names stored in ``laps.tags``."""
    return ",".join(name for bit, name in TAG_NAMES if bits & bit)


def is_known_track(track_id: int) -> bool:
    """Whether the game's track id names a real track."""
    return track_id in enums.TRACKS


@dataclass
class IngestCounters:
    """What the session logic dropped or corrected, by reason."""

    session_uid_zero_packets: int = 0
    impossible_session_packets: int = 0
    rewinds: int = 0
    laps_completed: int = 0
    laps_from_history: int = 0
    rows_outside_car_arrays: int = 0
    """Rows whose car index is no car (Motion Ex while spectating: 255)."""
    frames_far_ahead_packets: int = 0
    """Datagrams whose overall frame is no frame of their session's stream."""
    laps_already_stored: int = 0
    """Of ``laps_completed``, the laps the store held already (not written)."""
    rows_already_stored: int = 0
    """Rows of a resumed session that the store already held (not written again)."""

    def as_reasons(self) -> dict[str, int]:
        """Drop counts for ``ingest_stats.bad_by_reason``."""
        return {
            "ingest: session UID 0": self.session_uid_zero_packets,
            "ingest: impossible session values": self.impossible_session_packets,
            "ingest: overall frame far ahead": self.frames_far_ahead_packets,
        }


@dataclass
class _PendingLap:
    values: dict[str, Any]
    deadline_session_time_s: float


@dataclass
class _SessionState:
    """What ingest remembers about one session UID between batches."""

    uid: int
    started: bool = False
    packet_format: int = -1
    track_id: int = -1
    session_type: int = -1
    weather: int = -1
    safety_car_status: int = 0
    last_frame: int = -1
    last_overall_frame: int = -1
    frame_offset: int = 0
    """Pre-2023: synthesised overall frame = frame + frame_offset."""
    last_rewind: tuple[int, int] | None = None
    """(to_frame, at_overall_frame) of the last rewind written."""
    stored_through: dict[str, int] = field(default_factory=dict)
    """Table -> the last overall frame the store already holds of this session:
    rows up to it are not written again."""
    resent_through: int = -1
    """Sent again: every table's rows up to this overall frame were handled."""
    received_through: int = -1
    """The last overall frame received (not read back from the store)."""
    latest_frame: int = -1
    """The last overall frame received or read back: a datagram far behind it
    starts the session being sent again."""
    stored_laps: set[int] = field(default_factory=set)
    """Completed laps the store holds, as car index * 1000 + lap number."""
    latest_session_time_s: float = 0.0
    # Per car (index = car index): lap data carried between batches.
    lap_number: np.ndarray = field(default_factory=lambda: np.full(MAX_CARS, -1, "i2"))
    lap_distance_m: np.ndarray = field(
        default_factory=lambda: np.full(MAX_CARS, np.nan, "f4")
    )
    world_position_m: np.ndarray = field(
        default_factory=lambda: np.full((MAX_CARS, 2), np.nan, "f4")
    )
    """Latest motion x/z per car, for telemetry rows whose motion came earlier."""
    thinned_last_s: dict[str, float] = field(default_factory=dict)
    """Session time of the last packet kept per thinned kind."""
    has_lap_data: np.ndarray = field(default_factory=lambda: np.zeros(MAX_CARS, bool))
    empty_slot: np.ndarray = field(default_factory=lambda: np.zeros(MAX_CARS, bool))
    """Array slots whose latest lap data says no car is there (result status 0)."""
    lap_flags: np.ndarray = field(default_factory=lambda: np.zeros(MAX_CARS, "i8"))
    sector1_s: np.ndarray = field(default_factory=lambda: np.full(MAX_CARS, np.nan))
    sector2_s: np.ndarray = field(default_factory=lambda: np.full(MAX_CARS, np.nan))
    lap_invalid: np.ndarray = field(default_factory=lambda: np.zeros(MAX_CARS, "i2"))
    result_status: np.ndarray = field(default_factory=lambda: np.zeros(MAX_CARS, "i2"))
    pit_status: np.ndarray = field(default_factory=lambda: np.zeros(MAX_CARS, "i2"))
    ends_in: np.ndarray = field(default_factory=lambda: np.zeros(MAX_CARS, bool))
    """Whether the car's latest lap data is in the pit lane or in-lap status."""
    visual_tyre_compound: np.ndarray = field(
        default_factory=lambda: np.full(MAX_CARS, -1, "i2")
    )
    driver_name: np.ndarray = field(
        default_factory=lambda: np.full(MAX_CARS, "", dtype=object)
    )
    team_id: np.ndarray = field(default_factory=lambda: np.full(MAX_CARS, -1, "i2"))
    pending_laps: list[_PendingLap] = field(default_factory=list)
    history: np.ndarray = field(
        default_factory=lambda: np.full((MAX_CARS, MAX_HISTORY_LAPS, 5), np.nan)
    )
    """Last stored Session History values per car and lap: lap, s1, s2, s3 times
    and the valid flags."""


@dataclass
class _DerivedRows:
    """Rows of the tables ingest derives, collected while processing one batch."""

    sessions: list[dict[str, Any]] = field(default_factory=list)
    laps: list[dict[str, Any]] = field(default_factory=list)
    rewinds: list[dict[str, Any]] = field(default_factory=list)


def _rows_to_columns(
    rows: list[dict[str, Any]], dtypes: Mapping[str, str]
) -> dict[str, np.ndarray]:
    return {
        name: np.array([row[name] for row in rows], dtype=dtype)
        for name, dtype in dtypes.items()
    }


SESSIONS_DTYPES = {
    "session_uid": "i8",
    "started_unix_s": "f8",
    "source": "O",
    "is_synthetic": "i2",
    "packet_format": "i4",
    "track_id": "i2",
    "session_type": "i2",
}
LAPS_DTYPES = {
    "session_uid": "i8",
    "car_index": "i2",
    "lap_number": "i2",
    "lap_time_s": "f8",
    "sector1_s": "f8",
    "sector2_s": "f8",
    "sector3_s": "f8",
    "is_valid": "i2",
    "tags": "O",
    "track_id": "i2",
    "session_type": "i2",
    "visual_tyre_compound": "i2",
    "weather": "i2",
    "driver_name": "O",
    "team_id": "i2",
    "completed_frame": "i8",
    "completed_unix_s": "f8",
}
REWINDS_DTYPES = {
    "session_uid": "i8",
    "at_overall_frame": "i8",
    "to_frame": "i8",
    "unix_s": "f8",
}


def _positive_or_nan(value: float) -> float:
    return value if np.isfinite(value) and value > 0 else float("nan")


class SessionTracker:
    """Turns decoded batches into the tables to store (see the module docstring).

    ``known_sessions`` maps UIDs already in the store to (track_id, session_type), so
    a restarted ingest continues those sessions without a second ``sessions`` row;
    ``stored_through`` maps them to the last overall frame stored, so that rows the
    store already has are not written twice, and ``stored_laps`` to the (car index,
    lap number) of their stored laps.
    ``session_uid_salt`` (non-zero) is XOR-ed into every non-zero UID, making a
    replayed capture a new session.
    """

    def __init__(
        self,
        *,
        source: str,
        is_synthetic: bool = False,
        known_sessions: Mapping[int, tuple[int, int]] | None = None,
        stored_through: Mapping[int, Mapping[str, int]] | None = None,
        stored_laps: Mapping[int, Iterable[tuple[int, int]]] | None = None,
        session_uid_salt: int = 0,
    ) -> None:
        self.source = source
        self.is_synthetic = is_synthetic
        self.session_uid_salt = np.int64(session_uid_salt)
        self.counters = IngestCounters()
        self._sessions: dict[int, _SessionState] = {}
        self.add_known_sessions(known_sessions or {})
        for uid, frames in (stored_through or {}).items():
            self._state(uid).stored_through = dict(frames)
        for uid, laps in (stored_laps or {}).items():
            self._state(uid).stored_laps = {_lap_key(*lap) for lap in laps}
        self.latest_session_uid = 0
        self._reading_back = False

    def catch_up(
        self, tables: Mapping[str, Mapping[str, np.ndarray]], recv_unix_s: np.ndarray
    ) -> Tables:
        """Process rows read back from the store (``ingest.resume``): the per-car
        state is rebuilt from them; what is returned is only what the store lacks
        (laps a stopped ingest held back). The counters start afresh afterwards."""
        self._reading_back = True
        try:
            out = self.process(tables, recv_unix_s)
        finally:
            self._reading_back = False
        laps = self.counters.laps_completed
        self.counters = IngestCounters()
        log.info("caught up: %d laps completed again", laps)
        return {"laps": out["laps"]} if "laps" in out else {}

    def add_known_sessions(self, known: Mapping[int, tuple[int, int]]) -> None:
        """Sessions already stored: they get no second ``sessions`` row."""
        for uid, (track_id, session_type) in known.items():
            state = self._state(uid)
            if state.track_id < 0:
                state.track_id, state.session_type = track_id, session_type
            state.started = True

    def _drop_cars_outside_arrays(self, out: Tables) -> None:
        """Leave out rows about a car index no car array has: Motion Ex while
        spectating names playerCarIndex 255. No car state exists for it, and
        indexing the per-car state with it would stop ingest (IndexError)."""
        for kind, columns in list(out.items()):
            cars = columns.get("car_index")
            if cars is None:
                continue
            outside = (cars < 0) | (cars >= MAX_CARS)
            if outside.any():
                self.counters.rows_outside_car_arrays += int(outside.sum())
                out[kind] = {name: a[~outside] for name, a in columns.items()}

    def _state(self, uid: int) -> _SessionState:
        state = self._sessions.get(uid)
        if state is None:
            state = self._sessions[uid] = _SessionState(uid)
        return state

    # -- the batch ----------------------------------------------------------------

    def process(
        self, tables: Mapping[str, Mapping[str, np.ndarray]], recv_unix_s: np.ndarray
    ) -> Tables:
        """Session logic for one decoded batch; returns the tables to write.

        ``recv_unix_s[i]`` is when datagram ``i`` (the tables' ``datagram_index``)
        was received.
        """
        out: Tables = {}
        for kind, columns in tables.items():
            if not columns or len(columns["datagram_index"]) == 0:
                continue
            out[kind] = dict(columns)
        if not self._reading_back:  # rows read back carry their stored UID
            self._salt_and_drop_uid_zero(out)
        self._drop_cars_outside_arrays(out)
        headers = self._drop_frames_far_ahead(out)
        return self._process_until_resent(out, recv_unix_s, headers)

    def _drop_frames_far_ahead(self, out: Tables) -> dict[str, np.ndarray] | None:
        """Leave out datagrams whose overall frame is more than ``MAX_FRAME_JUMP``
        ahead of their session (2023 formats on): no game sends one, and taken in
        it would end every car's lap there and make the rest look sent again.
        Returns the datagram headers of what is left."""
        headers = _datagram_headers(out)
        if headers is None:
            return None
        far: list[np.ndarray] = []
        for _, latest, datagrams, overall in self._overall_frames_by_session(headers):
            trusted = _trusted_frames(latest, overall)
            if not trusted.all():
                far.append(datagrams[~trusted])
        if not far:
            return headers
        dropped = np.concatenate(far)
        self.counters.frames_far_ahead_packets += len(dropped)
        for kind in list(out):
            columns = out[kind]
            keep = ~np.isin(columns["datagram_index"], dropped)
            if not keep.any():
                del out[kind]
            elif not keep.all():
                out[kind] = {name: a[keep] for name, a in columns.items()}
        return _datagram_headers(out)

    def _process_until_resent(
        self,
        out: Tables,
        recv_unix_s: np.ndarray,
        headers: dict[str, np.ndarray] | None,
    ) -> Tables:
        """Process ``out`` (``headers``: its datagram headers); where a session is
        sent again, split the batch there (as often as it is, in a loop: a fuzzed
        stream splits at every other datagram)."""
        written: list[Tables] = []
        while True:
            if headers is None:
                written.append(out)
                break
            resent = self._first_resent_datagram(headers)
            if resent is None:
                written.append(self._process_batch(out, headers, recv_unix_s))
                break
            uid, datagram = resent
            # Nothing before the first resent datagram is resent itself.
            before, out = _split_at_datagram(out, datagram)
            before_headers = _datagram_headers(before)
            if before_headers is not None:
                written.append(self._process_batch(before, before_headers, recv_unix_s))
            written.append(self._restart_resent_session(uid))
            headers = _datagram_headers(out)
        return written[0] if len(written) == 1 else _concatenate_tables(written)

    def _first_resent_datagram(
        self, headers: dict[str, np.ndarray]
    ) -> tuple[int, int] | None:
        """(session UID, datagram index) of the first datagram whose overall frame
        is more than ``RESENT_BACK_FRAMES`` behind its session's latest, if any."""
        found: tuple[int, int] | None = None
        for uid, latest, datagrams, overall in self._overall_frames_by_session(headers):
            latest_before = np.maximum.accumulate(
                np.concatenate(([latest], overall[:-1]))
            )
            back = np.flatnonzero(overall < latest_before - RESENT_BACK_FRAMES)
            if len(back):
                datagram = int(datagrams[back[0]])
                if found is None or datagram < found[1]:
                    found = (uid, datagram)
        return found

    def _overall_frames_by_session(
        self, headers: dict[str, np.ndarray]
    ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """For each session of the batch in a format with an overall frame (2023
        on): its UID, its latest frame so far (-1: none), and the datagram indices
        and overall frames of its datagrams in the stream (frame 0 marks session
        start/end events, not a place in it)."""
        live = headers["frame"] > 0
        for uid in np.unique(headers["session_uid"][live]).tolist():
            mine = live & (headers["session_uid"] == uid)
            if headers["packet_format"][mine][0] < FIRST_OVERALL_FRAME_FORMAT:
                continue
            state = self._sessions.get(int(uid))
            yield (
                int(uid),
                state.latest_frame if state else -1,
                headers["datagram_index"][mine],
                headers["overall_frame"][mine].astype("i8"),
            )

    def _restart_resent_session(self, uid: int) -> Tables:
        """Start a session sent again afresh, as a restarted ingest would; return
        its laps still waiting for Session History (written before the rest)."""
        old = self._sessions[uid]
        waiting = self._release_pending_laps(old)
        log.info(
            "session %d sent again: rows up to overall frame %d are not stored twice",
            uid,
            max(old.received_through, *old.stored_through.values(), -1),
        )
        state = self._sessions[uid] = _SessionState(uid)
        state.started = old.started
        state.packet_format = old.packet_format
        state.track_id, state.session_type = old.track_id, old.session_type
        state.weather = old.weather
        state.stored_through = old.stored_through
        state.stored_laps = old.stored_laps
        # Frames read back from the store are covered by stored_through, table by
        # table; a single frame for them would skip rows a killed ingest lost.
        state.resent_through = max(old.resent_through, old.received_through)
        return {"laps": _rows_to_columns(waiting, LAPS_DTYPES)} if waiting else {}

    def _process_batch(
        self, out: Tables, headers: dict[str, np.ndarray], recv_unix_s: np.ndarray
    ) -> Tables:
        derived = _DerivedRows()
        uids = np.unique(headers["session_uid"])
        for uid in uids.tolist():
            in_session = headers["session_uid"] == uid
            session_headers = {name: a[in_session] for name, a in headers.items()}
            self._process_session(int(uid), out, session_headers, recv_unix_s, derived)
        for name, rows, dtypes in (
            ("sessions", derived.sessions, SESSIONS_DTYPES),
            ("laps", derived.laps, LAPS_DTYPES),
            ("rewinds", derived.rewinds, REWINDS_DTYPES),
        ):
            if rows:
                out[name] = _rows_to_columns(rows, dtypes)
        for uid in uids.tolist():
            self._skip_stored_rows(self._state(int(uid)), out)
        for uid, _, _, overall in self._overall_frames_by_session(headers):
            state = self._state(uid)
            latest = int(overall.max())
            state.latest_frame = max(state.latest_frame, latest)
            if not self._reading_back:
                state.received_through = max(state.received_through, latest)
        self.latest_session_uid = int(headers["session_uid"][-1])
        return out

    def _skip_stored_rows(self, state: _SessionState, out: Tables) -> None:
        """Leave out the rows of ``state``'s session the store already holds."""
        if state.stored_laps and "laps" in out:
            laps = out["laps"]
            keys = _lap_key(laps["car_index"].astype("i8"), laps["lap_number"])
            stored = (laps["session_uid"] == state.uid) & np.isin(
                keys, list(state.stored_laps)
            )
            if stored.any():
                self.counters.rows_already_stored += int(stored.sum())
                self.counters.laps_already_stored += int(stored.sum())
                out["laps"] = {name: a[~stored] for name, a in laps.items()}
        if not state.stored_through and state.resent_through < 0:
            return
        if state.packet_format < FIRST_OVERALL_FRAME_FORMAT:
            state.stored_through.clear()
            return
        for kind in list(out):
            through = _stored_through(state, kind)
            columns = out[kind]
            frame_column = _FRAME_COLUMN_OF_DERIVED.get(kind, "overall_frame")
            # sessions rows have no frame: one per session, never twice anyway.
            if through < 0 or frame_column not in columns:
                continue
            frames = columns[frame_column]
            stored = (columns["session_uid"] == state.uid) & (frames <= through)
            if not stored.any():
                continue
            self.counters.rows_already_stored += int(stored.sum())
            if kind == "laps":
                self.counters.laps_already_stored += int(stored.sum())
            if stored.all():
                del out[kind]
            else:
                out[kind] = {name: a[~stored] for name, a in columns.items()}

    def flush(self) -> Tables:
        """Write out every lap still waiting for its Session History row."""
        rows: list[dict[str, Any]] = []
        for state in self._sessions.values():
            rows.extend(self._release_pending_laps(state))
        return {"laps": _rows_to_columns(rows, LAPS_DTYPES)} if rows else {}

    def _release_pending_laps(self, state: _SessionState) -> list[dict[str, Any]]:
        """The session's laps waiting for Session History, as they are, less any
        the store already holds; none wait afterwards."""
        rows: list[dict[str, Any]] = []
        through = _stored_through(state, "laps")
        for pending in state.pending_laps:
            values = pending.values
            values["tags"] = tag_text(values["tags"])
            key = _lap_key(values["car_index"], values["lap_number"])
            if values["completed_frame"] > through and key not in state.stored_laps:
                rows.append(values)
            else:
                self.counters.laps_already_stored += 1
        state.pending_laps.clear()
        return rows

    # -- steps --------------------------------------------------------------------

    def _salt_and_drop_uid_zero(self, out: Tables) -> None:
        dropped: list[np.ndarray] = []
        for kind in list(out):
            columns = out[kind]
            uid = columns["session_uid"]
            if self.session_uid_salt:
                salted = uid ^ self.session_uid_salt
                # XOR could map a UID onto 0 ("no session"); keep it non-zero.
                salted[salted == 0] = self.session_uid_salt
                uid = columns["session_uid"] = np.where(uid != 0, salted, 0)
            zero = uid == 0
            if zero.any():
                dropped.append(columns["datagram_index"][zero])
                keep = ~zero
                out[kind] = {name: array[keep] for name, array in columns.items()}
                if not keep.any():
                    del out[kind]
        if dropped:
            self.counters.session_uid_zero_packets += len(
                np.unique(np.concatenate(dropped))
            )

    def _process_session(
        self,
        uid: int,
        out: Tables,
        headers: dict[str, np.ndarray],
        recv_unix_s: np.ndarray,
        derived: _DerivedRows,
    ) -> None:
        state = self._state(uid)
        if state.packet_format < 0:
            state.packet_format = int(headers["packet_format"][0])
        overall = self._overall_frames(state, headers, out)
        self._detect_rewinds(state, headers, overall, out, recv_unix_s, derived)
        self._sessions_rows(state, out, recv_unix_s, derived)
        self._participants_and_status(state, out)
        lap_rows = _select(out.get("lap_data"), uid)
        if lap_rows is not None:
            order = np.lexsort(
                (
                    lap_rows["datagram_index"],
                    lap_rows["overall_frame"],
                    lap_rows["car_index"],
                )
            )
            lap_sorted = {name: a[order] for name, a in lap_rows.items()}
        else:
            lap_sorted = None
        if lap_sorted is not None:
            last = _last_of_each(lap_sorted["car_index"])
            cars = lap_sorted["car_index"][last].astype("i8")
            state.empty_slot[cars] = lap_sorted["result_status"][last] == 0
        self._drop_empty_slots(state, out)
        if lap_sorted is not None and state.empty_slot.any():
            keep = ~state.empty_slot[lap_sorted["car_index"].astype("i8")]
            lap_sorted = {name: a[keep] for name, a in lap_sorted.items()}
        self._lap_positions(state, out, lap_sorted)
        self._world_positions(state, out)
        if lap_sorted is not None:
            self._completed_laps(state, out, lap_sorted, recv_unix_s)
        self._resolve_pending_laps(state, out, derived)
        self._drop_unchanged_history(state, out)
        self._thin_latest_only_kinds(state, out)
        state.latest_session_time_s = float(headers["session_time_s"].max())

    def _overall_frames(
        self, state: _SessionState, headers: dict[str, np.ndarray], out: Tables
    ) -> np.ndarray:
        """The datagrams' overall frames; synthesised for formats before 2023."""
        frame = headers["frame"].astype("i8")
        if state.packet_format >= FIRST_OVERALL_FRAME_FORMAT:
            return headers["overall_frame"].astype("i8")
        # Frame 0 marks session start/end events, not a position in the stream.
        live = frame > 0
        frames = frame[live]
        previous = np.concatenate(([state.last_frame], frames[:-1]))
        went_back = (frames < previous) & (previous >= 0)
        # Each flashback raises the offset so the synthesised frame rises by one.
        jump = np.where(went_back, previous - frames + 1, 0)
        offsets = state.frame_offset + np.cumsum(jump)
        overall = np.zeros_like(frame)
        overall[live] = frames + offsets
        if len(frames):
            state.frame_offset = int(offsets[-1])
        # headers are sorted by datagram index: map every row to its datagram.
        datagrams = headers["datagram_index"]
        for columns in out.values():
            mine = columns["session_uid"] == state.uid
            if not mine.any():
                continue
            at = np.searchsorted(datagrams, columns["datagram_index"][mine])
            new_overall = columns["overall_frame"].astype("i8")
            new_overall[mine] = overall[at]
            columns["overall_frame"] = new_overall
        return overall

    def _detect_rewinds(
        self,
        state: _SessionState,
        headers: dict[str, np.ndarray],
        overall: np.ndarray,
        out: Tables,
        recv_unix_s: np.ndarray,
        derived: _DerivedRows,
    ) -> None:
        frame = headers["frame"].astype("i8")
        live = np.flatnonzero(frame > 0)
        candidates: list[tuple[int, int, int]] = []  # (datagram, to_frame, at_overall)
        if len(live):
            frames, overalls = frame[live], overall[live]
            previous_frame = np.concatenate(([state.last_frame], frames[:-1]))
            previous_overall = np.concatenate(
                ([state.last_overall_frame], overalls[:-1])
            )
            went_back = (
                (frames < previous_frame)
                & (previous_frame >= 0)
                & (overalls >= previous_overall)
            )
            for position in np.flatnonzero(went_back).tolist():
                candidates.append(
                    (
                        int(headers["datagram_index"][live[position]]),
                        int(frames[position]),
                        int(overalls[position]) + 1,
                    )
                )
            state.last_frame = int(frames[-1])
            state.last_overall_frame = int(overalls[-1])
        events = _select(out.get("event"), state.uid)
        if events is not None:
            flashback = np.flatnonzero(events["event_code"] == "FLBK")
            for row in flashback.tolist():
                candidates.append(
                    (
                        int(events["datagram_index"][row]),
                        int(events["flashback_frame"][row]),
                        int(events["overall_frame"][row]) + 1,
                    )
                )
        rows = derived.rewinds
        for datagram, to_frame, at_overall in sorted(candidates):
            last = state.last_rewind
            if (
                last is not None
                and last[0] == to_frame
                and abs(last[1] - at_overall) <= REWIND_DEDUPE_FRAMES
            ):
                continue
            state.last_rewind = (to_frame, at_overall)
            self.counters.rewinds += 1
            log.info(
                "session %d: flashback to frame %d at overall frame %d",
                state.uid,
                to_frame,
                at_overall,
            )
            rows.append(
                {
                    "session_uid": state.uid,
                    "at_overall_frame": at_overall,
                    "to_frame": to_frame,
                    "unix_s": float(recv_unix_s[datagram]),
                }
            )

    def _sessions_rows(
        self,
        state: _SessionState,
        out: Tables,
        recv_unix_s: np.ndarray,
        derived: _DerivedRows,
    ) -> None:
        session = out.get("session")
        if session is None:
            return
        mine = session["session_uid"] == state.uid
        if not mine.any():
            return
        track_ok = np.isin(session["track_id"], np.array(sorted(enums.TRACKS)))
        good = track_ok & (session["track_length_m"] > 0)
        bad = mine & ~good
        if bad.any():
            self.counters.impossible_session_packets += int(bad.sum())
            log.info(
                "session %d: dropped %d Session packets with impossible values",
                state.uid,
                int(bad.sum()),
            )
            keep = ~bad
            out["session"] = session = {n: a[keep] for n, a in session.items()}
            mine = mine[keep]
        rows = np.flatnonzero(mine)
        if not len(rows):
            return
        first, last = rows[0], rows[-1]
        if not state.started:
            state.started = True
            # The simulator tags its sessions in the data (simulator.py), so a
            # simulated race stays synthetic through a pcap file and a replay.
            unsalted_uid = int(state.uid) ^ int(self.session_uid_salt)
            synthetic = self.is_synthetic or is_synthetic_session(
                unsalted_uid, int(session["network_game"][first])
            )
            derived.sessions.append(
                {
                    "session_uid": state.uid,
                    "started_unix_s": float(
                        recv_unix_s[session["datagram_index"][first]]
                    ),
                    "source": self.source,
                    "is_synthetic": int(synthetic),
                    "packet_format": int(session["packet_format"][first]),
                    "track_id": int(session["track_id"][first]),
                    "session_type": int(session["session_type"][first]),
                }
            )
            log.info(
                "session %d started: track %d, session type %d, format %d",
                state.uid,
                int(session["track_id"][first]),
                int(session["session_type"][first]),
                int(session["packet_format"][first]),
            )
        state.track_id = int(session["track_id"][last])
        state.session_type = int(session["session_type"][last])
        state.weather = int(session["weather"][last])
        state.safety_car_status = int(session["safety_car_status"][last])

    def _drop_empty_slots(self, state: _SessionState, out: Tables) -> None:
        """Leave out per-car rows of array slots no car occupies.

        Car arrays are always full length (24 in 2026) while fewer cars race (22 in
        the Melbourne clip); an empty slot's lap data says result status 0
        ("invalid") and all its values are zero, so its rows carry nothing.
        """
        if not state.empty_slot.any():
            return
        for kind in list(out):
            columns = out[kind]
            if "car_index" not in columns:
                continue
            cars = columns["car_index"].astype("i8")
            drop = state.empty_slot[cars] & (columns["session_uid"] == state.uid)
            if drop.any():
                keep = ~drop
                out[kind] = {name: array[keep] for name, array in columns.items()}

    def _participants_and_status(self, state: _SessionState, out: Tables) -> None:
        participants = _select(out.get("participants"), state.uid)
        if participants is not None:
            cars = participants["car_index"].astype("i8")
            state.driver_name[cars] = participants["name"]
            state.team_id[cars] = participants["team_id"]
        status = _select(out.get("car_status"), state.uid)
        if status is not None:
            # Later rows overwrite earlier ones: numpy assigns in order.
            cars = status["car_index"].astype("i8")
            state.visual_tyre_compound[cars] = status["visual_tyre_compound"]

    def _lap_positions(
        self,
        state: _SessionState,
        out: Tables,
        lap_sorted: dict[str, np.ndarray] | None,
    ) -> None:
        """Fill lap_number/lap_distance_m on sample rows by an as-of join."""
        if lap_sorted is not None:
            lap_keys = lap_sorted["car_index"].astype("i8") * _CAR_SHIFT + lap_sorted[
                "overall_frame"
            ].astype("i8")
            lap_cars = lap_sorted["car_index"].astype("i8")
        for kind in SAMPLE_KINDS_WITH_LAP_POSITION:
            columns = out.get(kind)
            if columns is None:
                continue
            if "lap_number" not in columns:
                length = len(columns["datagram_index"])
                columns["lap_number"] = np.full(length, -1, "i2")
                columns["lap_distance_m"] = np.full(length, np.nan, "f4")
            mine = np.flatnonzero(columns["session_uid"] == state.uid)
            if not len(mine):
                continue
            cars = columns["car_index"][mine].astype("i8")
            lap_number = state.lap_number[cars]
            lap_distance = state.lap_distance_m[cars]
            if lap_sorted is not None:
                keys = cars * _CAR_SHIFT + columns["overall_frame"][mine].astype("i8")
                at = np.searchsorted(lap_keys, keys, side="right") - 1
                found = at >= 0
                found[found] = lap_cars[at[found]] == cars[found]
                lap_number = np.where(
                    found, lap_sorted["current_lap_num"][at], lap_number
                )
                lap_distance = np.where(
                    found, lap_sorted["lap_distance_m"][at], lap_distance
                )
            columns["lap_number"][mine] = lap_number
            columns["lap_distance_m"][mine] = lap_distance
        if lap_sorted is not None:
            last = _last_of_each(lap_sorted["car_index"])
            cars = lap_sorted["car_index"][last].astype("i8")
            # lap_number is carried by _completed_laps, which still needs the old one.
            state.lap_distance_m[cars] = lap_sorted["lap_distance_m"][last]

    def _world_positions(self, state: _SessionState, out: Tables) -> None:
        """Fill world x/z on car_telemetry rows from the car's latest motion row at
        or before the row's overall frame (an as-of join, carried across batches)."""
        telemetry = out.get("car_telemetry")
        if telemetry is None:
            return
        if WORLD_POSITION_COLUMNS[0] not in telemetry:
            length = len(telemetry["datagram_index"])
            for name in WORLD_POSITION_COLUMNS:
                telemetry[name] = np.full(length, np.nan, "f4")
        mine = np.flatnonzero(telemetry["session_uid"] == state.uid)
        motion = _select(out.get("motion"), state.uid)
        if motion is not None:
            order = np.lexsort(
                (motion["datagram_index"], motion["overall_frame"], motion["car_index"])
            )
            motion_cars = motion["car_index"][order].astype("i8")
            motion_keys = motion_cars * _CAR_SHIFT + motion["overall_frame"][
                order
            ].astype("i8")
            positions = np.column_stack(
                [motion[name][order] for name in WORLD_POSITION_COLUMNS]
            ).astype("f4")
        if len(mine):
            cars = telemetry["car_index"][mine].astype("i8")
            values = state.world_position_m[cars]
            if motion is not None:
                keys = cars * _CAR_SHIFT + telemetry["overall_frame"][mine].astype("i8")
                at = np.searchsorted(motion_keys, keys, side="right") - 1
                found = at >= 0
                found[found] = motion_cars[at[found]] == cars[found]
                values[found] = positions[at[found]]
            for column, name in enumerate(WORLD_POSITION_COLUMNS):
                telemetry[name][mine] = values[:, column]
        if motion is not None:
            last = _last_of_each(motion_cars)
            state.world_position_m[motion_cars[last]] = positions[last]

    def _thin_latest_only_kinds(self, state: _SessionState, out: Tables) -> None:
        """Keep at most one packet per THINNED_INTERVAL_S of session time of each
        kind in THINNED_KINDS (whole packets: "latest frame" queries see all cars).
        A flashback (session time going back) keeps the next packet at once."""
        for kind in THINNED_KINDS:
            columns = out.get(kind)
            if columns is None:
                continue
            mine = columns["session_uid"] == state.uid
            if not mine.any():
                continue
            datagrams, first = np.unique(
                columns["datagram_index"][mine], return_index=True
            )
            times_s = columns["session_time_s"][mine][first]
            last_s = state.thinned_last_s.get(kind)
            keep_datagram = np.zeros(len(datagrams), bool)
            step_s = THINNED_INTERVAL_S - THINNED_TOLERANCE_S
            # One iteration per packet (6 per 0.1 s batch at 60 Hz): each decision
            # depends on the last packet kept.
            for position, time_s in enumerate(times_s.tolist()):
                if last_s is None or time_s >= last_s + step_s or time_s < last_s:
                    keep_datagram[position] = True
                    last_s = time_s
            if last_s is not None:
                state.thinned_last_s[kind] = last_s
            if keep_datagram.all():
                continue
            keep = ~mine
            keep[mine] = np.isin(
                columns["datagram_index"][mine], datagrams[keep_datagram]
            )
            out[kind] = {name: array[keep] for name, array in columns.items()}

    def _completed_laps(
        self,
        state: _SessionState,
        out: Tables,
        lap: dict[str, np.ndarray],
        recv_unix_s: np.ndarray,
    ) -> None:
        """Find lap advances per car, vectorised; queue the completed laps."""
        if not len(lap["car_index"]):
            return
        cars = lap["car_index"].astype("i8")
        lap_number = lap["current_lap_num"].astype("i8")
        pit = lap["pit_status"] > 0
        driver_status = lap["driver_status"]
        # In-lap status lasts into the next lap while the car is still in the lane,
        # so "in" is decided at the lap's last row; out-lap status lasts until the
        # lap ends, so "out" anywhere.
        flags = np.where(driver_status == DRIVER_STATUS_OUT_LAP, TAG_OUT, 0)
        ends_in = pit | (driver_status == DRIVER_STATUS_IN_LAP)
        # The stop itself (in the box) makes a pit lap; the lane before and after
        # makes the in-lap and out-lap (the line is crossed in the lane).
        flags |= np.where(lap["pit_status"] == PIT_STATUS_IN_PIT_AREA, TAG_PIT, 0)
        flags |= np.where(self._safety_car_at(state, out, lap), TAG_SC, 0)
        # Prepend one carried row per car seen before, holding its open lap's state.
        carried = np.unique(cars)
        carried = carried[state.has_lap_data[carried]]
        n_carried = len(carried)
        all_cars = np.concatenate((carried, cars))
        all_lap = np.concatenate((state.lap_number[carried].astype("i8"), lap_number))
        all_flags = np.concatenate((state.lap_flags[carried], flags))
        all_pit = np.concatenate((state.pit_status[carried] > 0, pit))
        all_ends_in = np.concatenate((state.ends_in[carried], ends_in))
        all_s1 = np.concatenate((state.sector1_s[carried], lap["sector1_time_s"]))
        all_s2 = np.concatenate((state.sector2_s[carried], lap["sector2_time_s"]))
        all_invalid = np.concatenate(
            (state.lap_invalid[carried], lap["current_lap_invalid"])
        )
        all_status = np.concatenate(
            (state.result_status[carried], lap["result_status"].astype("i2"))
        )
        is_carried = np.concatenate(
            (np.ones(n_carried, bool), np.zeros(len(cars), bool))
        )
        order = np.argsort(all_cars, kind="stable")  # carried rows stay first per car
        all_cars, all_lap, all_flags = all_cars[order], all_lap[order], all_flags[order]
        all_pit, all_s1, all_s2 = all_pit[order], all_s1[order], all_s2[order]
        all_ends_in = all_ends_in[order]
        all_invalid, is_carried = all_invalid[order], is_carried[order]
        all_status = all_status[order]
        batch_row = np.where(is_carried, -1, order - n_carried)

        same_car = all_cars[1:] == all_cars[:-1]
        new_segment = np.ones(len(all_cars), bool)
        new_segment[1:] = ~same_car | (all_lap[1:] != all_lap[:-1])
        # A lap that starts in the pit lane is an out-lap.
        all_flags = all_flags | np.where(
            new_segment & all_pit & ~is_carried, TAG_OUT, 0
        )
        starts = np.flatnonzero(new_segment)
        segment_flags = np.bitwise_or.reduceat(all_flags, starts)
        segment_of_row = np.cumsum(new_segment) - 1
        row_flags = segment_flags[segment_of_row]

        advanced = np.flatnonzero(same_car & (all_lap[1:] > all_lap[:-1]))
        race = enums.is_race(state.packet_format, state.session_type)
        if race:
            # After the chequered flag the game keeps current_lap_num at the
            # race's last lap, so the final lap never advances. It completes when
            # result_status turns finished (3): the game sets it in the frame the
            # car crosses the line, with last_lap_time holding that lap, for
            # leader and lapped cars alike. The row then waits for Session History
            # like every lap (its time, sectors and valid flag are the game's
            # record of each lap); Final Classification is no source for it: it
            # has only the best lap and comes once the whole field is in.
            finished = np.flatnonzero(
                same_car
                & (all_status[1:] == RESULT_STATUS_FINISHED)
                & (all_status[:-1] != RESULT_STATUS_FINISHED)
                & (all_lap[1:] == all_lap[:-1])
            )
            advanced = np.union1d(advanced, finished)
        advanced = advanced[all_lap[advanced] >= 1]
        for row in advanced.tolist():
            next_row = int(batch_row[row + 1])
            car = int(all_cars[row])
            number = int(all_lap[row])
            tags = int(row_flags[row])
            if all_ends_in[row]:
                tags |= TAG_IN
            if all_invalid[row] > 0:
                tags |= TAG_INVALID
            if race and number == 1:
                tags |= TAG_FIRST
            lap_time = _positive_or_nan(float(lap["last_lap_time_s"][next_row]))
            sector1 = _positive_or_nan(float(all_s1[row]))
            sector2 = _positive_or_nan(float(all_s2[row]))
            values: dict[str, Any] = {
                "session_uid": state.uid,
                "car_index": car,
                "lap_number": number,
                "lap_time_s": lap_time,
                "sector1_s": sector1,
                "sector2_s": sector2,
                "sector3_s": _positive_or_nan(lap_time - sector1 - sector2),
                "is_valid": int(all_invalid[row] <= 0),
                "tags": tags,
                "track_id": state.track_id,
                "session_type": state.session_type,
                "visual_tyre_compound": int(state.visual_tyre_compound[car]),
                "weather": state.weather,
                "driver_name": str(state.driver_name[car]),
                "team_id": int(state.team_id[car]),
                "completed_frame": int(lap["overall_frame"][next_row]),
                "completed_unix_s": float(recv_unix_s[lap["datagram_index"][next_row]]),
            }
            wait_s = HISTORY_WAIT_S if state.packet_format >= 2021 else 0.0
            state.pending_laps.append(
                _PendingLap(values, float(lap["session_time_s"][next_row]) + wait_s)
            )
            self.counters.laps_completed += 1

        last = _last_of_each(all_cars)
        last_cars = all_cars[last]
        state.has_lap_data[last_cars] = True
        state.lap_number[last_cars] = all_lap[last]
        state.lap_flags[last_cars] = row_flags[last]
        state.pit_status[last_cars] = all_pit[last]
        state.ends_in[last_cars] = all_ends_in[last]
        state.sector1_s[last_cars] = all_s1[last]
        state.sector2_s[last_cars] = all_s2[last]
        state.lap_invalid[last_cars] = all_invalid[last]
        state.result_status[last_cars] = all_status[last]

    def _safety_car_at(
        self, state: _SessionState, out: Tables, lap: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Whether a safety car (full or virtual) was out at each lap-data row."""
        status_before = state.safety_car_status
        session = _select(out.get("session"), state.uid)
        if session is None:
            status = np.full(len(lap["car_index"]), status_before)
        else:
            order = np.argsort(session["overall_frame"], kind="stable")
            frames = session["overall_frame"][order]
            values = session["safety_car_status"][order]
            at = np.searchsorted(frames, lap["overall_frame"], side="right") - 1
            status = np.where(at >= 0, values[np.maximum(at, 0)], status_before)
        return (status == SAFETY_CAR_FULL) | (status == SAFETY_CAR_VIRTUAL)

    def _resolve_pending_laps(
        self,
        state: _SessionState,
        out: Tables,
        derived: _DerivedRows,
    ) -> None:
        """Confirm waiting laps against Session History; release them when due."""
        if not state.pending_laps:
            return
        history = _select(out.get("session_history"), state.uid)
        now_s = state.latest_session_time_s
        if history is not None:
            now_s = max(now_s, float(history["session_time_s"].max()))
            keys = _lap_key(history["car_index"].astype("i8"), history["lap_number"])
        rows = derived.laps
        still_waiting: list[_PendingLap] = []
        for pending in state.pending_laps:
            values = pending.values
            confirmed = False
            if history is not None:
                key = _lap_key(values["car_index"], values["lap_number"])
                match = np.flatnonzero((keys == key) & (history["lap_time_s"] > 0))
                if len(match):
                    self._apply_history(values, history, int(match[-1]))
                    confirmed = True
            if confirmed or now_s >= pending.deadline_session_time_s:
                values["tags"] = tag_text(values["tags"])
                rows.append(values)
            else:
                still_waiting.append(pending)
        state.pending_laps = still_waiting

    def _drop_unchanged_history(self, state: _SessionState, out: Tables) -> None:
        """Keep only Session History rows that say something new.

        Each history packet repeats every lap of one car (20 packets/s cycling
        through the grid), so late in a 50-lap race it would add ~1,000 rows/s of
        repeats; a lap's row is stored when its values first appear or change.
        """
        history = out.get("session_history")
        if history is None:
            return
        mine = np.flatnonzero(history["session_uid"] == state.uid)
        if not len(mine):
            return
        cars = history["car_index"][mine].astype("i8")
        laps = history["lap_number"][mine].astype("i8") - 1
        in_table = (laps >= 0) & (laps < MAX_HISTORY_LAPS)
        values = np.column_stack(
            [history[name][mine].astype("f8") for name in HISTORY_VALUES]
        )
        stored = state.history[cars, np.clip(laps, 0, MAX_HISTORY_LAPS - 1)]
        same = np.all((values == stored) | (np.isnan(values) & np.isnan(stored)), 1)
        # A repeat inside this batch of a change also in this batch is dropped too.
        keys = cars * MAX_HISTORY_LAPS + laps
        first_of_value = np.ones(len(mine), bool)
        order = np.lexsort((np.arange(len(mine)), *values.T[::-1], keys))
        repeat = np.all(values[order][1:] == values[order][:-1], 1) & (
            keys[order][1:] == keys[order][:-1]
        )
        first_of_value[order[1:][repeat]] = False
        new = ~(same & in_table) & first_of_value
        state.history[cars[in_table], laps[in_table]] = values[in_table]
        if new.all():
            return
        drop = np.zeros(len(history["session_uid"]), bool)
        drop[mine[~new]] = True
        out["session_history"] = {name: a[~drop] for name, a in history.items()}

    def _apply_history(
        self, values: dict[str, Any], history: dict[str, np.ndarray], row: int
    ) -> None:
        """Prefer the game's Session History times and valid flag for a lap."""
        self.counters.laps_from_history += 1
        lap_time = float(history["lap_time_s"][row])
        if not abs(lap_time - values["lap_time_s"]) <= 0.001:
            log.info(
                "car %s lap %s: history lap time %.3f s replaces %.3f s",
                values["car_index"],
                values["lap_number"],
                lap_time,
                values["lap_time_s"],
            )
        values["lap_time_s"] = lap_time
        for name in ("sector1", "sector2", "sector3"):
            values[f"{name}_s"] = _positive_or_nan(
                float(history[f"{name}_time_s"][row])
            )
        valid = int(history["lap_valid_flags"][row]) & 1
        values["is_valid"] = valid
        tags = values["tags"]
        values["tags"] = tags & ~TAG_INVALID if valid else tags | TAG_INVALID


def _lap_key(car_index: Any, lap_number: Any) -> Any:
    """One integer per (car, lap): car index * 1000 + lap number (scalars or
    arrays)."""
    return car_index * 1000 + lap_number


def _stored_through(state: _SessionState, table: str) -> int:
    """The last overall frame of ``table`` not to write again (-1: none)."""
    return max(state.stored_through.get(table, -1), state.resent_through)


def _trusted_frames(latest: int, overall: np.ndarray) -> np.ndarray:
    """Which of a session's ``overall`` frames can follow ``latest`` (-1: none
    yet, then the batch's median stands in): those at most ``MAX_FRAME_JUMP``
    ahead of it."""
    if not len(overall):
        return np.zeros(0, bool)
    base = latest if latest >= 0 else int(np.median(overall))
    return np.asarray(overall <= base + MAX_FRAME_JUMP)


def _split_at_datagram(tables: Tables, datagram: int) -> tuple[Tables, Tables]:
    """The rows of datagrams before ``datagram``, and those from it on."""
    before: Tables = {}
    after: Tables = {}
    for kind, columns in tables.items():
        early = columns["datagram_index"] < datagram
        if early.any():
            before[kind] = {name: a[early] for name, a in columns.items()}
        if not early.all():
            after[kind] = {name: a[~early] for name, a in columns.items()}
    return before, after


def _concatenate_tables(parts: list[Tables]) -> Tables:
    """Tables of consecutive parts of one batch, joined in order."""
    joined: Tables = {}
    for kind in dict.fromkeys(kind for part in parts for kind in part):
        pieces = [part[kind] for part in parts if kind in part]
        if len(pieces) == 1:
            joined[kind] = pieces[0]
            continue
        joined[kind] = {
            name: np.concatenate([piece[name] for piece in pieces])
            for name in pieces[0]
        }
    return joined


def _select(
    columns: dict[str, np.ndarray] | None, uid: int
) -> dict[str, np.ndarray] | None:
    """The rows of one session UID, or None when there are none."""
    if columns is None:
        return None
    mine = columns["session_uid"] == uid
    if not mine.any():
        return None
    if mine.all():
        return columns
    return {name: array[mine] for name, array in columns.items()}


def _last_of_each(sorted_keys: np.ndarray) -> np.ndarray:
    """Indices of the last row of each run of equal keys in a sorted array."""
    if not len(sorted_keys):
        return np.zeros(0, "i8")
    return np.flatnonzero(np.append(sorted_keys[1:] != sorted_keys[:-1], True))


def _datagram_headers(tables: Tables) -> dict[str, np.ndarray] | None:
    """One header per datagram (session UID, frames, format), by datagram index."""
    names = (
        "datagram_index",
        "session_uid",
        "frame",
        "overall_frame",
        "packet_format",
        "session_time_s",
    )
    parts = [tables[kind] for kind in tables if len(tables[kind]["datagram_index"])]
    if not parts:
        return None
    combined = {name: np.concatenate([p[name] for p in parts]) for name in names}
    _, first = np.unique(combined["datagram_index"], return_index=True)
    return {name: array[first] for name, array in combined.items()}
