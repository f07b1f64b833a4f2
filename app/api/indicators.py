"""Indicators and their values: reading, and entering a value through the page's code path
(app.indicators.entry: the same parsing, scoring-engine check, review and audit)."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, jsonify
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access
from app.api import schemas
from app.api.common import ETAG_HEADER, blueprint, need
from app.api.errors import error_response
from app.api.etag import with_etag
from app.api.paging import PageArgs, list_endpoint
from app.extensions import db
from app.forecasting.known import DIRECT_TABLE, is_direct
from app.indicators import entry, values
from app.models import Indicator, IndicatorValue, Plan
from workflows.forecast_recompute import request_recompute

bp = blueprint("indicators", "指标")


class IndicatorArgs(PageArgs):
    plan = schemas.Text(validate=ma.validate.Length(max=64), metadata={"description": "计划代码"})


@bp.route("/indicators")
@list_endpoint(bp, schemas.IndicatorSchema, args=IndicatorArgs)
def indicators(args):
    """指标列表（责任部门只见本部门负责的指标）"""
    stmt = (
        select(Indicator)
        .where(access.indicator_filter(current_user), Indicator.table_name.is_distinct_from(DIRECT_TABLE))
        .options(selectinload(Indicator.departments), selectinload(Indicator.plan))
    )
    if args.get("plan"):
        stmt = stmt.where(Indicator.plan_id.in_(select(Plan.id).where(Plan.code == args["plan"])))
    return stmt.order_by(Indicator.plan_id, Indicator.position, Indicator.id)


@bp.route("/indicators/<int:indicator_id>")
@bp.response(200, schemas.IndicatorSchema)
def indicator(indicator_id: int):
    """一个指标"""
    return access.load_indicator(current_user, indicator_id)


@bp.route("/indicators/<int:indicator_id>/values")
class IndicatorValues(MethodView):
    @list_endpoint(bp, schemas.ValueSchema)
    def get(self, args, indicator_id: int):
        """一个指标的数值记录（截至日期最新在前）"""
        return indicator_values(indicator_id)

    @bp.arguments(schemas.ValueIn, location="json")
    @bp.response(201, schemas.ValueSchema, headers=ETAG_HEADER)
    def post(self, data, indicator_id: int):
        """录入指标数值：责任部门提交后待统筹部门审核；统筹部门录入即确认"""
        return submit_value(data, indicator_id)


def indicator_values(indicator_id: int):
    ind = access.load_indicator(current_user, indicator_id)
    return (
        select(IndicatorValue)
        .where(IndicatorValue.indicator_id == ind.id)
        .order_by(IndicatorValue.as_of.desc(), IndicatorValue.id.desc())
    )


def _raw(data: dict) -> dict:
    """The value as the page's form fields (text), so the page's reader checks it."""
    raw = {}
    if data.get("level") is not None:
        raw["level"] = str(data["level"])
    value = data.get("value")
    if isinstance(value, dict):
        raw.update({str(k): _text(v) for k, v in value.items()})
    elif value is not None:
        raw["value"] = _text(value)
    return raw


def _text(v) -> str:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        return "?"  # the reader names it as not a number
    return str(v)


def submit_value(data, indicator_id: int):
    ind = access.load_indicator(current_user, indicator_id)
    need("enter_value")
    if is_direct(ind):
        return error_response(409, "标准直填指标请在“标准指标直填”页面录入。")
    if not entry.can_enter(current_user, ind):
        abort(403)
    problem = entry.as_of_problem(data["as_of"])
    if problem:
        return error_response(422, problem, {"as_of": [problem]})
    try:
        value = entry.read(ind, _raw(data))
    except values.ValueInputError as exc:
        return error_response(422, "；".join(exc.messages), {"value": exc.messages})
    row, approved = entry.enter(ind, current_user, value, data["as_of"], data["source"], data["note"])
    db.session.commit()
    if approved:
        request_recompute(ind.plan_id)
    response = jsonify(schemas.ValueSchema().dump(row))
    response.status_code = 201
    return with_etag(response, row)
