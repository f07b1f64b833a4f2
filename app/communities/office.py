"""Communities added and edited by the plan office of the region."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import access, audit
from app.communities import bp, coverage
from app.communities.forms import CommunityForm
from app.communities.scope import office_region, streets
from app.errors import render_error
from app.extensions import db
from app.locking import is_stale
from app.models import Community
from app.permissions import ensure
from workflows.forecast_recompute import request_recompute

STALE_COMMUNITY = "该社区信息已被他人修改，您的修改未保存。请刷新页面后重试。"


def _community_form(region_id: int, obj=None) -> CommunityForm:
    if request.method == "POST":
        form = CommunityForm()
    elif obj is None:
        form = CommunityForm(formdata=None, version="0")
    else:
        form = CommunityForm(formdata=None, obj=obj, version=str(obj.version))
    form.street_id.choices = [(d.id, d.name) for d in streets(region_id)]
    return form


FIELDS = ["name", "street_id", "households"]


@bp.route("/communities/new", methods=["GET", "POST"])
@login_required
def new_community():
    region = office_region()
    form = _community_form(region.id)
    if request.method == "POST" and form.validate_on_submit():
        c = Community(
            region_id=region.id,
            name=form.name.data.strip(),
            street_id=form.street_id.data,
            households=form.households.data,
        )
        db.session.add(c)
        try:
            audit.record(
                current_user, "community.create", c, f"新增社区“{c.name}”", after=audit.snapshot(c, FIELDS)
            )
            plans = coverage.record_coverage(region.id, current_user)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.name.errors.append(f"本区域已有名为“{form.name.data.strip()}”的社区。")
        else:
            for plan_id in plans:
                request_recompute(plan_id)
            flash(f"已新增社区“{c.name}”。", "success")
            return redirect(url_for("communities.community", community_id=c.id))
    status = 400 if request.method == "POST" else 200
    return render_template("communities/edit.html", form=form, c=None, region=region), status


@bp.route("/communities/<int:community_id>/edit", methods=["GET", "POST"])
@login_required
def edit_community(community_id: int):
    c = access.load_community(current_user, community_id)
    ensure(current_user, "edit_communities")
    form = _community_form(c.region_id, c if request.method == "GET" else None)
    if request.method == "POST" and form.validate_on_submit():
        if is_stale(form.version, c):
            return render_error(409, STALE_COMMUNITY)
        before = audit.snapshot(c, FIELDS)
        c.name, c.street_id, c.households = form.name.data.strip(), form.street_id.data, form.households.data
        try:
            db.session.flush()
            audit.record(
                current_user, "community.edit", c, f"修改社区“{c.name}”", before, audit.snapshot(c, FIELDS)
            )
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.name.errors.append(f"本区域已有名为“{form.name.data.strip()}”的社区。")
        except StaleDataError:
            db.session.rollback()
            return render_error(409, STALE_COMMUNITY)
        else:
            flash(f"已保存社区“{c.name}”。", "success")
            return redirect(url_for("communities.community", community_id=c.id))
    status = 400 if request.method == "POST" else 200
    return render_template("communities/edit.html", form=form, c=c, region=c.region), status
