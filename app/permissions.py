"""Named permissions per role, and a decorator that checks them."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "department": frozenset({"report", "answer_notice", "enter_value"}),
    "plan_office": frozenset(
        {
            "report",
            "answer_notice",
            "enter_value",
            "review",
            "direct_value",
            "extend",
            "edit_plan",
            "issue_notice",
            "view_region",
            "edit_communities",
        }
    ),
    # A 街道 / 镇 office: assesses its own communities against the community standard.
    "street": frozenset({"assess_community"}),
    "leading_group": frozenset({"issue_notice", "view_region"}),
    "admin": frozenset({"admin", "view_all"}),
    "province": frozenset({"view_all"}),
}


def has_permission(user, permission: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def require(permission: str):
    """Route decorator: log in first, then answer 403 without the permission."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def ensure(user, permission: str) -> None:
    """For object routes: call after the scoped loader, so outsiders get 404 first."""
    if not has_permission(user, permission):
        abort(403)
