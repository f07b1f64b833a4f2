"""Routes of the 星级测算 pages: the stored score and forecast, recompute, step costs, what-if.

Pages show the latest stored ForecastRun only; computing happens in the
recompute job (workflows.forecast_recompute). The what-if form is the one
request that computes: the user asks for it, and it saves nothing.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from redis.exceptions import RedisError
from rq.job import JobStatus
from werkzeug.datastructures import MultiDict

from app import access, audit, clock, section_cache
from app.communities.coverage import community_steps
from app.dates import cn_date, cn_datetime
from app.engines.standards import load_standard
from app.errors import render_error
from app.extensions import db
from app.forecasting.snapshot import data_time, latest_run
from app.forecasting.whatif import WhatIfError, what_if
from app.permissions import ensure, has_permission
from app.plans.content_version import plan_key
from app.stars import bp, costs, present, whatif_form
from app.stars.forms import RecomputeForm, StepCostsForm
from workflows.forecast_recompute import job_id, request_recompute
from workflows.queue import PENDING, job_status

QUEUE_DOWN = "任务队列暂时不可用，未能提交重新测算。请稍后重试，或请管理员检查后台任务服务。"
COSTS_STALE = "提升成本已被他人修改，您的修改未保存。下面显示的是最新的成本，请核对后重新提交。"


@bp.context_processor
def helpers():
    return {
        "pct": present.pct,
        "prob": present.prob,
        "cn_date": cn_date,
        "num": present.number_text,
        "value_text": present.value_text,
        "star_text": present.star_text,
        "status_label": present.STATUS_LABELS,
        "p_at_least": present.p_at_least,
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


def _readable(result) -> bool:
    """A stored result in the shape this page reads (runs of an older engine are not)."""
    fc = (result or {}).get("forecast") or {}
    return "capped" in fc and "gap_target" in result and "keys" in result


def _run_part(plan, run, name: str, parts):
    """A part of the page drawn from the stored run alone: rendered once per run (and plan
    row), the same for every viewer; parts() computes what its template shows."""
    return section_cache.section(
        ("stars", name, run.id, plan.updated_at),
        lambda: render_template(f"stars/{name}.html", plan=plan, result=run.result, **parts()),
    )


def _context(plan, run, std, posted=None, errors=None) -> dict:
    """What the page shows of the stored run, and the what-if form (filled with `posted`)."""
    result = run.result if run is not None else None
    outdated = result is not None and not _readable(result)
    context = {"result": None, "outdated": outdated}
    if result is None or outdated or std is None:
        return context
    opened = posted is None and errors is None
    posted = posted if posted is not None else MultiDict()
    errors = errors or WhatIfError([])
    info = present.milestone_info(result)
    target_way = present.way(result, result.get("gap_target"), std, info)
    next_way = present.way(result, result.get("gap"), std, info)
    community_steps([target_way, next_way], plan, std)
    context.update(
        result=result,
        fc=result["forecast"],
        answer=present.answer(result, std),
        target_way=target_way,
        # The next star's plan only when it is another star than the target's.
        next_way=next_way if next_way and next_way.get("target_stars") != result["target_stars"] else None,
        # The parts drawn from the stored run alone, kept under it for every viewer.
        run_outlook=_run_part(
            plan,
            run,
            "_run_outlook",
            lambda: {
                "distribution": present.distribution(result),
                "top": present.top_milestones(result, info),
                "risk": present.at_risk(result, std, info),
            },
        ),
        run_basis=_run_part(
            plan,
            run,
            "_run_basis",
            lambda: {"departments": present.departments(result), "rows": present.indicator_rows(std, result)},
        ),
        can_direct=has_permission(current_user, "direct_value"),
    )

    def fields() -> dict:
        return {
            "groups": whatif_form.indicator_groups(std, result, posted, errors.by_number),
            "open_milestones": whatif_form.milestone_rows(
                plan.id, result, posted, errors.by_milestone, clock.today()
            ),
        }

    if opened:
        # Nothing posted: the same fields for every viewer until the run or a row of the
        # plan changes (its open milestones, their titles and departments).
        today = clock.today()
        key = (
            "what-if",
            run.id,
            *plan_key(plan, today),
            plan.updated_at,
            request.args.get("wi_q"),
        )
        context["whatif_fields"] = section_cache.section(
            key, lambda: render_template("stars/_whatif_fields.html", plan=plan, **fields())
        )
    else:
        context.update(fields())
    return context


def _body(plan, **extra) -> str:
    run = latest_run(plan)
    std = load_standard(plan.standard_code) if plan.standard_code else None
    context = _context(plan, run, std, extra.pop("posted", None), extra.pop("errors", None))
    return render_template(
        "stars/_page_body.html",
        plan=plan,
        run=run,
        std=std,
        status=run_status(plan, run),
        can_edit=has_permission(current_user, "edit_plan"),
        recompute_form=RecomputeForm(),
        step_costs=_cost_rows(std, plan.step_costs) if std else [],
        **context,
        **extra,
    )


def _render(plan, status_code=200, **extra):
    """The page with a posted form's answer (nothing kept)."""
    return render_template("stars/page.html", plan=plan, body=Markup(_body(plan, **extra))), status_code


