"""Which region a 智慧社区 page shows and who may edit it: shared by the matrix, the
assessment and the plan office's pages."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from app import access
from app.extensions import db
from app.models import Community, Department, Region
from app.models.community import STREET_KIND
from app.params import int_arg
from app.permissions import ensure, has_permission


def viewed_region() -> Region:
    """The region whose communities the page shows: the user's own; the province and
    admin choose one (?region=)."""
    if not access.can_view_communities(current_user):
        abort(403)
    if has_permission(current_user, "view_all"):
        rid = int_arg("region", default=None, label="区域")
        if rid is None:
            rid = db.session.scalar(select(Community.region_id).order_by(Community.region_id).limit(1))
        region = db.session.get(Region, rid) if rid else None
        if region is None:
            abort(404)
        return region
    if current_user.region is None:
        abort(404)
    return current_user.region


def streets(region_id: int) -> list[Department]:
    return db.session.scalars(
        select(Department)
        .where(Department.region_id == region_id, Department.kind == STREET_KIND)
        .order_by(Department.name)
    ).all()


def office_region() -> Region:
    """The plan office's own region, whose communities it edits (none: 404)."""
    ensure(current_user, "edit_communities")
    if current_user.region is None:
        abort(404)
    return current_user.region
