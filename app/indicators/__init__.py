"""Indicators: entering, reviewing and approving indicator values and direct standard values."""

from flask import Blueprint

bp = Blueprint("indicators", __name__, template_folder="templates")

from app.indicators import routes  # noqa: E402,F401
