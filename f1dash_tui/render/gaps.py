"""Tower gaps made consistent with the running order.

The game sends each car's delta to the leader and to the car in front, measured its
own way per car. Around the chequered flag the two kinds disagree: a finished car's
deltas are its finishing margins, a running car's are the time to reach where the
car ahead is *now* (on its cool-down lap). A running P6 then shows a smaller gap to
the leader than the finished P5 ahead of it (seen in the simulator's finish: +0.813
behind +0.900). The tower must never show a car ahead of the car it is behind.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from f1dash_tui.store.snapshots import TowerRow


def _value(seconds: float | None) -> float | None:
    if seconds is None or not math.isfinite(seconds):
        return None
    return float(seconds)


def _whole_ms(seconds: float) -> float:
    return round(seconds * 1000) / 1000


def ordered_gaps(
    rows: Sequence[TowerRow],
) -> list[tuple[float | None, float | None]]:
    """(gap to leader, interval) per row (rows in position order), consistent with
    the order.

    - An interval is never negative: nobody is ahead of the car in front.
    - For cars on the same lap as the car in front, the gap to the leader never
      shrinks down the tower; a gap that would is raised to the front car's gap plus
      the interval to it (the interval is measured car to car, the closer figure).
    - Cars on another lap than the car in front keep the game's gap (a lapped car's
      gap is the game's to define). The leader has neither.
    - Gaps are whole milliseconds (what the tower shows), and where a car's gap and
      the front car's are both known the interval is their difference, so the Int
      column always agrees with the Gap column. The game's own interval is
      measured another way and disagrees: the real Melbourne capture sends P3
      +2.150 behind P2 +1.033 with an interval of +1.134, and the demo showed
      +2.118 then +2.170 with +0.000. The game's interval is kept where a gap is
      missing, or where a car a lap apart is sent ahead of the car in front (a
      difference would be negative).
    """
    result: list[tuple[float | None, float | None]] = []
    previous_gap: float | None = 0.0
    for index, row in enumerate(rows):
        if index == 0:
            result.append((None, None))
            previous_gap = 0.0
            continue
        gap = _value(row.gap_to_leader_s)
        interval = _value(row.interval_s)
        if interval is not None:
            interval = max(0.0, interval)
        same_lap = row.lap_number == rows[index - 1].lap_number
        if (
            same_lap
            and gap is not None
            and previous_gap is not None
            and (gap < previous_gap)
        ):
            gap = previous_gap + (interval or 0.0)
        if gap is not None:
            gap = _whole_ms(max(0.0, gap))
            if previous_gap is not None and gap >= previous_gap:
                interval = _whole_ms(gap - previous_gap)
        result.append((gap, interval))
        previous_gap = gap
    return result
