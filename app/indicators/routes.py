"""Indicator pages: a plan's indicators, one indicator with its value history, entering
and reviewing values, and direct values for standard indicators the plan does not track."""

from collections import defaultdict
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import access, clock, section_cache
from app.engines.scoring import score
from app.errors import render_error
from app.extensions import db
from app.forecasting.attainment import indicator_bands
from app.forecasting.known import is_direct, known_values, set_direct_value, standard_values
from app.indicators import bp, entry, values
from app.indicators.forms import ApproveValueForm, DirectValueForm, ReturnValueForm, ValueForm
from app.locking import is_stale
from app.models import Indicator, IndicatorValue, Milestone, Plan
from app.models.indicator import VALUE_STATES
from app.permissions import ensure, has_permission
from app.plans.content_version import plan_key
from workflows import indicator_review as value_review
from workflows.forecast_recompute import request_recompute

STALE_VALUE = "该指标数值已被他人处理或修改，您的操作未生效。请刷新页面查看最新状态。"
STATUS_LABELS = {"met": "已达标", "not_met": "未达标", "unknown": "无法判断", "no_value": "暂无数值"}
OP_LABELS = {">=": "≥", ">": "＞", "<=": "≤", "<": "＜", "==": "＝"}
BANDS = ((4, "four_star", "四星"), (5, "five_star", "五星"))


def _pending(indicator_ids) -> dict[int, list[IndicatorValue]]:
    out = defaultdict(list)
    if indicator_ids:
        for row in db.session.scalars(
            select(IndicatorValue)
            .where(IndicatorValue.indicator_id.in_(indicator_ids), IndicatorValue.state == "submitted")
            .order_by(IndicatorValue.created_at, IndicatorValue.id)
        ):
            out[row.indicator_id].append(row)
    return out


def _bands(ind: Indicator, status: dict | None) -> dict[int, dict]:
    """Four- and five-star target, due date and attainment status of one indicator, by stars."""
    out = {}
    for stars, prefix, label in BANDS:
        entry = (status or {}).get(prefix)
        text, target = getattr(ind, f"{prefix}_target"), getattr(ind, f"{prefix}_value")
        if entry is None and text is None and target is None:
            continue
        due = getattr(ind, f"{prefix}_due") or (date.fromisoformat(entry["due"]) if entry else None)
        if text is None:
            text = f"{getattr(ind, f'{prefix}_op') or ''} {values.fmt_number(target)}{ind.unit or ''}".strip()
        out[stars] = {
            "stars": stars,
            "label": label,
            "target": text,
            "due": due,
            "status": entry["status"] if entry else "unknown",
            "weight": getattr(ind, f"weight_{prefix}"),
            # per-part conditions of a compound target (all must hold), with the actual values
            "conditions": entry["conditions"] if entry and ind.parts else [],
        }
    return out


def _can_enter(ind: Indicator) -> bool:
    return entry.can_enter(current_user, ind)


@bp.route("/plans/<code>/indicators")
@login_required
def plan_indicators(code: str):
    plan = access.load_plan(current_user, code)
    # The list is the plan's rows (content_version, with the date: the bands) as this role
    # and department see them: kept under those.
    key = (
        "indicators",
        *plan_key(plan, clock.today()),
        current_user.role,
        current_user.department_id,
        current_user.region_id,
    )
    body = section_cache.section(key, lambda: _list_body(plan))
    return render_template("indicators/list.html", plan=plan, body=body)


def _list_body(plan) -> str:
    inds = db.session.scalars(
        select(Indicator)
        .where(Indicator.plan_id == plan.id, access.indicator_filter(current_user))
        .options(selectinload(Indicator.departments))
        .order_by(Indicator.position, Indicator.id)
    ).all()
    inds = [i for i in inds if not is_direct(i)]
    today = clock.today()
    ids = [i.id for i in inds]
    history = known_values(ids, today)
    latest = {k: rows[-1] for k, rows in history.items()}
    pending = _pending(ids)
    status = indicator_bands(plan, inds, today, history)
    standard = values.plan_standard(plan)
    rows = []
    for ind in inds:
        spec = values.entry_spec(ind, standard)
        rows.append(
            {
                "ind": ind,
                "spec": spec,
                "latest": latest.get(ind.id),
                "pending": pending.get(ind.id, []),
                "bands": _bands(ind, status.get(ind.id)),
            }
        )
    return render_template(
        "indicators/_list_body.html",
        plan=plan,
        rows=rows,
        describe=values.describe,
        value_of=_value_of,
        status_labels=STATUS_LABELS,
    )


