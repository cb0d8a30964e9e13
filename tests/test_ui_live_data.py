"""How the dashboard's held data follows polls (incremental traces and their
resets), and the header text made from it.

Hand-built snapshots (the store's contract types) drive LiveData directly; the
Pilot tests in test_ui_app.py cover the same paths on the real capture.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from store_fixtures import tower_row

from f1dash_tui.store.snapshots import (
    CarSamples,
    PipelineHealth,
    SessionInfo,
    TimingTower,
    TowerRow,
    frozen_array,
)
from f1dash_tui.ui.live_data import LiveData
from f1dash_tui.ui.messages import CarUpdate, LiveFrame
from f1dash_tui.ui.widgets.session_header import header_text

UID = 77


def _session(latest_frame: int, uid: int = UID) -> SessionInfo:
    return SessionInfo(
        session_uid=uid,
        packet_format=2025,
        track_id=0,
        session_type=15,
        weather=0,
        track_temperature_c=30,
        air_temperature_c=20,
        total_laps=5,
        track_length_m=5000,
        session_time_left_s=3000.0,
        safety_car_status=0,
        is_synthetic=True,
        latest_frame=latest_frame,
        latest_session_time_s=latest_frame / 60,
    )


def _row(car: int, position: int, lap: int) -> TowerRow:
    return tower_row(
        car,
        position,
        lap,
        race_number=car + 1,
        driver_name=f"DRIVER {car}",
        team_id=0,
        visual_tyre_compound=16,
        tyres_age_laps=1,
        num_pit_stops=0,
    )


def _samples(car: int, lap: int, frames: list[int], **extra: int) -> CarSamples:
    n = len(frames)
    return CarSamples(
        session_uid=UID,
        car_index=car,
        lap_number=lap,
        frame=frozen_array(frames, "i8"),
        lap_distance_m=frozen_array(np.arange(n) * 10.0, "f8"),
        speed_kph=frozen_array(np.full(n, 200.0), "f8"),
        last_overall_frame=frames[-1] if frames else None,
        **extra,  # type: ignore[arg-type]
    )


def _frame(
    latest: int, lap: int, update: CarUpdate | None, uid: int = UID
) -> LiveFrame:
    tower = TimingTower(uid, latest, latest / 60, (_row(0, 1, lap), _row(1, 2, lap)))
    return LiveFrame(_session(latest, uid), tower, None, update)


def test_first_poll_selects_the_leader_and_takes_the_trace() -> None:
    live = LiveData()
    parts, new_session = live.apply_live_frame(
        _frame(100, 2, CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [98, 99, 100])))
    )
    assert new_session
    assert live.selected_car == 0
    assert live.samples is not None and live.samples.frame.tolist() == [98, 99, 100]
    assert {"live", "car"} <= parts


def test_a_poll_with_nothing_new_changes_no_version() -> None:
    live = LiveData()
    live.apply_live_frame(
        _frame(100, 2, CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [99, 100])))
    )
    versions = dict(live.versions)
    # The store has not moved: same frame, no samples after frame 100.
    parts, new_session = live.apply_live_frame(
        _frame(100, 2, CarUpdate(UID, 0, 2, 100, None, _samples(0, 2, [])))
    )
    assert parts == set() and not new_session
    assert dict(live.versions) == versions
    assert live.samples is not None and live.samples.frame.tolist() == [99, 100]
    # One frame later everything that depends on it is redrawn.
    parts, _ = live.apply_live_frame(
        _frame(101, 2, CarUpdate(UID, 0, 2, 100, None, _samples(0, 2, [101])))
    )
    assert {"live", "car"} <= parts
    assert live.versions["live"] == versions["live"] + 1


def test_newer_samples_are_appended() -> None:
    live = LiveData()
    live.apply_live_frame(
        _frame(100, 2, CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [99, 100])))
    )
    live.apply_live_frame(
        _frame(102, 2, CarUpdate(UID, 0, 2, 100, None, _samples(0, 2, [101, 102])))
    )
    assert live.samples is not None
    assert live.samples.frame.tolist() == [99, 100, 101, 102]
    assert live.samples.last_overall_frame == 102


def test_an_answer_to_a_stale_query_is_dropped() -> None:
    # Asked "after 90" but the held trace ends at 100: it belongs to an older state.
    live = LiveData()
    live.apply_live_frame(
        _frame(100, 2, CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [99, 100])))
    )
    live.apply_live_frame(
        _frame(102, 2, CarUpdate(UID, 0, 2, 90, None, _samples(0, 2, [91, 92])))
    )
    assert live.samples is not None and live.samples.frame.tolist() == [99, 100]


def test_a_new_lap_starts_a_new_trace() -> None:
    live = LiveData()
    live.apply_live_frame(
        _frame(100, 2, CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [99, 100])))
    )
    parts, _ = live.apply_live_frame(_frame(160, 3, None))
    assert live.samples is None and "car" in parts


def test_another_car_drops_answers_for_the_previous_one() -> None:
    live = LiveData()
    live.apply_live_frame(
        _frame(100, 2, CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [99, 100])))
    )
    live.selected_car = 1
    live.samples = None
    live.apply_live_frame(
        _frame(101, 2, CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [101])))
    )
    assert live.samples is None


def test_frames_going_back_reset_the_trace() -> None:
    # A flashback: the session's latest frame goes from 500 back to 300.
    live = LiveData()
    live.apply_live_frame(
        _frame(500, 2, CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [499, 500])))
    )
    parts, new_session = live.apply_live_frame(_frame(300, 2, None))
    assert not new_session
    assert live.samples is None and "car" in parts


def test_a_reported_rewind_drops_the_undone_part() -> None:
    live = LiveData()
    live.apply_live_frame(
        _frame(
            500,
            2,
            CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [200, 300, 400, 500])),
        )
    )
    # The store says: rewound to frame 300 since then; here are samples after it.
    rewound = _samples(0, 2, [301, 302], replaces_after_frame=300)
    live.apply_live_frame(_frame(502, 2, CarUpdate(UID, 0, 2, 500, None, rewound)))
    assert live.samples is not None
    assert live.samples.frame.tolist() == [200, 300, 301, 302]


def test_a_new_session_clears_trace_and_events() -> None:
    live = LiveData()
    live.apply_live_frame(
        _frame(100, 2, CarUpdate(UID, 0, 2, None, None, _samples(0, 2, [99, 100])))
    )
    parts, new_session = live.apply_live_frame(_frame(10, 1, None, uid=UID + 1))
    assert new_session
    assert live.samples is None and live.events == ()
    assert {"car", "events"} <= parts


def test_header_names_track_session_weather_and_laps() -> None:
    frame = _frame(600, 3, None)
    text = header_text(
        frame.session,
        frame.tower,
        source_label="synthetic race",
        data_age_s=0.3,
        units="metric",
        polling="polling 0.5s",
        error=None,
    ).plain
    first, second = text.split("\n")
    # trackId 0 is Melbourne, session type 15 is the race (2023+ numbering),
    # weather 0 is clear; the tower's leader is on lap 3 of 5.
    assert first.startswith("Melbourne  Race  Clear")
    assert "air 20°C track 30°C" in first
    assert "lap 3/5" in first
    assert second.startswith("synthetic race  data <1s old  polling 0.5s")


def test_header_puts_the_error_first_and_shows_ingest_health() -> None:
    frame = _frame(600, 3, None)
    health = PipelineHealth(
        last_packet_unix_s=None,
        packets_total=1000,
        packets_per_s=3120.4,
        bad_packets=2,
        bad_by_reason=(),
        write_lag_s=0.05,
    )
    second = header_text(
        frame.session,
        frame.tower,
        source_label="live UDP",
        data_age_s=12.0,
        units="imperial",
        polling="polling 0.5s",
        error="store gone",
        retry="retry in 4s",
        health=health,
    ).plain.split("\n")[1]
    assert second.startswith("! store gone (retry in 4s)")
    assert "no new data for 12s" in second
    assert second.endswith("ingest 3,120 pkt/s, 2 bad lag 0.05s")


def test_header_says_the_demo_replay_ended_not_that_ingest_is_not_running() -> None:
    # The demo feeds its store itself: once the clip ended the header said
    # "ingest not running", though no ingest was ever asked for.
    frame = _frame(600, 3, None)
    health = PipelineHealth(
        last_packet_unix_s=1000.0,
        packets_total=7124,
        packets_per_s=0.0,
        bad_packets=0,
        bad_by_reason=(),
        write_lag_s=0.05,
        written_unix_s=1000.0,
    )
    kwargs: dict[str, Any] = dict(
        source_label="real capture",
        data_age_s=26.0,
        units="metric",
        polling="polling 0.5s",
        error=None,
        health=health,
        health_read_unix_s=1026.0,
        now_unix_s=1026.0,
    )
    demo = header_text(frame.session, frame.tower, feed_name="replay", **kwargs)
    assert demo.plain.endswith("  replay ended (last seen 26s ago)")
    assert "ingest" not in demo.plain
    ingest = header_text(frame.session, frame.tower, **kwargs)
    assert ingest.plain.endswith("  ingest not running (last seen 26s ago)")


def test_header_without_a_session_tells_an_unreadable_store_from_an_empty_one() -> None:
    # A store in a folder SQLite cannot use read "no session in the store yet",
    # with the reason cut off on the line below.
    kwargs: dict[str, Any] = dict(
        source_label="SQLite t.sqlite3",
        data_age_s=None,
        units="metric",
        polling="polling 0.5s",
    )
    unreadable = header_text(None, None, error="cannot open the store: …", **kwargs)
    assert unreadable.plain.split("\n")[0] == (
        "no data: the store cannot be read (below)"
    )
    empty = header_text(None, None, error=None, **kwargs)
    assert empty.plain.split("\n")[0] == "no session in the store yet"


def test_header_marks_a_synthetic_session_whatever_the_source_label() -> None:
    frame = _frame(600, 3, None)
    assert frame.session is not None and frame.session.is_synthetic
    kwargs: dict[str, Any] = dict(
        data_age_s=0.3, units="metric", polling="polling 0.5s", error=None
    )
    second = header_text(
        frame.session, frame.tower, source_label="SQLite sim2.sqlite3", **kwargs
    ).plain.split("\n")[1]
    assert second.startswith("synthetic race  SQLite sim2.sqlite3  data <1s old")
    real = dataclasses.replace(frame.session, is_synthetic=False)
    second = header_text(
        real, frame.tower, source_label="SQLite real.sqlite3", **kwargs
    ).plain.split("\n")[1]
    assert "synthetic" not in second


def test_header_says_when_the_data_stopped() -> None:
    # A replay of the 21 s demo capture ended 74 s ago.
    frame = _frame(600, 3, None)
    text = header_text(
        frame.session,
        frame.tower,
        source_label="real capture",
        data_age_s=74.0,
        units="metric",
        polling="polling 0.5s",
        error=None,
    )
    second = text.plain.split("\n")[1]
    assert "no new data for 1m14s" in second
    assert "data 1m14s old" not in second


def test_header_drops_ingest_health_rather_than_cut_it() -> None:
    frame = _frame(600, 3, None)
    health = PipelineHealth(
        last_packet_unix_s=None,
        packets_total=1000,
        packets_per_s=4180.0,
        bad_packets=0,
        bad_by_reason=(),
        write_lag_s=0.05,
    )
    kwargs: dict[str, Any] = dict(
        source_label="SQLite telemetry.sqlite3",
        data_age_s=0.3,
        units="metric",
        polling="polling 0.5s",
        error=None,
        health=health,
    )
    wide = header_text(frame.session, frame.tower, width=158, **kwargs)
    assert wide.plain.split("\n")[1].endswith("ingest 4,180 pkt/s, 0 bad lag 0.05s")
    # 80 columns less the header's padding: no room for the whole ingest figures.
    narrow = header_text(frame.session, frame.tower, width=78, **kwargs)
    second = narrow.plain.split("\n")[1]
    assert len(second) <= 78
    assert "ingest" not in second


@pytest.mark.parametrize("width", [78, 60, 40, 24])
def test_header_first_line_fits_by_shortening_never_cutting_a_word(
    width: int,
) -> None:
    # The longest first line the game's enums make: trackId 39, 2023+ session type
    # 14, weather 1, a formation lap, in Fahrenheit.
    frame = _frame(600, 3, None)
    assert frame.session is not None
    session = dataclasses.replace(
        frame.session,
        track_id=39,
        session_type=14,
        weather=1,
        air_temperature_c=38,
        track_temperature_c=50,
        total_laps=58,
        safety_car_status=3,
    )
    kwargs: dict[str, Any] = dict(
        source_label="real capture",
        data_age_s=0.3,
        units="imperial",
        polling="polling 0.5s",
        error=None,
    )
    full = header_text(session, frame.tower, **kwargs).plain.split("\n")[0]
    assert full == (
        "Silverstone (Reverse)  One-Shot Sprint Shootout  Light cloud"
        "  air 100°F track 122°F  lap 3/58  [FORMATION]"
    )
    first = header_text(session, frame.tower, width=width, **kwargs).plain
    first = first.split("\n")[0]
    assert len(first) <= width
    # Words come whole: from the full line or its documented short forms.
    known = set(full.split()) | {"rev.", "SSO", "trk"}
    assert set(first.split()) <= known
    assert first.startswith("Silverstone")
    if width >= 40:
        # What is happening now stays to the last.
        assert first.endswith("lap 3/58  [FORMATION]")
    if width >= 78:
        assert "One-Shot SSO" in first and "Light cloud" in first


@pytest.mark.parametrize("width", [158, 118, 78])
def test_header_cuts_a_long_error_to_keep_the_data_age(width: int) -> None:
    # The HeavyDB outage message as the app words it: at 158 columns it pushed
    # "data 3s old" off the line.
    frame = _frame(600, 3, None)
    assert frame.session is not None
    real = dataclasses.replace(frame.session, is_synthetic=False)
    error = (
        "HeavyDB at 127.0.0.1:44917 is unreachable "
        "(Connection refused); is the server running? (store.heavydb.host/port)"
    )
    text = header_text(
        real,
        frame.tower,
        source_label="HeavyDB 127.0.0.1:44917",
        data_age_s=3.2,
        units="metric",
        polling="polling 0.5s",
        error=error,
        retry="retry in <1s",
        width=width,
    )
    second = text.plain.split("\n")[1]
    assert len(second) <= width
    # The news first, its retry after it (kept whole), then the data's age.
    news = "! HeavyDB at 127.0.0.1:44917 is unreachable"
    assert second.startswith(news if width > 78 else news[:24])
    status = "  HeavyDB 127.0.0.1:44917  data 3s old  polling 0.5s"
    # At 78 columns the error's first 22 characters are all the room there is:
    # the retry gives way (the panels' borders carry it).
    retry = " (retry in <1s)" if width > 78 else ""
    assert second.endswith(f"…{retry}{status}")
    assert "last good data" not in second


def test_header_keeps_a_short_error_whole() -> None:
    frame = _frame(600, 3, None)
    assert frame.session is not None
    real = dataclasses.replace(frame.session, is_synthetic=False)
    text = header_text(
        real,
        frame.tower,
        source_label="SQLite telemetry.sqlite3",
        data_age_s=3.2,
        units="metric",
        polling="polling 0.5s",
        error="database is locked",
        retry="retry in 2s",
        width=158,
    )
    assert text.plain.split("\n")[1] == (
        "! database is locked (retry in 2s); showing the last good data  "
        "SQLite telemetry.sqlite3  data 3s old  polling 0.5s"
    )
