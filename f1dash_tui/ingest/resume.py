"""What a starting ingest reads back from its store, to carry on where it stopped.

An ingest that starts on a store already holding sessions (restarted after a crash
or Ctrl-C, or a capture replayed again) must neither write those sessions' rows a
second time nor lose what the stopped one still held in memory:

- ``known_sessions``: the sessions stored (no second ``sessions`` row for them);
- ``stored_through``: per session and table, the last overall frame stored (rows up
  to it are not written again);
- ``stored_laps``: per session, the (car, lap) of every completed lap stored;
- ``catch_up_tables``: the last ``CATCH_UP_S`` of the newest session's lap data
  (with its participants, session, car status and Session History rows), in the
  shape the decoder gives, so that ``SessionTracker`` holds every car's open lap
  again. Laps completed in those seconds whose rows a killed ingest held back while
  they waited for Session History (up to ``session.HISTORY_WAIT_S``) are then
  completed anew and written; and a live stream that continues the session goes on
  from each car's lap, names and tyres instead of from nothing.

Any of these reads failing (a HeavyDB server not up yet) is logged and leaves the
tracker knowing less: rows may then be written twice, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np

from f1dash_tui.errors import StoreError
from f1dash_tui.store.base import Store, unix_seconds
from f1dash_tui.store.schema import TABLES

log = logging.getLogger(__name__)

Tables = dict[str, dict[str, np.ndarray]]

CATCH_UP_S = 10.0
"""Session time of the newest session's stored lap data read back at start: more
than ``HISTORY_WAIT_S`` (3 s) a lap can wait, plus the rows of each car's lap
before it ended (its sectors). Tags that need the whole lap (out, pit, safety car)
are only seen within these seconds for a lap completed anew."""

CATCH_UP_MAX_FRAMES = 20_000
"""Overall frames searched back from the last stored one for those seconds, so the
read uses the (session, overall frame) index: 10 s are at most 2,400 frames even
at the game's 240 fps."""

RESUME_FRAME_COLUMNS = {
    **dict.fromkeys(
        (
            "motion",
            "lap_data",
            "car_telemetry",
            "car_status",
            "car_damage",
            "participants",
            "session",
            "event",
            "final_classification",
            "session_history",
        ),
        "overall_frame",
    ),
    "rewinds": "at_overall_frame",
}
"""Table -> its overall-frame column, for the tables ingest writes per session.
Laps are matched by (car, lap) instead (``stored_laps``): they are written when
confirmed, not in frame order."""

_CATCH_UP_KINDS = ("session", "participants", "car_status", "lap_data")
"""Read back in this order within a frame (the datagram order the game uses);
Session History rows follow."""

_LATEST_PACKET_ONLY = ("session", "participants")
"""Kinds read back as their last stored packet only: they hold names, track and
weather, not samples."""


def known_sessions(store: Store) -> dict[int, tuple[int, int]]:
    """Sessions already in the store: UID -> (track_id, session_type)."""
    try:
        rows = store.fetch("SELECT session_uid, track_id, session_type FROM sessions")
    except StoreError as error:
        log.warning("cannot read the store's sessions yet (%s)", error)
        return {}
    return {int(uid): (int(track), int(kind)) for uid, track, kind in rows}


