"""Plans, their nodes, the standard scores and the stored forecasts."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access
from app.api import schemas
from app.api.common import blueprint
from app.api.errors import error_response
from app.api.paging import list_endpoint
from app.engines.standards import load_standard
from app.extensions import db
from app.forecasting.snapshot import latest_run
from app.models import ForecastRun, Plan, PlanNode
from app.stars import present

bp = blueprint("plans", "计划")


@bp.route("/plans")
@list_endpoint(bp, schemas.PlanSchema)
def plans(args):
    """计划列表（该账号可见的计划）"""
    stmt = select(Plan).where(access.plan_filter(current_user)).options(selectinload(Plan.region))
    return stmt.order_by(Plan.code)


@bp.route("/plans/<code>")
@bp.response(200, schemas.PlanSchema)
def plan(code: str):
    """一个计划"""
    return access.load_plan(current_user, code)


@bp.route("/plans/<code>/nodes")
@list_endpoint(bp, schemas.NodeSchema)
def nodes(args, code: str):
    """计划树的节点（按层级与顺序；统筹部门、领导小组、省级与管理员可读）"""
    plan = access.load_viewable_plan(current_user, code)
    return (
        select(PlanNode)
        .where(PlanNode.plan_id == plan.id)
        .options(selectinload(PlanNode.departments))
        .order_by(PlanNode.parent_id.is_not(None), PlanNode.parent_id, PlanNode.position, PlanNode.id)
    )


@bp.route("/plans/<code>/scores", tags=["标准得分"])
@bp.response(200, schemas.ScoresSchema)
def scores(code: str):
    """标准指标得分：最近一次星级测算的当前得分（与“星级测算”页面同一结果）"""
    plan = access.load_viewable_plan(current_user, code)
    run = latest_run(plan)
    out = {"plan_code": plan.code, "standard_code": plan.standard_code, "available": False, "indicators": []}
    result = run.result if run is not None else None
    if not plan.standard_code or not result or "current" not in result or "forecast" not in result:
        return out
    std = load_standard(plan.standard_code)
    current = result["current"]
    out.update(
        available=True,
        run_id=run.id,
        as_of=run.as_of,
        computed_at=run.computed_at,
        total=current.get("total"),
        stars=current.get("stars"),
        indicators=present.indicator_rows(std, result),
    )
    return out


def _summary(run: ForecastRun) -> dict:
    result = run.result or {}
    fc = result.get("forecast") or {}
    return {
        "id": run.id,
        "as_of": run.as_of,
        "target_date": run.target_date,
        "computed_at": run.computed_at,
        "samples": run.samples,
        "target_stars": result.get("target_stars"),
        "p_target": fc.get("p_target"),
        "p50": fc.get("p50"),
        "probabilities": fc.get("probabilities"),
    }


def _summaries(runs) -> list[dict]:
    return [_summary(run) for run in runs]


@bp.route("/plans/<code>/forecasts", tags=["星级预测"])
@list_endpoint(bp, schemas.ForecastSchema, present=_summaries)
def forecasts(args, code: str):
    """已存的星级预测（最新在前）"""
    plan = access.load_viewable_plan(current_user, code)
    return (
        select(ForecastRun)
        .where(ForecastRun.plan_id == plan.id)
        .order_by(ForecastRun.computed_at.desc(), ForecastRun.id.desc())
    )


@bp.route("/plans/<code>/forecasts/<int:run_id>", tags=["星级预测"])
@bp.response(200, schemas.ForecastDetailSchema)
def forecast(code: str, run_id: int):
    """一次已存预测的完整结果"""
    plan = access.load_viewable_plan(current_user, code)
    run = db.session.scalar(
        select(ForecastRun).where(ForecastRun.id == run_id, ForecastRun.plan_id == plan.id)
    )
    if run is None:
        return error_response(404, "该计划没有这次测算。")
    return {**_summary(run), "result": run.result or {}}
