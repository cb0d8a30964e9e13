"""Packet layouts as numpy structured dtypes, one module per packetFormat."""
