"""Forms of the 星级测算 pages (the cost fields are read by app.stars.costs.parse_costs)."""

from wtforms import HiddenField

from app.forms_base import Form as FlaskForm


class RecomputeForm(FlaskForm):
    """Only the CSRF token: the recompute takes no input."""


class StepCostsForm(FlaskForm):
    # Fingerprint of the costs the form was filled from (optimistic lock).
    version = HiddenField()
