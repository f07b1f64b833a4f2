"""Forms of the bulletin pages."""

from app.forms_base import Form as FlaskForm


class IssueForm(FlaskForm):
    """Only the CSRF token: an on-demand bulletin takes no input."""