def stored_through(store: Store, uids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Sessions already in the store: UID -> table -> the last overall frame stored.

    Batches are written whole and in datagram order, so every row of a table up to
    its last stored frame is there, and none after it; per table, because a frame's
    packets can straddle two batches (one MAX per session and table, on an index
    that starts with the session UID).
    """
    through: dict[int, dict[str, int]] = {}
    try:
        for uid in uids:
            for table, column in RESUME_FRAME_COLUMNS.items():
                rows = store.fetch(
                    f"SELECT MAX({column}) FROM {table} WHERE session_uid = ?", [uid]
                )
                if rows and rows[0][0] is not None:
                    through.setdefault(uid, {})[table] = int(rows[0][0])
    except StoreError as error:
        log.warning("cannot read how far the store holds its sessions (%s)", error)
        return {}
    return through


def stored_laps(store: Store, uids: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    """Sessions already in the store: UID -> (car index, lap number) of each lap."""
    laps: dict[int, list[tuple[int, int]]] = {}
    try:
        for uid in uids:
            rows = store.fetch(
                "SELECT car_index, lap_number FROM laps WHERE session_uid = ?", [uid]
            )
            if rows:
                laps[uid] = [(int(car), int(lap)) for car, lap in rows]
    except StoreError as error:
        log.warning("cannot read the store's completed laps (%s)", error)
        return {}
    return laps


def catch_up_tables(
    store: Store, through: dict[int, dict[str, int]]
) -> tuple[Tables, np.ndarray]:
    """The newest stored session's last ``CATCH_UP_S`` of lap data and what goes
    with it, as decoded tables (``datagram_index`` in frame order), and a receive
    time per datagram; empty when there is none (or it cannot be read).

    Only sessions in formats with an overall frame (2023 on) are read back: the
    frame older formats get is synthesised per ingest, so their stored frames
    cannot be told from the new ones.
    """
    try:
        newest = store.fetch(
            "SELECT session_uid, started_unix_s, packet_format FROM sessions "
            "ORDER BY started_unix_s DESC LIMIT 1"
        )
        if not newest:
            return {}, np.zeros(0)
        uid, started_unix_s, packet_format = newest[0]
        uid = int(uid)
        last_frame = through.get(uid, {}).get("lap_data")
        if last_frame is None or int(packet_format) < 2023:
            return {}, np.zeros(0)
        last = store.fetch(
            "SELECT MAX(session_time_s) FROM lap_data "
            "WHERE session_uid = ? AND overall_frame = ?",
            [uid, last_frame],
        )
        since_s = float(last[0][0]) - CATCH_UP_S
        since_frame = last_frame - CATCH_UP_MAX_FRAMES
        parts = []
        for kind in _CATCH_UP_KINDS:
            if kind in _LATEST_PACKET_ONLY:
                # Its last packet, however long ago (participants come every 5 s).
                frame = through[uid].get(kind, since_frame)
                rows = _read_back(store, kind, uid, frame, -1.0)
            else:
                rows = _read_back(store, kind, uid, since_frame, since_s)
            parts.append((kind, rows))
        # Session History rows are stored when they change: no frame bound.
        parts.append(
            ("session_history", _read_back(store, "session_history", uid, 0, since_s))
        )
    except StoreError as error:
        log.warning("cannot read back the store's newest session (%s)", error)
        return {}, np.zeros(0)
    tables = _in_datagram_order([(kind, rows) for kind, rows in parts if rows])
    if not tables:
        return {}, np.zeros(0)
    datagrams = 1 + max(int(t["datagram_index"].max()) for t in tables.values())
    recv_unix_s = np.zeros(datagrams)
    started_s = unix_seconds(started_unix_s) or 0.0
    for columns in tables.values():
        # Close enough for completed_unix_s: the session's start plus its time.
        recv_unix_s[columns["datagram_index"]] = started_s + columns["session_time_s"]
    log.info(
        "read back %.0f s of session %d (%d datagrams) to carry on its laps",
        CATCH_UP_S,
        uid,
        datagrams,
    )
    return tables, recv_unix_s


def _read_back(
    store: Store, kind: str, uid: int, since_frame: int, since_s: float
) -> dict[str, np.ndarray]:
    """Rows of ``kind`` in the session from ``since_frame``/``since_s`` on, as
    decoded columns (the names the decoder gives)."""
    table = TABLES[kind]
    names = ", ".join(column.name for column in table.columns)
    rows = store.fetch(
        f"SELECT {names} FROM {kind} WHERE session_uid = ? AND overall_frame >= ? "
        "AND session_time_s >= ? ORDER BY overall_frame",
        [uid, since_frame, since_s],
    )
    if not rows:
        return {}
    values = list(zip(*rows, strict=True))
    return {
        column.input_name: np.array(value, dtype=column.numpy_dtype)
        for column, value in zip(table.columns, values, strict=True)
    }


def _in_datagram_order(parts: list[tuple[str, dict[str, np.ndarray]]]) -> Tables:
    """Give each (kind, overall frame) one datagram index, ordered by frame and
    then by kind as listed, as if the rows had just been received."""
    keys = [
        (frame, order)
        for order, (_, columns) in enumerate(parts)
        for frame in np.unique(columns["overall_frame"]).tolist()
    ]
    index_of = {key: index for index, key in enumerate(sorted(keys))}
    tables: Tables = {}
    for order, (kind, columns) in enumerate(parts):
        frames = columns["overall_frame"].tolist()
        columns["datagram_index"] = np.array(
            [index_of[(frame, order)] for frame in frames], dtype="i8"
        )
        tables[kind] = columns
    return tables
