"""Routes of the 星级测算 pages: the stored score and forecast, recompute, step costs, what-if.

Pages show the latest stored ForecastRun only; computing happens in the
recompute job (workflows.forecast_recompute). The what-if panel is the one
request that computes: the user asks for it, and it saves nothing.
"""

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from redis.exceptions import RedisError
from rq.job import JobStatus

from app import access, audit, clock
from app.dates import cn_date, cn_datetime
from app.engines.standards import load_standard
from app.errors import render_error
from app.extensions import db
from app.forecasting.snapshot import data_time, latest_run
from app.forecasting.whatif import WhatIfError, what_if
from app.permissions import ensure, has_permission
from app.stars import bp, costs, present
from app.stars.forms import RecomputeForm, StepCostsForm
from workflows.forecast_recompute import job_id, request_recompute
from workflows.queue import PENDING, job_status

QUEUE_DOWN = "任务队列暂时不可用，未能提交重新测算。请稍后重试，或请管理员检查后台任务服务。"
COSTS_STALE = "提升成本已被他人修改，您的修改未保存。下面显示的是最新的成本，请核对后重新提交。"


@bp.context_processor
def helpers():
    return {
        "pct": present.pct,
        "cn_day": present.cn_day,
        "num": present.number_text,
        "value_text": present.value_text,
        "star_text": present.star_text,
        "risk_reasons": present.risk_reasons,
        "status_label": present.STATUS_LABELS,
    }


def job_state(plan_id: int) -> str | None:
    """ "queued" / "running" / "failed" for the plan's recompute job, "unknown" without Redis."""
    try:
        status = job_status(job_id(plan_id))
    except RedisError:
        return "unknown"
    if status in PENDING:
        return "queued"
    if status == JobStatus.STARTED:
        return "running"
    if status == JobStatus.FAILED:
        return "failed"
    return None


def run_status(plan, run) -> dict:
    """Whether the stored run may be out of date, why, and the state of a queued recompute."""
    if not plan.standard_code:
        return {"stale": False, "reasons": [], "job": None}
    today = clock.today()
    reasons = []
    if run is not None:
        if run.as_of != today:
            reasons.append(f"测算所用数据截至 {cn_date(run.as_of)}，今天是 {cn_date(today)}")
        newest = data_time(plan, today)
        if newest is not None and (run.data_time is None or newest > run.data_time):
            reasons.append(f"测算后有新审核通过的数据（{cn_datetime(newest)}）")
        if plan.updated_at is not None and plan.updated_at > run.computed_at:
            reasons.append("测算后计划设置（如提升成本）有修改")
    stale = run is None or bool(reasons)
    return {"stale": stale, "reasons": reasons, "job": job_state(plan.id) if stale else None}


def _open_milestones(result: dict) -> list[dict]:
    graph = result.get("graph", {}).get("milestones", {})
    rows = []
    for m in result["forecast"]["milestones"]:
        g = graph.get(str(m["id"]), {})
        rows.append({**m, "due": g.get("due"), "critical": g.get("critical", False)})
    return rows


@bp.route("/plans/<code>/stars")
@login_required
def page(code: str):
    plan = access.load_viewable_plan(current_user, code)
    run = latest_run(plan)
    std = load_standard(plan.standard_code) if plan.standard_code else None
    result = run.result if run is not None else None
    context = {}
    if result is not None and std is not None:
        context = {
            "rows": present.indicator_rows(std, result),
            "open_milestones": _open_milestones(result),
            "risk": result["forecast"]["at_risk_indicators"],
        }
    return render_template(
        "stars/page.html",
        plan=plan,
        run=run,
        result=result,
        std=std,
        status=run_status(plan, run),
        can_edit=has_permission(current_user, "edit_plan"),
        recompute_form=RecomputeForm(),
        step_costs=_cost_rows(std, plan.step_costs) if std else [],
        **context,
    )


