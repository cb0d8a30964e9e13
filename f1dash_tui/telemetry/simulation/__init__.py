"""The simulator's parts: ``track`` (outline and speed profile), ``race`` (the cars'
state, advanced per tick) and ``packing`` (that state as game packets).

The public entry points are in ``telemetry.simulator``.
"""
