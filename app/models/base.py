"""Shared column helpers for the models."""

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow


class TimestampMixin:
    # Callables, so each row gets the time it was written, not import time.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