def _value_of(row: IndicatorValue):
    return row.value_json if row.value_json is not None else row.value_number


def _render_indicator(ind: Indicator, form: ValueForm, posted=None, value_errors=None):
    plan = ind.plan
    standard = values.plan_standard(plan)
    spec = values.entry_spec(ind, standard)
    history = db.session.scalars(
        select(IndicatorValue)
        .where(IndicatorValue.indicator_id == ind.id)
        .options(selectinload(IndicatorValue.entered_by), selectinload(IndicatorValue.reviewed_by))
        .order_by(IndicatorValue.as_of.desc(), IndicatorValue.id.desc())
    ).all()
    today = clock.today()
    known = known_values([ind.id], today).get(ind.id, [])
    latest = known[-1] if known else None
    status = indicator_bands(plan, [ind], today)[ind.id]
    milestone_ids = [m.id for m in ind.milestones]
    visible = set(
        db.session.scalars(
            select(Milestone.id).where(Milestone.id.in_(milestone_ids), access.milestone_filter(current_user))
        )
    )
    return render_template(
        "indicators/indicator.html",
        ind=ind,
        plan=plan,
        spec=spec,
        history=history,
        latest=latest,
        latest_points=values.points_of(spec, _value_of(latest)) if latest else None,
        bands=_bands(ind, status),
        milestones=sorted(ind.milestones, key=lambda m: (m.due_date, m.id)),
        visible_milestones=visible,
        form=form if _can_enter(ind) else None,
        posted=posted or {},
        value_errors=value_errors or [],
        can_review=has_permission(current_user, "review"),
        describe=values.describe,
        points_of=values.points_of,
        value_of=_value_of,
        states=VALUE_STATES,
        status_labels=STATUS_LABELS,
        op_labels=OP_LABELS,
        fmt_number=values.fmt_number,
        direct=is_direct(ind),
    )


@bp.route("/indicators/<int:indicator_id>")
@login_required
def indicator(indicator_id: int):
    ind = access.load_indicator(current_user, indicator_id)
    return _render_indicator(ind, ValueForm(formdata=None, as_of=clock.today()))


def _check_as_of(form) -> None:
    problem = entry.as_of_problem(form.as_of.data)
    if problem:
        form.as_of.errors = [*form.as_of.errors, problem]


@bp.route("/indicators/<int:indicator_id>/values", methods=["POST"])
@login_required
def submit_value(indicator_id: int):
    ind = access.load_indicator(current_user, indicator_id)
    ensure(current_user, "enter_value")
    if is_direct(ind):
        flash("标准直填指标请在“标准指标直填”页面录入。", "error")
        return redirect(url_for("indicators.standard_values_page", code=ind.plan.code))
    if not _can_enter(ind):
        abort(403)
    form = ValueForm()
    valid = form.validate_on_submit()
    _check_as_of(form)
    try:
        value = entry.read(ind, request.form)
    except values.ValueInputError as exc:
        return _render_indicator(ind, form, request.form, exc.messages)
    if not valid or form.as_of.errors:
        return _render_indicator(ind, form, request.form)
    _row, approved = entry.enter(ind, current_user, value, form.as_of.data, form.source.data, form.note.data)
    db.session.commit()
    if approved:
        request_recompute(ind.plan_id)
        flash("数值已录入并确认，星级测算将随之更新。", "success")
    else:
        flash("数值已提交，等待统筹部门审核。", "success")
    return redirect(url_for("indicators.indicator", indicator_id=ind.id))


@bp.route("/indicator-values/<int:value_id>/approve", methods=["POST"])
@login_required
def approve_value(value_id: int):
    row = access.load_indicator_value(current_user, value_id)
    ensure(current_user, "review")
    form = ApproveValueForm()
    if not form.validate_on_submit():
        return render_error(400)
    if is_stale(form.version, row):
        return render_error(409, STALE_VALUE)
    plan_id = row.indicator.plan_id
    try:
        value_review.approve_value(row, current_user)
        db.session.commit()
    except value_review.TransitionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("indicators.indicator", indicator_id=row.indicator_id))
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE_VALUE)
    request_recompute(plan_id)
    flash(f"已确认指标“{row.indicator.name}”的数值，星级测算将随之更新。", "success")
    return redirect(url_for("review.queue"))


@bp.route("/indicator-values/<int:value_id>/return", methods=["POST"])
@login_required
def return_value(value_id: int):
    row = access.load_indicator_value(current_user, value_id)
    ensure(current_user, "review")
    form = ReturnValueForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("indicators.indicator", indicator_id=row.indicator_id))
    if is_stale(form.version, row):
        return render_error(409, STALE_VALUE)
    try:
        value_review.return_value(row, current_user, form.reason.data)
        db.session.commit()
    except value_review.TransitionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("indicators.indicator", indicator_id=row.indicator_id))
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE_VALUE)
    flash(f"已退回指标“{row.indicator.name}”的数值，责任部门将看到退回原因。", "success")
    return redirect(url_for("review.queue"))