@bp.route("/plans/<code>/stars")
@login_required
def page(code: str):
    plan = access.load_viewable_plan(current_user, code)
    # As opened, the page is the plan's rows (its content_version with the date; the latest
    # run is one of them), the plan row, what the viewer may do, the recompute job's state
    # and the what-if filter: kept under those.
    key = (
        "stars-page",
        *plan_key(plan, clock.today()),
        plan.updated_at,
        has_permission(current_user, "edit_plan"),
        has_permission(current_user, "direct_value"),
        job_state(plan.id) if plan.standard_code else None,
        request.args.get("wi_q"),
    )
    body = section_cache.section_with_forms(key, lambda: _body(plan))
    return render_template("stars/page.html", plan=plan, body=body)


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
        if submitted is not None:
            value = submitted.get(field, "")
        else:  # the default (1) shows as the placeholder
            value = present.number_text(cost) if number in (stored or {}) else ""
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

    def show(form, rows, status=200, unit=None, **extra):
        unit = plan.step_cost_unit if unit is None else unit
        page = render_template(
            "stars/costs.html", plan=plan, form=form, rows=rows, unit=unit, units=costs.UNITS, **extra
        )
        return page, status

    if request.method == "GET":
        form = StepCostsForm(version=costs.fingerprint(plan.step_costs, plan.step_cost_unit))
        return show(form, _cost_rows(std, plan.step_costs))
    form = StepCostsForm()
    if not form.validate_on_submit():
        return render_error(400)
    new, errors = costs.parse_costs(request.form, std)
    unit, unit_errors = costs.parse_unit(request.form, new)
    errors = unit_errors + errors
    # Re-read the plan (locking its row where the database can) before comparing versions.
    db.session.refresh(plan, with_for_update=True)
    if form.version.data != costs.fingerprint(plan.step_costs, plan.step_cost_unit):
        db.session.rollback()
        flash(COSTS_STALE, "error")
        form.version.data = costs.fingerprint(plan.step_costs, plan.step_cost_unit)
        return show(form, _cost_rows(std, plan.step_costs), 409)
    if errors:
        db.session.rollback()
        rows = _cost_rows(std, plan.step_costs, request.form)
        posted_unit = (request.form.get(costs.UNIT_FIELD) or "").strip()
        return show(form, rows, 400, unit=posted_unit, errors=errors)
    old, old_unit = dict(plan.step_costs or {}), plan.step_cost_unit
    if new == old and unit == old_unit:
        db.session.rollback()
        flash("提升成本没有变化。", "info")
        return redirect(url_for("stars.page", code=plan.code))
    plan.step_costs = new  # a new object, so the JSON column sees the change (and updated_at moves)
    plan.step_cost_unit = unit
    audit.record(
        current_user,
        "plan.step_costs",
        plan,
        costs.describe_change(old, new, std, old_unit, unit),
        before={"step_costs": old, "unit": old_unit},
        after={"step_costs": new, "unit": unit},
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
    """The page again, with the what-if of the submitted form next to the stored run.

    A normal form POST (CSRF checked by the app); computes, saves nothing."""
    plan = access.load_viewable_plan(current_user, code)
    if not plan.standard_code or latest_run(plan) is None:
        flash("尚无存储的星级测算结果，无法进行假设测算。", "error")
        return redirect(url_for("stars.page", code=plan.code))
    std = load_standard(plan.standard_code)
    try:
        result = what_if(plan, request.form, latest_run(plan))
    except WhatIfError as exc:
        db.session.rollback()
        return _render(plan, 400, posted=request.form, errors=exc, wi_errors=exc.messages)
    finally:
        db.session.rollback()  # nothing of this request is ever written
    return _render(
        plan,
        posted=request.form,
        wi=result,
        wi_compare=whatif_form.comparison(result),
        wi_changed=whatif_form.changed_rows(result, std),
        wi_lines=whatif_form.assumption_lines(result, std, latest_run(plan).result),
    )
