"""The track map: racing lines and car markers drawn with text on a dot canvas.

Braille (2x4 dots per cell) by default; half-block quadrants (2x2) or plain ASCII
(1x1) where the terminal font lacks braille (the Linux console). No image protocol.

Why not plotext here: a plotext scatter of a 3,000-point lap measured 30 ms per build
at 100x40, the whole refresh budget (p95 < 30 ms), and the map changes every poll.
This canvas is numpy binning plus one pass over the cells (< 2 ms at 160x48).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rich.style import Style
from rich.text import Span, Text

MapStyle = Literal["braille", "block", "ascii"]
MAP_STYLES: tuple[MapStyle, ...] = ("braille", "block", "ascii")

CELL_ASPECT = 2.0
"""A terminal cell is about twice as tall as wide."""

# Dots per cell (columns, rows) for each style.
_DOTS: dict[str, tuple[int, int]] = {
    "braille": (2, 4),
    "block": (2, 2),
    "ascii": (1, 1),
}

# Braille dot bit for (column, row) inside a cell (Unicode 2800 block layout).
_BRAILLE_BITS = np.array([[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]])
# Quadrant characters indexed by bits: 1 upper-left, 2 upper-right, 4 lower-left,
# 8 lower-right.
_QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
_BLOCK_BITS = np.array([[1, 4], [2, 8]])

_BIT_VALUES = 1 << np.arange(8)
_GLYPHS: dict[str, np.ndarray] = {
    "braille": np.array([" ", *(chr(0x2800 + bits) for bits in range(1, 256))]),
    "block": np.array(list(_QUADRANTS)),
    "ascii": np.array([" ", "."]),
}
"""The glyph for each cell's dot bits, per style (built once: ~0.1 ms a map)."""
CAR_MARKER = "o"
SELECTED_MARKER = "@"


@dataclass(frozen=True)
class MapLayer:
    """A line to draw: world x/z points and the Rich style of its dots."""

    x_m: np.ndarray
    z_m: np.ndarray
    style: str = ""
    dots_only: bool = False
    """Plot the points as they are (no joining line): for scattered positions."""


@dataclass(frozen=True)
class MapCar:
    """A car marker at a world position."""

    car_index: int
    x_m: float
    z_m: float
    style: str = ""
    label: str = ""
    """Shown beside the marker of the selected car."""


@dataclass(frozen=True)
class _Frame:
    """World-to-dot transform for one canvas size."""

    x0: float
    z0: float
    scale: float
    x_offset: float
    z_offset: float


def _finite_range(arrays: Sequence[np.ndarray]) -> tuple[float, float] | None:
    """Smallest and largest finite value over all arrays (None if there is none);
    per array, without joining the ~9,000 outline points into one every poll."""
    lows, highs = [], []
    for values in arrays:
        values = np.asarray(values, float)
        finite = values[np.isfinite(values)]
        if len(finite):
            lows.append(finite.min())
            highs.append(finite.max())
    if not lows:
        return None
    return float(min(lows)), float(max(highs))


def _fit(
    xs: Sequence[np.ndarray],
    zs: Sequence[np.ndarray],
    dots_w: int,
    dots_h: int,
    y_scale,
) -> _Frame | None:
    x_range = _finite_range(xs)
    z_range = _finite_range(zs)
    if x_range is None or z_range is None:
        return None
    (x0, x1), (z0, z1) = x_range, z_range
    span_x = max(x1 - x0, 1.0)
    span_z = max(z1 - z0, 1.0) * y_scale
    scale = min((dots_w - 1) / span_x, (dots_h - 1) / span_z)
    return _Frame(
        x0=x0,
        z0=z0,
        scale=scale,
        x_offset=(dots_w - 1 - span_x * scale) / 2,
        z_offset=(dots_h - 1 - (z1 - z0) * y_scale * scale) / 2,
    )


