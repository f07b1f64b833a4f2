"""The reminder log (administrators, as on /admin/reminders)."""

from __future__ import annotations

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import schemas
from app.api.common import blueprint, need
from app.api.paging import PageArgs, list_endpoint
from app.models import Reminder

bp = blueprint("reminders", "提醒记录")


class ReminderArgs(PageArgs):
    milestone = ma.fields.Integer(
        validate=ma.validate.Range(1, 2**31 - 1), metadata={"description": "里程碑编号"}
    )
    status = schemas.Text(validate=ma.validate.Length(max=16), metadata={"description": "状态"})


@bp.route("/reminders")
@list_endpoint(bp, schemas.ReminderSchema, args=ReminderArgs)
def reminders(args):
    """提醒记录（最新在前）"""
    need("admin")
    stmt = select(Reminder).options(selectinload(Reminder.recipient))
    if args.get("milestone"):
        stmt = stmt.where(Reminder.milestone_id == args["milestone"])
    if args.get("status"):
        stmt = stmt.where(Reminder.status == args["status"])
    return stmt.order_by(Reminder.created_at.desc(), Reminder.id.desc())
