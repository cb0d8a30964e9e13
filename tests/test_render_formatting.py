"""Lap-time, gap, age and unit formatting (no app needed)."""

from __future__ import annotations

import math

from f1dash_tui.render import formatting as fmt


def test_lap_time_minutes_seconds_millis() -> None:
    assert fmt.format_lap_time(81.432) == "1:21.432"
    assert fmt.format_lap_time(59.9994) == "59.999"
    assert fmt.format_lap_time(59.9996) == "1:00.000"
    assert fmt.format_lap_time(28.5) == "28.500"


def test_lap_time_missing_values_show_placeholder() -> None:
    assert fmt.format_lap_time(None) == fmt.MISSING
    assert fmt.format_lap_time(math.nan) == fmt.MISSING
    assert fmt.format_lap_time(0.0) == fmt.MISSING


def test_gaps_and_deltas() -> None:
    assert fmt.format_gap(1.25) == "+1.250"
    assert fmt.format_gap(0.5, is_leader=True) == "LEADER"
    assert fmt.format_gap(75.5) == "+1:15.500"
    assert fmt.format_gap(None) == fmt.MISSING
    assert fmt.format_delta(-0.231) == "-0.231"
    assert fmt.format_delta(0.1) == "+0.100"


def test_ages_and_clock() -> None:
    assert fmt.format_age(0.42) == "0.4s"
    assert fmt.format_age(12.2) == "12s"
    assert fmt.format_age(185) == "3m05s"
    assert fmt.format_age(7800) == "2h10m"
    assert fmt.format_clock(3725) == "1:02:05"
    assert fmt.format_clock(65) == "1:05"


def test_units() -> None:
    assert fmt.format_speed(312.4) == "312 km/h"
    # 100 mph is 160.9344 km/h by definition of the mile.
    assert fmt.format_speed(160.9344, "imperial") == "100 mph"
    assert fmt.format_temperature(30) == "30°C"
    assert fmt.format_temperature(30, "imperial") == "86°F"
    assert fmt.format_gear(-1) == "R"
    assert fmt.format_gear(0) == "N"
    assert fmt.format_gear(7) == "7"
    assert fmt.format_percent(0.75, is_fraction=True) == "75%"


def test_lap_states_carry_a_letter_not_only_a_colour() -> None:
    overall = fmt.lap_time_state(80.0, 80.0, 80.0)
    personal = fmt.lap_time_state(81.0, 81.0, 80.0)
    ordinary = fmt.lap_time_state(82.0, 81.0, 80.0)
    invalid = fmt.lap_time_state(79.0, 81.0, 80.0, invalid=True)
    assert (overall.symbol, personal.symbol, invalid.symbol) == ("P", "B", "X")
    assert ordinary.symbol == " "
    assert len({overall.symbol, personal.symbol, invalid.symbol}) == 3


def test_penalties() -> None:
    assert fmt.format_penalties(0, 0) == ""
    assert fmt.format_penalties(5, 2) == "+5s W2"


def test_fuel_and_event_speeds_in_imperial_units() -> None:
    # 1 lb = 0.45359237 kg exactly; 1 mph = 1.609344 km/h exactly.
    assert fmt.format_fuel(10.0) == "10.0 kg"
    assert fmt.format_fuel(10.0, "imperial") == "22.0 lb"
    assert fmt.format_fuel(None, "imperial") == fmt.MISSING
    assert fmt.speeds_in_units("299.1 km/h", "imperial") == "185.9 mph"
    assert fmt.speeds_in_units("299.1 km/h") == "299.1 km/h"
    assert fmt.speeds_in_units("+5 s, track limits", "imperial") == (
        "+5 s, track limits"
    )
