"""Name tables checked against the real captures (participants carry both the ids
and the names) and against the specification's numbering changes."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from f1dash_tui.telemetry import enums
from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import read_pcap


def _plain(text: str) -> str:
    """Upper case without accents: 'Nico Hülkenberg' -> 'NICO HULKENBERG'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def _participants(f1_udp_dir: Path, melbourne_pcap: Path) -> list[tuple[int, dict]]:
    """(packetFormat, participants table) for every real Participants packet with
    drivers: the Melbourne 2026 clip, F1 23/24 and the F1 25 race."""
    datagrams = [c.payload for c in read_pcap(melbourne_pcap) if c.payload[6] == 4][:1]
    packets = f1_udp_dir / "packets"
    for path in (
        packets / "f1-game-packet-parser" / "2023-04.bin",
        packets / "f1-game-packet-parser" / "2024-04.bin",
        packets / "gamesdat" / "2025" / "packet-4.bin",
    ):
        datagrams.append(path.read_bytes())
    tables = Decoder().decode(datagrams).tables["participants"]
    result = []
    for index in range(len(datagrams)):
        rows = tables["datagram_index"] == index
        table = {name: values[rows] for name, values in tables.items()}
        result.append((int(table["packet_format"][0]), table))
    return result


def test_driver_ids_match_the_names_in_the_captures(
    f1_udp_dir: Path, melbourne_pcap: Path
) -> None:
    checked = 0
    for _, table in _participants(f1_udp_dir, melbourne_pcap):
        active = int(table["num_active_cars"][0])
        for driver_id, name in zip(
            table["driver_id"][:active], table["name"][:active], strict=True
        ):
            assert int(driver_id) in enums.DRIVERS, (driver_id, name)
            surname = _plain(enums.driver_name(driver_id)).split()[-1]
            assert surname == _plain(name), (driver_id, name)
            checked += 1
    assert checked == 22 + 20 + 20 + 18


def test_2026_team_ids_hold_each_team_s_two_drivers(
    f1_udp_dir: Path, melbourne_pcap: Path
) -> None:
    packet_format, table = _participants(f1_udp_dir, melbourne_pcap)[0]
    assert packet_format == 2026
    teams: dict[str, set[str]] = {}
    for team_id, name in zip(table["team_id"][:22], table["name"][:22], strict=True):
        teams.setdefault(enums.team_name(2026, team_id), set()).add(name)
    assert teams["Cadillac"] == {"PÉREZ", "BOTTAS"}
    assert teams["Audi"] == {"HULKENBERG", "BORTOLETO"}
    assert teams["Ferrari"] == {"HAMILTON", "LECLERC"}
    assert teams["McLaren"] == {"PIASTRI", "NORRIS"}
    assert len(teams) == 11 and all(len(names) == 2 for names in teams.values())


def test_team_numbering_per_format(f1_udp_dir: Path, melbourne_pcap: Path) -> None:
    by_format = dict(_participants(f1_udp_dir, melbourne_pcap))
    for packet_format in (2023, 2024, 2025):
        table = by_format[packet_format]
        names = dict(
            zip(table["name"].tolist(), table["team_id"].tolist(), strict=True)
        )
        assert enums.team_name(packet_format, names["HAMILTON"]) in (
            "Mercedes",
            "Ferrari",
        )
        assert enums.team_name(packet_format, names["VERSTAPPEN"]) == "Red Bull Racing"
    assert enums.team_name(2023, 9) == "Alfa Romeo"
    assert enums.team_name(2024, 9) == "Sauber"
    assert enums.team_name(2025, 6) == "Racing Bulls"
    assert enums.team_name(2019, 4) == "Racing Point"
    assert enums.team_name(2026, 9) == "Team 9"  # 2026 moved the ids to 476+


def test_nationalities_of_known_drivers(f1_udp_dir: Path, melbourne_pcap: Path) -> None:
    expected = {
        "PIASTRI": "Australian",
        "ALONSO": "Spanish",
        "LECLERC": "Monegasque",
        "LAWSON": "New Zealander",
        "ALBON": "Thai",
        "HULKENBERG": "German",
        "VERSTAPPEN": "Dutch",
        "COLAPINTO": "Argentinean",
        "STROLL": "Canadian",
        "NORRIS": "British",
        "PÉREZ": "Mexican",
        "BOTTAS": "Finnish",
        "ANTONELLI": "Italian",
        "HADJAR": "French",
        "BORTOLETO": "Brazilian",
    }
    _, table = _participants(f1_udp_dir, melbourne_pcap)[0]
    for name, nationality in zip(table["name"], table["nationality"], strict=True):
        if name in expected:
            assert enums.nationality_name(nationality) == expected[name], name


def test_session_type_numbering_changed_in_2023() -> None:
    assert enums.session_type_name(2026, 15) == "Race"
    assert enums.session_type_name(2023, 10) == "Sprint Shootout 1"
    assert enums.session_type_name(2022, 10) == "Race"
    assert enums.session_type_name(2022, 13) == "Time Trial"
    assert enums.session_type_name(2019, 12) == "Time Trial"
    assert enums.session_type_name(2024, 18) == "Time Trial"
    assert enums.is_race(2026, 15) and not enums.is_race(2026, 10)
    assert enums.is_race(2021, 10) and not enums.is_race(2021, 15)


def test_event_codes_of_every_capture_are_named(f1_udp_dir: Path) -> None:
    files = (f1_udp_dir / "packets").rglob("*-03-*.bin")
    codes = {path.stem.rsplit("-", 1)[1] for path in files}
    codes |= {
        p.stem.rsplit("-", 1)[1]
        for p in (f1_udp_dir / "packets").rglob("packet-3-*.bin")
    }
    assert len(codes) >= 20
    for code in codes:
        assert code in enums.EVENT_CODES, code
    assert enums.event_name("FTLP") == "Fastest lap"


def test_other_tables() -> None:
    assert enums.track_name(0) == "Melbourne"
    assert enums.track_name(-1) == "Unknown track"
    assert enums.track_name(7) == "Silverstone"
    assert enums.actual_compound_name(2026, 16) == "C5"
    assert enums.actual_compound_name(2025, 22) == "C6"
    assert enums.visual_compound_name(2024, 16) == "Soft"
    assert enums.visual_compound_name(2018, 0) == "Hyper soft"
    assert enums.weather_name(3) == "Light rain"
    assert enums.result_status_name(3) == "Finished"
    assert enums.driver_status_name(1) == "Flying lap"
    assert enums.pit_status_name(2) == "In pit area"
    assert enums.penalty_type_name(4) == "Time penalty"
    assert enums.infringement_type_name(17) == "Pit lane speeding"
    assert len(enums.INFRINGEMENT_TYPES) == 55


@pytest.mark.parametrize(
    ("function", "args", "text"),
    [
        (enums.track_name, (99,), "Track 99"),
        (enums.team_name, (2026, 1234), "Team 1234"),
        (enums.driver_name, (254,), "Driver 254"),
        (enums.session_type_name, (2026, 77), "Session 77"),
        (enums.event_name, ("ZZZZ",), "Event ZZZZ"),
    ],
)
def test_unknown_values_fall_back(function, args, text) -> None:  # type: ignore[no-untyped-def]
    assert function(*args) == text
