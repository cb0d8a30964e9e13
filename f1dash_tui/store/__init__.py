"""Storage: one schema, an embedded SQLite and a HeavyDB backend, and the queries."""
