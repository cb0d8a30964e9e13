"""Text formatting for the dashboard: lap times, gaps, ages, units and state symbols.

Pure functions; every one returns a fixed-width-friendly string and a placeholder for a
missing value, so table columns never jump when data arrives.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MISSING = "—"
"""What a cell shows when the store has no value for it."""

KPH_PER_MPH = 1.609344
LB_PER_KG = 2.2046226218
_KPH_IN_TEXT = re.compile(r"(\d+(?:\.\d+)?) km/h")


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_lap_time(seconds: float | None) -> str:
    """A lap or sector time as ``m:ss.mmm`` (``ss.mmm`` under a minute)."""
    if _is_missing(seconds) or seconds is None or seconds <= 0:
        return MISSING
    total_ms = round(seconds * 1000)
    minutes, rest_ms = divmod(total_ms, 60_000)
    secs, millis = divmod(rest_ms, 1000)
    if minutes:
        return f"{minutes}:{secs:02d}.{millis:03d}"
    return f"{secs}.{millis:03d}"


def format_gap(seconds: float | None, *, is_leader: bool = False) -> str:
    """A gap to the leader or the car ahead: ``+1.234``; the leader shows ``LEADER``."""
    if is_leader:
        return "LEADER"
    if _is_missing(seconds) or seconds is None:
        return MISSING
    if seconds >= 60:
        minutes, secs = divmod(seconds, 60)
        return f"+{int(minutes)}:{secs:06.3f}"
    return f"+{seconds:.3f}"


def format_delta(seconds: float | None) -> str:
    """A signed time delta against a reference lap: ``-0.231`` is ahead."""
    if _is_missing(seconds) or seconds is None:
        return MISSING
    return f"{seconds:+.3f}"


def format_age(seconds: float | None) -> str:
    """How old the data on screen is: ``0.4s``, ``12s``, ``3m05s``, ``2h10m``."""
    if _is_missing(seconds) or seconds is None:
        return MISSING
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        minutes, secs = divmod(int(seconds), 60)
        return f"{minutes}m{secs:02d}s"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m"


def format_retry(retry_in_s: float | None) -> str:
    """When a failed poll is tried again, in whole seconds like the age badges.

    ``retry in 12s``, ``retry in <1s``; ``retrying now`` once it is due (the retry
    is running: a reconnect can take seconds); ``retry on resume`` when none is
    scheduled (polling paused). Never "retry in 0s".
    """
    if _is_missing(retry_in_s) or retry_in_s is None:
        return "retry on resume"
    if retry_in_s <= 0:
        return "retrying now"
    if retry_in_s < 1:
        return "retry in <1s"
    if retry_in_s < 60:
        return f"retry in {int(retry_in_s)}s"
    return f"retry in {format_age(retry_in_s)}"


def format_clock(seconds: float | None) -> str:
    """A session clock or time left as ``h:mm:ss`` or ``m:ss``."""
    if _is_missing(seconds) or seconds is None or seconds < 0:
        return MISSING
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_speed(speed_kph: float | None, units: str = "metric") -> str:
    """A speed in the user's units: ``312 km/h`` or ``194 mph``."""
    if _is_missing(speed_kph) or speed_kph is None:
        return MISSING
    if units == "imperial":
        return f"{speed_kph / KPH_PER_MPH:.0f} mph"
    return f"{speed_kph:.0f} km/h"


def speed_in_units(speed_kph: float, units: str = "metric") -> float:
    """A speed converted from km/h to the user's units."""
    return speed_kph / KPH_PER_MPH if units == "imperial" else speed_kph


def format_fuel(fuel_kg: float | None, units: str = "metric") -> str:
    """Fuel mass in the user's units: ``12.3 kg`` or ``27.1 lb``."""
    if _is_missing(fuel_kg) or fuel_kg is None:
        return MISSING
    if units == "imperial":
        return f"{fuel_kg * LB_PER_KG:.1f} lb"
    return f"{fuel_kg:.1f} kg"


def speeds_in_units(text: str, units: str = "metric") -> str:
    """Text with every ``N km/h`` in it (event details) in the user's units."""
    if units != "imperial":
        return text
    return _KPH_IN_TEXT.sub(
        lambda match: f"{float(match.group(1)) / KPH_PER_MPH:.1f} mph", text
    )


def format_temperature(celsius: float | None, units: str = "metric") -> str:
    """A temperature in the user's units: ``31°C`` or ``88°F``."""
    if _is_missing(celsius) or celsius is None:
        return MISSING
    if units == "imperial":
        return f"{celsius * 9 / 5 + 32:.0f}°F"
    return f"{celsius:.0f}°C"


def format_percent(fraction_or_pct: float | None, *, is_fraction: bool) -> str:
    """A percentage from a 0..1 fraction or an already-scaled 0..100 value."""
    if _is_missing(fraction_or_pct) or fraction_or_pct is None:
        return MISSING
    value = fraction_or_pct * 100 if is_fraction else fraction_or_pct
    return f"{value:.0f}%"


def format_gear(gear: int | None) -> str:
    """A gear: ``R`` for reverse (-1), ``N`` for neutral (0), else the number."""
    if gear is None:
        return MISSING
    if gear < 0:
        return "R"
    if gear == 0:
        return "N"
    return str(gear)


# Sector/lap states carry a letter as well as a colour, so the meaning survives
# NO_COLOR and colour-blind themes.
@dataclass(frozen=True)
class TimeState:
    """How a timed value compares: its symbol and a style name for colouring."""

    symbol: str
    style: str


OVERALL_BEST = TimeState("P", "overall-best")
"""Fastest of anyone (purple)."""
PERSONAL_BEST = TimeState("B", "personal-best")
"""The driver's own best (green)."""
ORDINARY = TimeState(" ", "ordinary")
INVALID = TimeState("X", "invalid")
"""The lap was invalidated (track limits)."""


def lap_time_state(
    lap_s: float | None,
    personal_best_s: float | None,
    overall_best_s: float | None,
    *,
    invalid: bool = False,
    confirmed: bool = True,
) -> TimeState:
    """Classify a lap (or sector) time against the driver's and the field's bests.

    An unconfirmed time (one whose validity is not known yet) is never a best.
    """
    if invalid:
        return INVALID
    if _is_missing(lap_s) or lap_s is None or not confirmed:
        return ORDINARY
    if overall_best_s is not None and lap_s <= overall_best_s + 1e-6:
        return OVERALL_BEST
    if personal_best_s is not None and lap_s <= personal_best_s + 1e-6:
        return PERSONAL_BEST
    return ORDINARY


def format_penalties(penalties_s: int, total_warnings: int) -> str:
    """Time penalties and track-limit warnings: ``+5s W2`` (empty when clean)."""
    parts = []
    if penalties_s:
        parts.append(f"+{penalties_s}s")
    if total_warnings:
        parts.append(f"W{total_warnings}")
    return " ".join(parts)


def format_wheels(
    values: tuple[float, float, float, float] | None, fmt: str = "{:.0f}"
) -> tuple[str, str, str, str]:
    """Four wheel values in the game's order (RL, RR, FL, FR) as strings."""
    if values is None:
        return (MISSING, MISSING, MISSING, MISSING)
    rl, rr, fl, fr = (MISSING if _is_missing(v) else fmt.format(v) for v in values)
    return (rl, rr, fl, fr)
