"""The milestone page's predecessor picker: a search as you type (JSON, at most 20 matches
from the same plan) and the form, which takes a milestone's number (#id), code or exact
title, so it works without JavaScript and is checked again on the server."""

import re

from flask import jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app import access
from app.dates import cn_date
from app.extensions import db
from app.listing import like_escape, search_text
from app.models import Milestone
from app.permissions import ensure
from app.plans import bp
from app.plans.forms import DependencyForm

LIMIT = 20
NUMBER_RE = re.compile(r"^#?([0-9]{1,9})(?:\s|$)", re.ASCII)


class PredecessorForm(DependencyForm):
    predecessor_id = StringField(
        "前置里程碑",
        validators=[DataRequired("请填写前置里程碑的编号或代码。"), Length(max=300)],
    )


def label(m: Milestone) -> str:
    return f"#{m.id} {m.title}（{cn_date(m.due_date)}）"


def _others(m: Milestone):
    return select(Milestone).where(Milestone.plan_id == m.plan_id, Milestone.id != m.id)


def resolve(m: Milestone, text: str) -> Milestone | None:
    """The milestone of m's plan that the typed text names: #id (what the picker fills in),
    a bare number, a code (key) or an exact title; None when there is no single one."""
    text = search_text(text, limit=1000)  # exact key or title: not cut to a search box's length
    if not text:
        return None
    number = NUMBER_RE.match(text)
    if number:
        return db.session.scalar(_others(m).where(Milestone.id == int(number.group(1))))
    by_key = db.session.scalar(_others(m).where(Milestone.key == text))
    if by_key is not None:
        return by_key
    titled = db.session.scalars(_others(m).where(Milestone.title == text).limit(2)).all()
    return titled[0] if len(titled) == 1 else None


def search(m: Milestone, text: str) -> list[Milestone]:
    text = search_text(text, limit=100)
    q = _others(m)
    if text:
        number = NUMBER_RE.match(text)
        conds = [
            func.lower(Milestone.title).like(f"%{like_escape(text.lower())}%", escape="\\"),
            func.lower(Milestone.key).like(f"%{like_escape(text.lower())}%", escape="\\"),
        ]
        if number:
            conds.append(Milestone.id == int(number.group(1)))
        q = q.where(or_(*conds))
    return db.session.scalars(q.order_by(Milestone.due_date, Milestone.id).limit(LIMIT)).all()


@bp.route("/milestones/<int:milestone_id>/predecessor-options")
@login_required
def predecessor_options(milestone_id: int):
    """At most 20 milestones of the same plan matching ?q= (number, code or words of the title)."""
    m = access.load_milestone(current_user, milestone_id)
    ensure(current_user, "edit_plan")
    found = search(m, request.args.get("q", ""))
    return jsonify(
        [
            {"id": o.id, "key": o.key, "title": o.title, "due": o.due_date.isoformat(), "label": label(o)}
            for o in found
        ]
    )
