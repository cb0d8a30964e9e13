"""Decoded packets -> append-only table batches: session logic and the single writer."""
