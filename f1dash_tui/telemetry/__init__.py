"""F1 game UDP telemetry: packet layouts (2018-2026), batch decoding, pcap, UDP, replay.

Nothing here imports Textual or touches a database.
"""