@bp.route("/plans/<code>/stars/recompute", methods=["POST"])
@login_required
def recompute(code: str):
    plan = access.load_viewable_plan(current_user, code)
    ensure(current_user, "edit_plan")
    if not RecomputeForm().validate_on_submit():
        return render_error(400)
    if not plan.standard_code:
        flash("该计划未指定评价标准，无法测算星级。", "error")
    elif request_recompute(plan.id) is None:
        flash(QUEUE_DOWN, "error")
    else:
        flash("已提交重新测算。后台计算完成后刷新本页，即可看到新的测算结果。", "success")
    return redirect(url_for("stars.page", code=plan.code))


def _cost_rows(std, stored, submitted=None) -> list[dict]:
    rows = []
    for ind in costs.costable(std):
        number = ind["number"]
        field = costs.FIELD_PREFIX + number
        cost = costs.cost_of(stored, number)
        value = submitted.get(field, "") if submitted is not None else present.number_text(cost)
        rows.append(
            {
                "number": number,
                "name": ind["name"],
                "category": ind["category"],
                "star": ind["star"],
                "field": field,
                "value": value,
                "cost": cost,
            }
        )
    return rows


def _editable_plan(code: str):
    plan = access.load_viewable_plan(current_user, code)
    ensure(current_user, "edit_plan")
    return plan


@bp.route("/plans/<code>/stars/costs", methods=["GET", "POST"])
@login_required
def step_costs(code: str):
    plan = _editable_plan(code)
    if not plan.standard_code:
        flash("该计划未指定评价标准，无法设置提升成本。", "error")
        return redirect(url_for("stars.page", code=plan.code))
    std = load_standard(plan.standard_code)
    if request.method == "GET":
        form = StepCostsForm(version=costs.fingerprint(plan.step_costs))
        rows = _cost_rows(std, plan.step_costs)
        return render_template("stars/costs.html", plan=plan, form=form, rows=rows)
    form = StepCostsForm()
    if not form.validate_on_submit():
        return render_error(400)
    new, errors = costs.parse_costs(request.form, std)
    # Re-read the plan (locking its row where the database can) before comparing versions.
    db.session.refresh(plan, with_for_update=True)
    if form.version.data != costs.fingerprint(plan.step_costs):
        db.session.rollback()
        flash(COSTS_STALE, "error")
        form.version.data = costs.fingerprint(plan.step_costs)
        rows = _cost_rows(std, plan.step_costs)
        return render_template("stars/costs.html", plan=plan, form=form, rows=rows), 409
    if errors:
        db.session.rollback()
        rows = _cost_rows(std, plan.step_costs, request.form)
        return render_template("stars/costs.html", plan=plan, form=form, rows=rows, errors=errors), 400
    old = dict(plan.step_costs or {})
    if new == old:
        db.session.rollback()
        flash("提升成本没有变化。", "info")
        return redirect(url_for("stars.page", code=plan.code))
    plan.step_costs = new  # a new object, so the JSON column sees the change (and updated_at moves)
    audit.record(
        current_user,
        "plan.step_costs",
        plan,
        costs.describe_change(old, new, std),
        before={"step_costs": old},
        after={"step_costs": new},
    )
    db.session.commit()
    if request_recompute(plan.id) is None:
        flash("提升成本已保存，但" + QUEUE_DOWN, "error")
    else:
        flash("提升成本已保存，星级测算将在后台重新计算。", "success")
    return redirect(url_for("stars.page", code=plan.code))


@bp.route("/plans/<code>/stars/what-if", methods=["POST"])
@login_required
def what_if_view(code: str):
    """Rescore and re-forecast with the panel's overrides (JSON in, JSON out); saves nothing."""
    plan = access.load_viewable_plan(current_user, code)
    body = request.get_json(silent=True)
    if body is None:
        return jsonify(error="请求内容应为 JSON（Content-Type: application/json）"), 400
    try:
        result = what_if(plan, body, latest_run(plan))
    except WhatIfError as exc:
        return jsonify(error=str(exc)), 400
    finally:
        db.session.rollback()  # nothing of this request is ever written
    return jsonify(result)
