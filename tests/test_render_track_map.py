"""The track map canvas: braille, block and ASCII; car markers picked out."""

from __future__ import annotations

import numpy as np
import pytest

from f1dash_tui.render.track_map import MapCar, MapLayer, draw_track_map


def _circle(radius_m: float = 500.0, n: int = 400) -> MapLayer:
    angle = np.linspace(0, 2 * np.pi, n)
    return MapLayer(radius_m * np.cos(angle), radius_m * np.sin(angle), "dim")


@pytest.mark.parametrize("style", ["braille", "block", "ascii"])
def test_map_fills_requested_size(style: str) -> None:
    text = draw_track_map(40, 12, [_circle()], style=style)  # type: ignore[arg-type]
    lines = text.plain.split("\n")
    assert len(lines) == 12
    assert all(len(line) == 40 for line in lines)
    drawn = sum(ch != " " for ch in text.plain if ch != "\n")
    assert drawn > 30
    if style == "ascii":
        assert text.plain.isascii()
    if style == "braille":
        assert all(ch in " \n" or "\u2800" <= ch <= "\u28ff" for ch in text.plain)


def test_circle_keeps_its_aspect_ratio() -> None:
    # A circle 1000 m across in 80x20 cells: cells are ~2x taller than wide, so it
    # must span about twice as many columns as rows.
    text = draw_track_map(80, 20, [_circle()], style="ascii")
    lines = text.plain.split("\n")
    rows = [i for i, line in enumerate(lines) if line.strip()]
    cols = [i for line in lines for i, ch in enumerate(line) if ch != " "]
    row_span = rows[-1] - rows[0] + 1
    col_span = max(cols) - min(cols) + 1
    assert 1.6 < col_span / row_span < 2.4


def test_selected_car_is_marked_with_symbol_and_label() -> None:
    cars = [
        MapCar(0, 500.0, 0.0, "bold red"),
        MapCar(3, -500.0, 0.0, "bold blue", label="P4 NOR"),
    ]
    text = draw_track_map(60, 15, [_circle()], cars, selected_car=3)
    plain = text.plain
    assert plain.count("@") == 1
    assert plain.count("o") == 1
    assert "P4 NOR" in plain
    # The selected car is on the left (x = -500), the other on the right.
    line = next(line for line in plain.split("\n") if "@" in line)
    assert line.index("@") < line.index("o")


def test_empty_map_is_blank() -> None:
    text = draw_track_map(10, 3, [])
    assert text.plain == "\n".join([" " * 10] * 3)
