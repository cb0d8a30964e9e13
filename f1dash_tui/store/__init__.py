"""Storage: one schema, an embedded SQLite backend and a HeavyDB backend, and queries."""
