"""Milestones (with their 三色) and progress reports: reading, and reporting with evidence
through the page's code path (app.mywork.reports, the review state machine)."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, request
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access, clock
from app.api import schemas
from app.api.common import ETAG_HEADER, IF_MATCH, blueprint, need
from app.api.errors import error_response
from app.api.etag import precondition_failed, with_etag
from app.api.paging import PageArgs, list_endpoint
from app.extensions import db
from app.models import Milestone, Plan, ProgressReport
from app.models.plan import MILESTONE_STATUSES
from app.mywork.reports import STALE_REPORT, PendingReport, create_report, save_report
from app.status.many_plans import milestone_statuses

bp = blueprint("milestones", "里程碑")

COLOURS = ["red", "yellow", "blue", "done"]


class MilestoneArgs(PageArgs):
    plan = schemas.Text(validate=ma.validate.Length(max=64), metadata={"description": "计划代码"})
    status = ma.fields.String(
        validate=ma.validate.OneOf(list(MILESTONE_STATUSES)), metadata={"description": "状态"}
    )
    colour = ma.fields.String(
        validate=ma.validate.OneOf(COLOURS), metadata={"description": "三色：red / yellow / blue / done"}
    )
    department = ma.fields.Integer(
        validate=ma.validate.Range(1, 2**31 - 1), metadata={"description": "部门编号（牵头或配合）"}
    )
    mine = ma.fields.Boolean(metadata={"description": "true：只列本账号部门牵头或配合的"})
    overdue = ma.fields.Boolean(metadata={"description": "true：只列逾期未完成的（期限早于今天）"})
    due_from = ma.fields.Date(metadata={"description": "期限不早于（YYYY-MM-DD）"})
    due_to = ma.fields.Date(metadata={"description": "期限不晚于（YYYY-MM-DD）"})


def _on_department(dept_id: int):
    return (Milestone.lead_department_id == dept_id) | Milestone.co_departments.any(id=dept_id)


def _colours(milestones) -> dict:
    found = milestone_statuses(
        {m.plan_id for m in milestones}, clock.today(), milestone_ids=[m.id for m in milestones]
    )
    return {mid: st.as_dict() for mid, (_, st) in found.items()}


def _with_colour(milestones, colours=None):
    colours = _colours(milestones) if colours is None else colours
    for m in milestones:
        m.tri_colour = colours.get(m.id)
    return milestones


@bp.route("/milestones")
@list_endpoint(bp, schemas.MilestoneSchema, args=MilestoneArgs, present=_with_colour)
def milestones(args):
    """里程碑列表：按计划、状态、三色、部门、期限筛选"""
    stmt = access.visible_milestones(current_user).options(
        selectinload(Milestone.co_departments),
        selectinload(Milestone.lead_department),
        selectinload(Milestone.plan),
    )
    if args.get("plan"):
        stmt = stmt.where(Milestone.plan_id.in_(select(Plan.id).where(Plan.code == args["plan"])))
    if args.get("status"):
        stmt = stmt.where(Milestone.status == args["status"])
    if args.get("department"):
        stmt = stmt.where(_on_department(args["department"]))
    if args.get("mine"):
        dept = current_user.department_id
        stmt = stmt.where(_on_department(dept)) if dept is not None else stmt.where(Milestone.id.is_(None))
    if args.get("overdue"):
        stmt = stmt.where(Milestone.status != "done", Milestone.due_date < clock.today())
    if args.get("due_from"):
        stmt = stmt.where(Milestone.due_date >= args["due_from"])
    if args.get("due_to"):
        stmt = stmt.where(Milestone.due_date <= args["due_to"])
    stmt = stmt.order_by(Milestone.due_date, Milestone.id)
    if args.get("colour"):  # the colours are computed, not stored: filtered in memory
        rows = db.session.scalars(stmt).all()
        colours = _colours(rows)
        wanted = [m for m in rows if (colours.get(m.id) or {}).get("colour") == args["colour"]]
        return _with_colour(wanted, colours)
    return stmt


@bp.route("/milestones/<int:milestone_id>")
@bp.response(200, schemas.MilestoneSchema, headers=ETAG_HEADER)
def milestone(milestone_id: int):
    """一个里程碑（响应头 ETag 为其版本）"""
    m = access.load_milestone(current_user, milestone_id)
    _with_colour([m])
    response = schemas.MilestoneSchema().dump(m)
    return with_etag(_json(response), m)


def _json(data, status=200):
    from flask import jsonify

    response = jsonify(data)
    response.status_code = status
    return response


def _visible_reports(milestone: Milestone):
    # Drafts are private to their department, as on the milestone page.
    return (
        select(ProgressReport)
        .where(ProgressReport.milestone_id == milestone.id)
        .where(
            (ProgressReport.state != "draft") | (ProgressReport.department_id == current_user.department_id)
        )
        .options(selectinload(ProgressReport.department), selectinload(ProgressReport.evidence))
    )


@bp.route("/milestones/<int:milestone_id>/reports", tags=["进展汇报"])
class MilestoneReports(MethodView):
    @list_endpoint(bp, schemas.ReportSchema)
    def get(self, args, milestone_id: int):
        """一个里程碑的进展汇报（最新在前）"""
        m = access.load_milestone(current_user, milestone_id)
        return _visible_reports(m).order_by(ProgressReport.id.desc())

    @bp.arguments(schemas.ReportIn, location="form", content_type="multipart/form-data")
    @bp.response(201, schemas.ReportSchema, headers=ETAG_HEADER)
    @bp.doc(parameters=[{**IF_MATCH, "description": "里程碑的 ETag：里程碑已变（如已审核）时返回 412"}])
    def post(self, data, milestone_id: int):
        """提交进展汇报（含佐证材料），与页面同一校验与审核流程；action=draft 只保存草稿"""
        return submit_report(data, milestone_id)


def submit_report(data, milestone_id: int):
    """提交进展汇报（含佐证材料），与页面同一校验与审核流程；action=draft 只保存草稿"""
    m = access.load_milestone(current_user, milestone_id)
    need("report")
    kind = access.report_kind_for(current_user, m)
    if kind is None:
        abort(403)
    stale = precondition_failed(m)
    if stale is not None:
        return stale
    try:
        report, error = create_report(current_user, m, kind, **_fields(data))
    except PendingReport as exc:
        return _pending_conflict(exc.report)
    if error is not None:
        return _error(error)
    return with_etag(_json(schemas.ReportSchema().dump(report), 201), report)


def _pending_conflict(pending: ProgressReport):
    return error_response(
        409,
        f"本部门已有一份“{pending.state_label}”的汇报（编号 {pending.id}），"
        f"请用 PUT /api/v1/reports/{pending.id} 修改。",
    )


def _fields(data: dict) -> dict:
    return {
        "percent": data["percent"],
        "claimed_status": data["claimed_status"],
        "text": data["text"],
        "files": request.files.getlist("files"),
        "submit": data["action"] == "submit",
    }


def _error(error: str):
    db.session.rollback()
    return error_response(409 if error == STALE_REPORT else 422, error)


@bp.route("/reports/<int:report_id>", tags=["进展汇报"])
class Report(MethodView):
    @bp.response(200, schemas.ReportSchema, headers=ETAG_HEADER)
    def get(self, report_id: int):
        """一份进展汇报（响应头 ETag 为其版本）"""
        r = access.load_report(current_user, report_id)
        return with_etag(_json(schemas.ReportSchema().dump(r)), r)

    @bp.arguments(schemas.ReportIn, location="form", content_type="multipart/form-data")
    @bp.response(200, schemas.ReportSchema, headers=ETAG_HEADER)
    @bp.doc(parameters=[IF_MATCH])
    def put(self, data, report_id: int):
        """修改本部门的草稿或被退回的汇报并（默认）重新提交"""
        return update_report(data, report_id)


def update_report(data, report_id: int):
    r = access.load_report(current_user, report_id)
    need("report")
    if r.department_id != current_user.department_id:
        abort(403)
    stale = precondition_failed(r)
    if stale is not None:
        return stale
    if r.state not in ("draft", "returned"):
        return error_response(409, f"该汇报当前为“{r.state_label}”，不能修改。")
    error = save_report(current_user, r, is_new=False, **_fields(data))
    if error is not None:
        return _error(error)
    return with_etag(_json(schemas.ReportSchema().dump(r)), r)
