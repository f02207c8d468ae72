"""Alembic migrations for the scan store, run programmatically when a store opens."""
