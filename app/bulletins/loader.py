"""Bulletins are reached through the plan's region scope (app.access.plan_filter): 404 outside it.
A department user of the region may read a bulletin (it is circulated to the departments it
names); the list of a plan's bulletins is a plan-wide page (app.access.load_viewable_plan)."""

from flask import abort
from sqlalchemy import select

from app.access import plan_filter
from app.extensions import db
from app.models import Bulletin, Plan


def load_bulletin(user, bulletin_id: int) -> Bulletin:
    bulletin = db.session.scalar(
        select(Bulletin)
        .join(Plan, Bulletin.plan_id == Plan.id)
        .where(Bulletin.id == bulletin_id, plan_filter(user))
    )
    if bulletin is None:
        abort(404)
    return bulletin