# -- direct values of standard indicators the plan does not track ------------------


def _standard_rows(plan: Plan, standard: dict, posted_number=None, posted_form=None):
    today = clock.today()
    inds = db.session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.position, Indicator.id)
    ).all()
    tracked = defaultdict(list)
    for ind in inds:
        if not is_direct(ind) and ind.standard_indicator:
            tracked[ind.standard_indicator].append(ind)
    direct = {ind.standard_indicator: ind for ind in inds if is_direct(ind)}
    latest = {k: rows[-1] for k, rows in known_values([i.id for i in direct.values()], today).items()}
    _, sources = standard_values(plan, today)
    rows = []
    for std in standard["indicators"]:
        number = std["number"]
        spec = values.standard_spec(standard, std)
        direct_ind = direct.get(number)
        direct_row = latest.get(direct_ind.id) if direct_ind else None
        own = number == posted_number
        rows.append(
            {
                "std": std,
                "spec": spec,
                "tracked": tracked.get(number, []),
                "source": sources.get(number),
                "direct_ind": direct_ind,
                "direct_row": direct_row,
                "direct_points": values.points_of(spec, _value_of(direct_row)) if direct_row else None,
                "form": posted_form if own else DirectValueForm(formdata=None, as_of=today),
                "posted": request.form if own else {},
            }
        )
    return rows


def _render_standard_values(plan: Plan, posted_number=None, posted_form=None, errors=None):
    standard = values.plan_standard(plan)
    rows, summary = [], None
    if standard is not None:
        rows = _standard_rows(plan, standard, posted_number, posted_form)
        current, _ = standard_values(plan, clock.today())
        summary = score(standard, current)
    return render_template(
        "indicators/standard_values.html",
        plan=plan,
        standard=standard,
        rows=rows,
        summary=summary,
        posted_number=posted_number,
        errors=errors or [],
        describe=values.describe,
        value_of=_value_of,
    )


@bp.route("/plans/<code>/standard-values")
@login_required
def standard_values_page(code: str):
    plan = access.load_plan(current_user, code)
    ensure(current_user, "direct_value")
    return _render_standard_values(plan)


@bp.route("/plans/<code>/standard-values/<number>", methods=["POST"])
@login_required
def enter_standard_value(code: str, number: str):
    plan = access.load_plan(current_user, code)
    ensure(current_user, "direct_value")
    standard = values.plan_standard(plan)
    if standard is None:
        flash(f"计划 {plan.code} 未指定评价标准，不能直接录入标准指标。", "error")
        return redirect(url_for("indicators.standard_values_page", code=plan.code))
    std = next((i for i in standard["indicators"] if i["number"] == number), None)
    if std is None:
        abort(404)
    spec = values.standard_spec(standard, std)
    form = DirectValueForm()
    valid = form.validate_on_submit()
    _check_as_of(form)
    errors: list[str] = []
    tracking = db.session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id, Indicator.standard_indicator == number)
    ).all()
    tracking = [i for i in tracking if not is_direct(i)]
    if tracking:
        errors.append(
            f"{spec.name}已由计划指标“{tracking[0].name}”跟踪，请在该指标页面录入数值，不能直接录入。"
        )
    else:
        try:
            value = values.read_value(spec, request.form)
            values.validate(spec, value)
        except values.ValueInputError as exc:
            errors.extend(exc.messages)
    errors.extend(f"{spec.name}：{e}" for field in (form.as_of, form.note) for e in field.errors)
    if errors or not valid:
        for error in errors:
            flash(error, "error")
        return _render_standard_values(plan, number, form, errors)
    try:
        row = set_direct_value(plan, number, value, current_user, form.as_of.data)
    except ValueError as exc:  # ScoringError is a ValueError too
        db.session.rollback()
        flash(f"{spec.name}：{exc}", "error")
        return _render_standard_values(plan, number, form, [str(exc)])
    row.note = (form.note.data or "").strip() or None
    points = values.points_of(spec, value)
    db.session.commit()
    request_recompute(plan.id)
    flash(
        f"已录入{spec.name}：{values.describe(spec, value)}（{points['points']} 分），星级测算将随之更新。",
        "success",
    )
    return redirect(url_for("indicators.standard_values_page", code=plan.code) + f"#std-{number}")
