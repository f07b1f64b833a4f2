"""The region's community matrix with per-street progress, its .xlsx export, and the
region's rule for counting a 智慧社区. The other pages: assessment (one community, filled in
by the street), item_review (the plan office approves or returns items), office (communities
added and edited), import_pages (the workbook in and out)."""

from __future__ import annotations

import io

from flask import flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import access, audit
from app.communities import bp, coverage, export, matrix
from app.communities.forms import RuleForm
from app.communities.scope import office_region, viewed_region
from app.errors import render_error
from app.extensions import db
from app.models import CommunityRule, Region
from app.params import int_arg, parse_int
from app.permissions import has_permission
from workflows.forecast_recompute import request_recompute

STALE_RULE = "智慧社区认定规则已被他人修改，您的修改未保存。请刷新页面后重试。"


@bp.route("/communities")
@login_required
def index():
    region = viewed_region()
    street_id = int_arg("street", default=None, strict=False)
    view = matrix.build(region, access.community_filter(current_user), street_id)
    return render_template(
        "communities/matrix.html",
        region=region,
        view=view,
        street_id=street_id,
        regions=db.session.scalars(select(Region).order_by(Region.id)).all()
        if has_permission(current_user, "view_all")
        else [],
        rule_form=RuleForm(formdata=None, **_rule_defaults(region.id)),
        can_edit=has_permission(current_user, "edit_communities"),
    )


@bp.route("/communities.xlsx")
@login_required
def export_xlsx():
    region = viewed_region()
    street_id = int_arg("street", default=None, strict=False)
    view = matrix.build(region, access.community_filter(current_user), street_id)
    data = export.matrix_xlsx(region, view)
    return send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{region.name}智慧社区评估矩阵.xlsx",
    )


def _rule_defaults(region_id: int) -> dict:
    rule = db.session.get(CommunityRule, region_id)
    if rule is None:
        return {"required_items": coverage.TOTAL_ITEMS, "note": "", "version": "0"}
    return {"required_items": rule.required_items, "note": rule.note or "", "version": str(rule.version)}


@bp.route("/communities/rule", methods=["POST"])
@login_required
def edit_rule():
    region = office_region()
    form = RuleForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(e, "error")
        return redirect(url_for("communities.index"))
    rule = db.session.get(CommunityRule, region.id)
    if (rule.version if rule else 0) != parse_int(form.version.data or "", low=0):
        return render_error(409, STALE_RULE)
    before = {"required_items": rule.required_items if rule else coverage.TOTAL_ITEMS}
    if rule is None:
        rule = CommunityRule(region_id=region.id)
        db.session.add(rule)
    rule.required_items = form.required_items.data
    rule.note = (form.note.data or "").strip() or None
    try:
        db.session.flush()
        audit.record(
            current_user,
            "community.rule",
            rule,
            f"智慧社区认定规则改为至少 {rule.required_items} 项审核达标",
            before=before,
            after={"required_items": rule.required_items},
            region_id=region.id,
        )
        plans = coverage.record_coverage(region.id, current_user)
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        return render_error(409, STALE_RULE)
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("communities.index"))
    for plan_id in plans:
        request_recompute(plan_id)
    flash(f"已保存：社区至少 {rule.required_items} 项审核达标即认定为智慧社区。", "success")
    return redirect(url_for("communities.index"))