def _to_dots(
    frame: _Frame,
    x_m: np.ndarray,
    z_m: np.ndarray,
    dots_h: int,
    y_scale: float,
    *,
    keep_all: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Dot columns and rows of the finite points (of all points, non-finite ones at
    0, with ``keep_all``: the caller skips those)."""
    if keep_all:
        x_m = np.where(np.isfinite(x_m), x_m, frame.x0)
        z_m = np.where(np.isfinite(z_m), z_m, frame.z0)
    else:
        keep = np.isfinite(x_m) & np.isfinite(z_m)
        x_m, z_m = x_m[keep], z_m[keep]
    col = np.rint((x_m - frame.x0) * frame.scale + frame.x_offset).astype(int)
    row_up = (z_m - frame.z0) * y_scale * frame.scale + frame.z_offset
    # The game's +z points "north" on the usual map view; rows count downwards.
    row = (dots_h - 1) - np.rint(row_up).astype(int)
    return col, row


def _densify(x_m: np.ndarray, z_m: np.ndarray, step_m: float) -> tuple[np.ndarray, ...]:
    """Insert points so consecutive dots are at most ``step_m`` apart (no gaps)."""
    if len(x_m) < 2:
        return x_m, z_m
    seg = np.hypot(np.diff(x_m), np.diff(z_m))
    seg = np.where(np.isfinite(seg), seg, 0.0)
    # A jump of more than 200 m is a new lap or a flashback, not a line to draw.
    seg = np.where(seg > 200.0, 0.0, seg)
    pieces = np.maximum(1, np.ceil(seg / max(step_m, 1e-6)).astype(int))
    total = int(pieces.sum()) + 1
    # Already dense (60 Hz samples ~1.5 m apart, the usual case), or a line so
    # sparse that filling it would cost more than it shows: draw it as it is.
    if total == len(x_m) or total > 20 * len(x_m):
        return x_m, z_m
    idx = np.repeat(np.arange(len(seg)), pieces)
    first_of_segment = np.repeat(np.cumsum(pieces) - pieces, pieces)
    frac = (np.arange(len(idx)) - first_of_segment) / np.repeat(pieces, pieces)
    out_x = x_m[idx] + (x_m[idx + 1] - x_m[idx]) * frac
    out_z = z_m[idx] + (z_m[idx + 1] - z_m[idx]) * frac
    return np.append(out_x, x_m[-1]), np.append(out_z, z_m[-1])


def draw_track_map(
    width: int,
    height: int,
    layers: Sequence[MapLayer],
    cars: Sequence[MapCar] = (),
    *,
    selected_car: int | None = None,
    style: MapStyle = "braille",
) -> Text:
    """Draw lines and car markers into ``width`` x ``height`` cells of text (the
    rows of ``track_map_rows`` joined)."""
    rows = track_map_rows(
        width, height, layers, cars, selected_car=selected_car, style=style
    )
    text = Text("\n", no_wrap=True, overflow="crop").join(rows)
    text.no_wrap, text.overflow = True, "crop"
    return text


def track_map_rows(
    width: int,
    height: int,
    layers: Sequence[MapLayer],
    cars: Sequence[MapCar] = (),
    *,
    selected_car: int | None = None,
    style: MapStyle = "braille",
) -> list[Text]:
    """Draw lines and car markers into ``width`` x ``height`` cells: one Text a row.

    Later layers draw over earlier ones; cars draw over lines; the selected car is
    drawn last with ``@`` (others ``o``) and its label, so it is picked out even
    without colour.
    """
    width, height = max(1, width), max(1, height)
    dots_x, dots_y = _DOTS[style]
    dots_w, dots_h = width * dots_x, height * dots_y
    # Scale z so a metre is as tall as it is wide on screen.
    y_scale = (dots_y / dots_x) / CELL_ASPECT
    frame = _fit(
        [layer.x_m for layer in layers] + [np.array([c.x_m for c in cars])],
        [layer.z_m for layer in layers] + [np.array([c.z_m for c in cars])],
        dots_w,
        dots_h,
        y_scale,
    )
    # Dot bits per cell (all layers OR-ed) and, per cell, the style of the last
    # layer that drew there: numpy throughout, one Python pass per row at the end.
    cell_bits = np.zeros((height, width), dtype=np.int32)
    style_ids = np.zeros((height, width), dtype=np.int32)
    style_names: list[str] = [""]
    if frame is not None:
        for layer in layers:
            x_m, z_m = np.asarray(layer.x_m, float), np.asarray(layer.z_m, float)
            if not layer.dots_only:
                x_m, z_m = _densify(x_m, z_m, 0.5 / frame.scale)
            col, row = _to_dots(frame, x_m, z_m, dots_h, y_scale)
            inside = (col >= 0) & (col < dots_w) & (row >= 0) & (row < dots_h)
            col, row = col[inside], row[inside]
            if not len(col):
                continue
            if style == "braille":
                bits = _BRAILLE_BITS[col % 2, row % 4]
            elif style == "block":
                bits = _BLOCK_BITS[col % 2, row % 2]
            else:
                bits = np.ones_like(col)
            cells = (row // dots_y, col // dots_x)
            # OR the dots into their cells: mark (cell, bit) pairs, then pack the 8
            # bits. np.bitwise_or.at does the same but measured ~10x slower on the
            # 9,000 dots of a race's outline.
            flat = (cells[0] * width + cells[1]).astype(np.int64)
            marks = np.zeros((height * width, 8), dtype=bool)
            marks[flat, np.log2(bits).astype(np.int64)] = True
            cell_bits |= (marks @ _BIT_VALUES).reshape(height, width)
            style_names.append(layer.style)
            style_ids[cells] = len(style_names) - 1
    chars = _GLYPHS[style][cell_bits]
    if frame is not None and cars:
        ordered = sorted(cars, key=lambda car: car.car_index == selected_car)
        car_cols, car_rows = _to_dots(
            frame,
            np.array([car.x_m for car in ordered], float),
            np.array([car.z_m for car in ordered], float),
            dots_h,
            y_scale,
            keep_all=True,
        )
        cell_rows = np.clip(car_rows // dots_y, 0, height - 1).tolist()
        cell_cols = np.clip(car_cols // dots_x, 0, width - 1).tolist()
        for car, r, c in zip(ordered, cell_rows, cell_cols, strict=True):
            if not (np.isfinite(car.x_m) and np.isfinite(car.z_m)):
                continue
            is_selected = car.car_index == selected_car
            style_names.append(car.style)
            chars[r, c] = SELECTED_MARKER if is_selected else CAR_MARKER
            style_ids[r, c] = len(style_names) - 1
            if is_selected and car.label:
                label = car.label
                start = c + 1 if c + 1 + len(label) <= width else max(0, c - len(label))
                for offset, letter in enumerate(label[: width - start]):
                    chars[r, start + offset] = letter
                    style_ids[r, start + offset] = len(style_names) - 1
    return _assemble(chars, style_ids, style_names)


def _assemble(
    chars: np.ndarray, style_ids: np.ndarray, style_names: list[str]
) -> list[Text]:
    """Rows of characters into one Text per row, one span per run of a style."""
    parsed = [Style.parse(name) if name else None for name in style_names]
    rows: list[Text] = []
    for row_index in range(chars.shape[0]):
        ids = style_ids[row_index]
        cuts = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist(), len(ids)]
        run_ids = ids[cuts[:-1]].tolist()
        spans = [
            Span(start, end, style)
            for start, end, style_id in zip(cuts, cuts[1:], run_ids, strict=False)
            if (style := parsed[style_id]) is not None
        ]
        rows.append(
            Text(
                "".join(chars[row_index].tolist()),
                spans=spans,
                no_wrap=True,
                overflow="crop",
                end="",
            )
        )
    return rows
