"""Shared leaf modules: settings, the warehouse layout, run types, history, DuckDB helpers."""
