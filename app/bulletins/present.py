"""How the bulletin and 考评 pages and the Excel file write their numbers (one place, so
they agree): rates as 83%（5/6）, probabilities as the 星级测算 page writes them."""

from __future__ import annotations

from flask import url_for

from app.engines.status import LABELS
from app.stars.present import prob

__all__ = ["prob", "rate_text", "share", "signed", "colour_label"]


def rate_text(rate) -> str:
    return "—" if rate is None else f"{round(rate * 100)}%"


def share(part, whole) -> str:
    """83%（5/6）, or — when nothing is due."""
    if not whole:
        return "—"
    return f"{round(part / whole * 100)}%（{part}/{whole}）"


def signed(value, digits=1, unit="") -> str:
    if value is None:
        return "—"
    text = f"{value:+.{digits}f}" if digits else f"{value:+d}"
    return text + unit


def p_change(before, now) -> str:
    """The change of P(target) in percentage points."""
    if before is None or now is None:
        return "—"
    return signed((now - before) * 100, 1, " 个百分点")


def colour_label(colour) -> str:
    return LABELS.get(colour, "—")


def dashboard_link(code: str, department_id: int, colour: str) -> str:
    """The dashboard's list behind one count (the same rows the count counts)."""
    return url_for("dashboard.items", code=code, department=department_id, colour=colour)
