"""f1dash-tui: live F1 game UDP telemetry in the terminal, stored in SQLite or HeavyDB.

Layers (only ui/ imports Textual):
    telemetry/  packet layouts, batch decoding, pcap, UDP, replay, simulator
    ingest/     decoded packets -> table batches, session logic, one writer
    store/      schema, SQLite and HeavyDB backends, the dashboard's queries
    render/     pure drawing functions: traces, track map, formatting
    ui/         the Textual app
"""

__version__ = "0.1.0"
