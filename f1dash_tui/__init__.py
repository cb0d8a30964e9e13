"""f1dash-tui: live F1 game UDP telemetry in the terminal, stored in SQLite or HeavyDB.

Layers (see docs/ARCHITECTURE.md):
    telemetry/  packet layouts, batch decoding, pcap, UDP, replay, simulator (no Textual)
    ingest/     decoded packets -> table batches, session logic, one writer (no Textual)
    store/      schema, SQLite and HeavyDB backends, the dashboard's queries (no Textual)
    render/     pure drawing functions: traces, track map, formatting (no Textual)
    ui/         the Textual app
"""

__version__ = "0.1.0"
