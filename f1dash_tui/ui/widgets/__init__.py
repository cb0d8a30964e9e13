"""The dashboard's widgets; each renders frozen snapshots handed to it."""
