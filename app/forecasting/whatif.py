"""The what-if panel's computation: rescore and re-forecast a plan with overrides, saving nothing.

The request body is {"values": {number: input}, "done": [milestone ids], "late": [ids]}.
The baseline is the plan's data known on the clock date (what the recompute job
would use) with the same samples and seed as the stored run, so with unchanged
data the baseline equals the stored run and every difference comes from the
overrides (the engine reuses the draws).
"""

from __future__ import annotations

from app import clock
from app.engines.forecast import DEFAULT_SEED, WhatIf, forecast
from app.engines.scoring import ScoringError, explain, score
from app.engines.standards import load_standard
from app.forecasting.known import standard_values
from app.forecasting.snapshot import SAMPLES, target_date_of
from app.forecasting.state import forecast_inputs
from app.models import ForecastRun, Plan
from app.stars.present import value_text

FORECAST_KEYS = ("probabilities", "expected_total", "p_target", "best_case", "worst_case")


class WhatIfError(ValueError):
    """A request the panel cannot compute; the message (Chinese) goes back with a 400."""


MAX_IDS = 5000


def _milestone_ids(raw, what: str) -> list[int]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_IDS:
        raise WhatIfError(f"“{what}”应为里程碑编号的列表（至多 {MAX_IDS} 个）")
    out = {}
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise WhatIfError(f"“{what}”中的里程碑编号 {item!r} 无效")
        try:
            mid = int(item)
        except ValueError:
            raise WhatIfError(f"“{what}”中的里程碑编号 {item!r} 无效") from None
        out[mid] = None
    return list(out)


def parse(body, plan: Plan, milestones: dict) -> WhatIf:
    """A WhatIf from the JSON body; milestones: {id: MilestoneData} of the plan's forecast inputs."""
    if not isinstance(body, dict):
        raise WhatIfError('请求内容应为 JSON 对象：{"values": {…}, "done": […], "late": […]}')
    unknown = sorted(set(body) - {"values", "done", "late"})
    if unknown:
        raise WhatIfError(f"未知字段：{'、'.join(unknown)}")
    values = body.get("values") or {}
    if not isinstance(values, dict):
        raise WhatIfError("“values”应为 {标准指标序号: 数值} 的对象")
    std = load_standard(plan.standard_code)
    clean = {}
    for key, value in values.items():
        number = str(key)
        if value is None:
            raise WhatIfError(f"标准第 {number} 项的假设值为空")
        try:
            score(std, {number: value})
        except ScoringError as exc:
            raise WhatIfError(f"假设值无效：{exc}") from None
        clean[number] = value
    done, late = _milestone_ids(body.get("done"), "done"), _milestone_ids(body.get("late"), "late")
    for mid in done + late:
        if mid not in milestones:
            raise WhatIfError(f"里程碑 {mid} 不属于计划 {plan.code}")
    late_set = set(late)
    for mid in done:
        if mid in late_set:
            raise WhatIfError(f"里程碑 {mid}（{milestones[mid].title}）不能同时假设为完成和延误")
    for mid in late:
        if milestones[mid].is_done:
            raise WhatIfError(f"里程碑 {mid}（{milestones[mid].title}）已完成，不能假设为延误")
    return WhatIf(values=clean, done=tuple(done), late=tuple(late))


def _summary(current: dict, fc: dict) -> dict:
    return {
        "total": current["total"],
        "stars": current["stars"],
        "forecast": {k: fc[k] for k in FORECAST_KEYS},
    }


def stored_summary(run: ForecastRun | None) -> dict | None:
    if run is None:
        return None
    return _summary(run.result["current"], run.result["forecast"])


def _changed(std: dict, before: dict, after: dict, values: dict, overrides: dict) -> list[dict]:
    rows = []
    for ind in std["indicators"]:
        number = ind["number"]
        old, new = before["indicators"][number], after["indicators"][number]
        if number not in overrides and old["points"] == new["points"]:
            continue
        rows.append(
            {
                "number": number,
                "name": ind["name"],
                "star": ind["star"],
                "value_before": value_text(values.get(number), ind.get("unit")),
                "value_after": value_text(overrides.get(number, values.get(number)), ind.get("unit")),
                "level_before": old["level"],
                "level_after": new["level"],
                "points_before": old["points"],
                "points_after": new["points"],
            }
        )
    return rows


def what_if(plan: Plan, body, run: ForecastRun | None) -> dict:
    """The panel's answer (see the module docstring); raises WhatIfError on a bad request."""
    if not plan.standard_code:
        raise WhatIfError(f"计划 {plan.code} 未指定评价标准，无法测算")
    as_of = clock.today()
    inputs = forecast_inputs(plan, as_of)
    overrides = parse(body, plan, {m.id: m for m in inputs.milestones})
    std = load_standard(plan.standard_code)
    values, _ = standard_values(plan, as_of)
    target = target_date_of(plan)
    samples = run.samples if run is not None else SAMPLES
    base_now = explain(std, values)
    base_fc = forecast(inputs, target, as_of, samples=samples, seed=DEFAULT_SEED)
    if overrides:
        new_now = explain(std, {**values, **overrides.values})
        new_fc = forecast(inputs, target, as_of, samples=samples, seed=DEFAULT_SEED, what_if=overrides)
    else:
        new_now, new_fc = base_now, base_fc
    stored = stored_summary(run)
    baseline = _summary(base_now, base_fc)
    return {
        "plan": plan.code,
        "as_of": as_of.isoformat(),
        "target_date": target.isoformat(),
        "target_stars": inputs.target_stars,
        "samples": samples,
        "overrides": overrides.summary(),
        "stored": stored,
        "baseline": baseline,
        "baseline_matches_stored": stored == baseline,
        "what_if": _summary(new_now, new_fc),
        "changed": _changed(std, base_now, new_now, values, overrides.values),
        "warnings": new_fc["warnings"],
    }
