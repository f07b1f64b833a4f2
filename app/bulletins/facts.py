"""The dated facts of a plan's 考评 (app.engines.assessment), read in a few queries:
milestones with their extension history and finish, lead report submissions, 督办."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from app.dates import local_date
from app.engines.assessment import MilestoneFacts, NoticeFacts
from app.extensions import db
from app.models import Extension, Milestone, Notice, Plan, ProgressReport


def plan_facts(plan: Plan) -> tuple[list[MilestoneFacts], list[NoticeFacts]]:
    milestones = db.session.scalars(
        select(Milestone).where(Milestone.plan_id == plan.id).order_by(Milestone.id)
    ).all()
    extensions = defaultdict(list)
    for ext in db.session.scalars(
        select(Extension)
        .join(Milestone, Extension.milestone_id == Milestone.id)
        .where(Milestone.plan_id == plan.id)
        .order_by(Extension.created_at, Extension.id)
    ):
        extensions[ext.milestone_id].append(ext)
    reports = defaultdict(list)
    for mid, submitted in db.session.execute(
        select(ProgressReport.milestone_id, ProgressReport.submitted_at)
        .join(Milestone, ProgressReport.milestone_id == Milestone.id)
        .where(
            Milestone.plan_id == plan.id,
            ProgressReport.kind == "lead",
            ProgressReport.state != "draft",
            ProgressReport.submitted_at.is_not(None),
        )
    ):
        reports[mid].append(local_date(submitted))
    out = []
    for m in milestones:
        exts = extensions.get(m.id, [])
        if exts:
            dues = [(None, exts[0].old_due)] + [(local_date(e.created_at), e.new_due) for e in exts]
        else:
            dues = [(None, m.due_date)]
        if dues[-1][1] != m.due_date:  # changed outside an extension: in force since that change
            dues.append((local_date(m.updated_at), m.due_date))
        finished = None
        if m.status == "done":  # a done milestone without a recorded finish: the day it last changed
            finished = m.actual_finish or local_date(m.updated_at)
        out.append(
            MilestoneFacts(
                id=m.id,
                department_id=m.lead_department_id,
                dues=tuple(dues),
                finished=finished,
                reports=tuple(sorted(reports.get(m.id, []))),
            )
        )
    notices = [
        NoticeFacts(
            id=n.id,
            department_id=n.department_id,
            reply_due=n.reply_due,
            replied=local_date(n.replied_at) if n.replied_at else None,
        )
        for n in db.session.scalars(
            select(Notice)
            .join(Milestone, Notice.milestone_id == Milestone.id)
            .where(Milestone.plan_id == plan.id)
            .order_by(Notice.id)
        )
    ]
    return out, notices
