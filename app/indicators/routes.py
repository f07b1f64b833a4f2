"""Routes of the indicator pages."""

from app.indicators import bp  # noqa: F401
