"""督办 notices: reading, and the department's answer through the page's code path
(app.mywork.notices.save_answer: the notice state machine, evidence, audit)."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access
from app.api import schemas
from app.api.common import ETAG_HEADER, IF_MATCH, blueprint, need
from app.api.errors import error_response
from app.api.etag import precondition_failed, with_etag
from app.api.paging import PageArgs, list_endpoint
from app.models import Milestone, Notice
from app.models.notice import NOTICE_STATES
from app.mywork.notices import save_answer
from app.plans.notices import STALE_NOTICE
from workflows import notice_review

bp = blueprint("notices", "督办")


class NoticeArgs(PageArgs):
    state = ma.fields.String(
        validate=ma.validate.OneOf(list(NOTICE_STATES)), metadata={"description": "状态"}
    )
    milestone = ma.fields.Integer(
        validate=ma.validate.Range(1, 2**31 - 1), metadata={"description": "里程碑编号"}
    )


@bp.route("/notices")
@list_endpoint(bp, schemas.NoticeSchema, args=NoticeArgs)
def notices(args):
    """督办单列表（该账号可见的里程碑上的）"""
    stmt = (
        select(Notice)
        .join(Milestone, Notice.milestone_id == Milestone.id)
        .where(access.milestone_filter(current_user))
        .options(selectinload(Notice.department), selectinload(Notice.rounds))
    )
    if args.get("state"):
        stmt = stmt.where(Notice.state == args["state"])
    if args.get("milestone"):
        stmt = stmt.where(Notice.milestone_id == args["milestone"])
    return stmt.order_by(Notice.reply_due, Notice.id)


@bp.route("/notices/<int:notice_id>")
@bp.response(200, schemas.NoticeSchema, headers=ETAG_HEADER)
def notice(notice_id: int):
    """一份督办单（响应头 ETag 为其版本）"""
    n = access.load_notice(current_user, notice_id)
    return with_etag(jsonify(schemas.NoticeSchema().dump(n)), n)


@bp.route("/notices/<int:notice_id>/answer", methods=["POST"])
@bp.arguments(schemas.NoticeAnswerIn, location="form", content_type="multipart/form-data")
@bp.response(200, schemas.NoticeSchema, headers=ETAG_HEADER)
@bp.doc(parameters=[IF_MATCH])
def answer(data, notice_id: int):
    """被督办部门反馈办理情况（含佐证材料），与页面同一流程"""
    n = access.load_notice(current_user, notice_id)
    need("answer_notice")
    if not notice_review.is_department_user(current_user, n):
        abort(403)
    stale = precondition_failed(n)
    if stale is not None:
        return stale
    error = save_answer(current_user, n, data["reply_text"], request.files.getlist("files"))
    if error == "stale":
        return error_response(409, STALE_NOTICE)
    if error is not None:
        return error_response(409 if "当前" in error else 422, error)
    return with_etag(jsonify(schemas.NoticeSchema().dump(n)), n)
