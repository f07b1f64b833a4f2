"""Glue between the database and the pure scoring/forecast engines (no request machinery)."""
