"""The plan office's review of a community's items: approve one, return one with a
reason, or approve every item awaiting review; approving writes the coverage and queues the
plans' recompute."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from app import access
from app.communities import bp, coverage
from app.communities.assessment import STALE
from app.communities.forms import ReturnForm, ReviewForm
from app.engines import community as rules
from app.errors import render_error
from app.extensions import db
from app.locking import is_stale
from app.models import Community, CommunityItem
from app.params import parse_int
from app.permissions import ensure
from workflows import community_review as review
from workflows.forecast_recompute import request_recompute


def _reviewable(item_id: int) -> CommunityItem:
    item = access.load_community_item(current_user, item_id)
    ensure(current_user, "review")
    return item


def _approve(c: Community, items: list[CommunityItem], done: str, anchor: str = ""):
    """Approve the items (all or nothing), write the coverage where it moved, queue those
    plans' recompute and say where the community and the region now stand."""
    back = url_for("communities.community", community_id=c.id)
    try:
        for item in items:
            review.approve(item, current_user)
        db.session.flush()
        plans = coverage.record_coverage(c.region_id, current_user)
        db.session.commit()
    except review.TransitionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back + anchor)
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE)
    except ValueError as exc:  # a coverage link with the wrong unit
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back)
    for plan_id in plans:
        request_recompute(plan_id)
    state = coverage.region_state(c.region_id)
    flash(
        f"{done}{c.name}"
        f"{'已认定为智慧社区' if state.is_smart(c.id) else '尚未达到智慧社区标准'}；"
        f"{coverage.COVERAGE_NAME}：{state.smart}/{state.total} = {rules.fmt(state.rate or 0)}%"
        + ("，星级测算将随之更新。" if plans else "。"),
        "success",
    )
    return redirect(back + anchor)


@bp.route("/community-items/<int:item_id>/approve", methods=["POST"])
@login_required
def approve_item(item_id: int):
    item = _reviewable(item_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_error(400)
    if is_stale(form.version, item):
        return render_error(409, STALE)
    anchor = f"#item-{item.number}"
    return _approve(item.community, [item], f"已通过第 {item.number} 项。", anchor)


@bp.route("/community-items/<int:item_id>/return", methods=["POST"])
@login_required
def return_item(item_id: int):
    item = _reviewable(item_id)
    form = ReturnForm()
    c = item.community
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(e, "error")
        return redirect(url_for("communities.community", community_id=c.id) + f"#item-{item.number}")
    if is_stale(form.version, item):
        return render_error(409, STALE)
    try:
        review.return_(item, current_user, form.reason.data)
        db.session.commit()
    except review.TransitionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE)
    else:
        flash(f"已退回第 {item.number} 项。", "success")
    return redirect(url_for("communities.community", community_id=c.id) + f"#item-{item.number}")


@bp.route("/communities/<int:community_id>/approve-all", methods=["POST"])
@login_required
def approve_all(community_id: int):
    """Approve every item of the community awaiting review, as the page showed them (the
    posted `items` lists id:version of each): all or nothing."""
    c = access.load_community(current_user, community_id)
    ensure(current_user, "review")
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_error(400)
    shown = {}
    for part in (request.form.get("items") or "").split(","):
        item_id, _, version = part.partition(":")
        if parse_int(item_id) is None or parse_int(version) is None:
            return render_error(400)
        shown[int(item_id)] = int(version)
    pending = {i.id: i for i in c.items if i.state == "submitted"}
    if not shown or shown != {i.id: i.version for i in pending.values()}:
        return render_error(409, STALE)
    items = sorted(pending.values(), key=lambda i: i.position)
    return _approve(c, items, f"已通过 {len(items)} 项。")
