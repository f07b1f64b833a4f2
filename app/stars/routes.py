"""Routes of the 星级测算 pages."""

from app.stars import bp  # noqa: F401
