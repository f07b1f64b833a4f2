"""One community's assessment page: the 25 items as the street fills them in (save as
draft or submit for review) and the plan office sees them, evidence files downloaded and
taken off. Reading the posted form is assessment_form's."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import access, audit, uploads
from app.communities import bp, coverage
from app.communities.assessment_form import Stale, apply_form
from app.communities.forms import AssessForm, ReturnForm, ReviewForm
from app.engines import community as rules
from app.errors import render_error
from app.extensions import db
from app.locking import is_stale
from app.models import Community
from app.permissions import ensure, has_permission
from workflows import community_review as review

STALE = "该评估项已被他人处理或修改，您的操作未生效。请刷新页面查看最新状态。"


def _can_assess(community: Community) -> bool:
    return (
        has_permission(current_user, "assess_community") and community.street_id == current_user.department_id
    )


def _item_rows(community: Community, posted=None) -> list[dict]:
    have = {i.number: i for i in community.items}
    rows = []
    for spec in coverage.standard_items():
        number = spec["number"]
        item = have.get(number)
        numbers = (item.numbers if item else None) or {}
        rows.append(
            {
                "spec": spec,
                "item": item,
                "quantities": rules.quantities_of(number),
                "numbers": numbers,
                "results": rules.measure(number, numbers, community.households),
                "editable": item is None or item.state in ("draft", "returned"),
                "cell": item.cell if item else "empty",
            }
        )
    return rows


def _render(community: Community, errors=None, status=200):
    rows = _item_rows(community)
    met = sum(1 for r in rows if r["cell"] == "met")
    required = coverage.required_items(community.region_id)
    return (
        render_template(
            "communities/community.html",
            c=community,
            rows=rows,
            met=met,
            required=required,
            smart=rules.is_smart(met, required),
            can_assess=_can_assess(community),
            can_review=has_permission(current_user, "review")
            and community.region_id == current_user.region_id,
            can_edit=has_permission(current_user, "edit_communities"),
            form=AssessForm(formdata=None),
            review_form=ReviewForm(formdata=None),
            return_form=ReturnForm(formdata=None),
            errors=errors or [],
            posted=request.form if errors else {},
        ),
        status,
    )


@bp.route("/communities/<int:community_id>", methods=["GET", "POST"])
@login_required
def community(community_id: int):
    c = access.load_community(current_user, community_id)
    if request.method == "GET":
        return _render(c)
    ensure(current_user, "assess_community")
    if c.street_id != current_user.department_id:
        abort(403)
    if not AssessForm().validate_on_submit():
        return render_error(400)
    action = request.form.get("action", "save")
    if action not in ("save", "submit"):
        return render_error(400)
    written: list[str] = []
    try:
        errors, changed, submitted = apply_form(c, action, written)
        if errors:
            raise review.TransitionError("")
        db.session.commit()
    except review.TransitionError as exc:
        db.session.rollback()
        uploads.discard(written)
        db.session.refresh(c)
        messages = errors if errors else [str(exc)]
        for m in messages:
            flash(m, "error")
        return _render(c, messages, 400)
    except uploads.UploadError as exc:
        db.session.rollback()
        uploads.discard(written)
        db.session.refresh(c)
        flash(str(exc), "error")
        return _render(c, [str(exc)], 400)
    except (StaleDataError, IntegrityError, Stale):
        db.session.rollback()
        uploads.discard(written)
        return render_error(409, STALE)
    if submitted:
        flash(f"已提交 {submitted} 项，等待统筹部门审核。", "success")
    elif changed:
        flash(f"已保存 {changed} 项（草稿，尚未提交）。", "success")
    else:
        flash("没有需要保存的修改。", "success")
    return redirect(url_for("communities.community", community_id=c.id))


@bp.route("/community-evidence/<int:evidence_id>")
@login_required
def evidence(evidence_id: int):
    ev = access.load_community_evidence(current_user, evidence_id)
    path = uploads.path_of(ev)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=ev.content_type, as_attachment=True, download_name=ev.original_name)


@bp.route("/community-evidence/<int:evidence_id>/delete", methods=["POST"])
@login_required
def delete_evidence(evidence_id: int):
    """The street takes a file off an item it has not submitted yet (a draft or a returned one)."""
    ev = access.load_community_evidence(current_user, evidence_id)
    ensure(current_user, "assess_community")
    item = ev.item
    c = item.community
    if c.street_id != current_user.department_id or item.state not in ("draft", "returned"):
        abort(403)
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_error(400)
    if is_stale(form.version, item):
        return render_error(409, STALE)
    name, stored = ev.original_name, ev.stored_name
    audit.record(
        current_user,
        "community_evidence.delete",
        ev,
        f"删除{c.name}第 {item.number} 项佐证材料“{name}”",
        before={"item_id": item.id, "sha256": ev.sha256},
        region_id=c.region_id,
    )
    db.session.delete(ev)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE)
    uploads.discard([stored])
    flash(f"已删除佐证材料“{name}”。", "success")
    return redirect(url_for("communities.community", community_id=c.id) + f"#item-{item.number}")
