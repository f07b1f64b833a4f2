"""Routes: the plan's 部门考评 (today and month by month), its issued 通报 (list, on-demand
issue, printable page, Excel). Bulletin pages read the stored content only."""

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from redis.exceptions import RedisError
from rq.job import JobStatus
from sqlalchemy import select

import workflows.bulletins as jobs  # a module import: workflows.bulletins imports this package
from app import access
from app.bulletins import bp, present
from app.bulletins.assessment_table import SORTS, department_rows, monthly_rows, parse_sort, sort_rows, totals
from app.bulletins.forms import IssueForm
from app.bulletins.loader import load_bulletin
from app.bulletins.xlsx import workbook_bytes
from app.engines.assessment import DEFINITIONS
from app.errors import render_error
from app.extensions import db
from app.models import Bulletin
from app.permissions import ensure, has_permission
from app.status.plan_status import plan_status
from workflows.queue import PENDING, job_status

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
QUEUE_DOWN = "任务队列暂时不可用，未能提交生成通报。请稍后重试，或请管理员检查后台任务服务。"
ISSUE_PERMISSION = "issue_notice"  # plan office and leading group issue 督办 and 通报


@bp.context_processor
def helpers():
    return {
        "prob": present.prob,
        "rate_text": present.rate_text,
        "share": present.share,
        "signed": present.signed,
        "p_change": present.p_change,
        "colour_label": present.colour_label,
        "dashboard_link": present.dashboard_link,
    }


@bp.route("/plans/<code>/assessment")
@login_required
def assessment(code: str):
    plan = access.load_viewable_plan(current_user, code)
    status = plan_status(plan)
    if request.args.get("view") == "monthly":
        return render_template(
            "bulletins/assessment_monthly.html",
            plan=plan,
            today=status.today,
            months=list(reversed(monthly_rows(plan, status))),
            definitions=DEFINITIONS,
        )
    sort = parse_sort(request.args.get("sort"))
    rows = department_rows(plan, status)
    return render_template(
        "bulletins/assessment.html",
        plan=plan,
        today=status.today,
        rows=sort_rows(rows, sort),
        totals=totals(rows),
        sort=sort,
        sorts=SORTS,
        definitions=DEFINITIONS,
        run=status.run,
    )


def _job_state(plan_id: int) -> str | None:
    try:
        state = job_status(jobs.on_demand_job_id(plan_id))
    except RedisError:
        return "unknown"
    if state in PENDING:
        return "queued"
    if state == JobStatus.STARTED:
        return "running"
    if state == JobStatus.FAILED:
        return "failed"
    return None


@bp.route("/plans/<code>/bulletins")
@login_required
def index(code: str):
    plan = access.load_viewable_plan(current_user, code)
    bulletins = db.session.scalars(
        select(Bulletin)
        .where(Bulletin.plan_id == plan.id)
        .order_by(Bulletin.issued_at.desc(), Bulletin.id.desc())
    ).all()
    can_issue = has_permission(current_user, ISSUE_PERMISSION)
    return render_template(
        "bulletins/index.html",
        plan=plan,
        bulletins=bulletins,
        can_issue=can_issue,
        form=IssueForm(),
        job=_job_state(plan.id) if can_issue else None,
    )


@bp.route("/plans/<code>/bulletins/issue", methods=["POST"])
@login_required
def issue(code: str):
    plan = access.load_viewable_plan(current_user, code)
    ensure(current_user, ISSUE_PERMISSION)
    if not IssueForm().validate_on_submit():
        return render_error(400)
    if jobs.request_bulletin(plan.id, current_user.id) is None:
        flash(QUEUE_DOWN, "error")
    else:
        flash("已提交生成临时通报。后台生成完成后刷新本页，即可在列表中看到并打开。", "success")
    return redirect(url_for("bulletins.index", code=plan.code))


@bp.route("/bulletins/<int:bulletin_id>")
@login_required
def show(bulletin_id: int):
    bulletin = load_bulletin(current_user, bulletin_id)
    return render_template(
        "bulletins/bulletin.html",
        bulletin=bulletin,
        plan=bulletin.plan,
        data=bulletin.data,
        can_list=access.can_view_plans(current_user),
    )


@bp.route("/bulletins/<int:bulletin_id>.xlsx")
@login_required
def xlsx(bulletin_id: int):
    bulletin = load_bulletin(current_user, bulletin_id)
    name = f"{bulletin.plan.code}-通报-{bulletin.as_of.isoformat()}-{bulletin.id}.xlsx"
    return send_file(workbook_bytes(bulletin), mimetype=XLSX, as_attachment=True, download_name=name)
