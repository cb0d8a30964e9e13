"""Storage: one schema, embedded SQLite and HeavyDB backends, and the queries."""

from f1dash_tui.store.base import Store, open_store
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.store.schema import SCHEMA_VERSION, TABLES

__all__ = ["SCHEMA_VERSION", "TABLES", "DashboardQueries", "Store", "open_store"]
