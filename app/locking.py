"""Optimistic locking in forms: the version a form was drawn from against the row now.

Rows carry `version` (SQLAlchemy's version_id_col, so a racing UPDATE fails with
StaleDataError); forms carry it in a hidden field, so an edit from an old page is
refused (409) before anything is written.
"""


def is_stale(field, row) -> bool:
    """True when the hidden `field` (a WTForms field) no longer matches row.version."""
    return str(row.version) != (field.data or "")
