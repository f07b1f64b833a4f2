"""Forms of the bulletin pages."""

from flask_wtf import FlaskForm


class IssueForm(FlaskForm):
    """Only the CSRF token: an on-demand bulletin takes no input."""
