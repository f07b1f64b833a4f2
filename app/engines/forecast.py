"""Forecast the star level a plan reaches by a target date (pure: numpy + networkx).

forecast(inputs, target_date, today) combines
  - graph.forecast_finish: each milestone's forecast finish (slippage propagated),
  - forecast_probability: each open milestone's chance of finishing by the date,
  - forecast_values: each indicator's value at the date (trend / latest / delivered),
  - forecast_sim: a seeded Monte Carlo over milestones with dependencies respected,
and scores with the scoring engine. The same inputs and seed give the same dict.

Inputs are used as given: to back-test, the caller drops what was not known on
`today` (indicator values entered later, later statuses) before calling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.engines.forecast_probability import department_rate, finish_probability
from app.engines.forecast_sim import Simulation
from app.engines.forecast_values import IndicatorData, Scorer, build_models
from app.engines.forecast_whatif import WhatIf, apply, check
from app.engines.graph import (
    DependencyData,
    MilestoneData,
    build_graph,
    forecast_finish,
    milestones_of,
    preds,
    remaining_days,
    slack,
    succs,
    topological,
)
from app.engines.scoring import ScoringError
from app.engines.standards import load_standard

__all__ = ["DependencyData", "ForecastInputs", "IndicatorData", "MilestoneData", "WhatIf", "forecast"]

DEFAULT_SEED = 20211031
TOP_MILESTONES = 10
LOW_COMPLETION = 0.5  # an indicator whose delivering milestone completes less often is at risk


@dataclass
class ForecastInputs:
    standard: str  # standard code, e.g. "sd-city-2019"
    milestones: Sequence[MilestoneData]
    dependencies: Sequence[DependencyData] = ()
    departments: Mapping = field(default_factory=dict)  # department id -> (on_time, late) counts
    indicators: Sequence[IndicatorData] = ()
    standard_values: Mapping = field(default_factory=dict)  # number -> value, untracked indicators
    target_stars: int = 4


def forecast(inputs, target_date, today, samples=10000, seed=DEFAULT_SEED, what_if=None):
    """The forecast for target_date, as a plain dict (dates as ISO strings):

    probabilities      [P(0 stars), …, P(5 stars)], summing to 1
    expected_total     mean total over the samples
    p_target           P(stars >= inputs.target_stars)
    best_case          {"total", "stars"} if every open milestone completes in time
    worst_case         {"total", "stars"} if no open milestone completes
    top_milestones     up to ten open milestones that move p_target most (only those
                       that move it): p_target_if_done / _if_late, delta, p_finish, p_complete
    at_risk_indicators indicators whose expected points are below the target's points
                       (the plan's target value scored by the standard, else the
                       four-star column), or that are not in the standard and meet their
                       plan target in less than half the samples ("below_target"), or
                       that an open milestone completing in less than half the samples
                       delivers ("weak_milestones")
    milestones         every open milestone: forecast_finish, slack_days, p_finish (the
                       formula in forecast_probability), p_complete (in the samples, so
                       after its predecessors)
    warnings           values that could not be scored and were left out
    what_if            (only with what_if) the overrides applied: values, done, late

    what_if (a WhatIf) fixes indicator values and forces milestones done or late
    (see forecast_whatif); the draws stay the same, so with the same seed the
    difference from the plain forecast comes from the overrides alone. A forced
    milestone is not listed in top_milestones. Bad overrides raise ValueError.
    """
    if samples < 1:
        raise ValueError("samples must be at least 1")
    std = load_standard(inputs.standard)
    scorer = Scorer(std)
    what_if = what_if or WhatIf()
    if what_if:
        check(what_if, inputs.milestones, scorer)
        inputs = apply(inputs, what_if, today)
    delivers = [(mid, ind.id) for ind in inputs.indicators for mid, _ in ind.deliveries]
    graph = build_graph(inputs.milestones, inputs.dependencies, delivers)
    ids = milestones_of(graph)
    col = {mid: j for j, mid in enumerate(ids)}
    finish = forecast_finish(graph, today)
    late = set(what_if.late)
    p = np.array(
        [
            0.0 if mid in late else _probability(graph, mid, finish[mid], target_date, today, inputs)
            for mid in ids
        ]
    )
    warnings = []
    models = build_models(inputs.indicators, scorer, target_date, col, warnings)
    sim = Simulation(
        std=std,
        p=p,
        done=np.array([graph.nodes[mid]["m"].is_done for mid in ids], dtype=bool),
        topo=[col[mid] for mid in topological(graph)],
        preds=[[col[q] for q in preds(graph, mid)] for mid in ids],
        models=models,
        constants=_constants(scorer, inputs.standard_values, warnings),
        target_stars=inputs.target_stars,
        samples=samples,
        seed=seed,
    ).run()
    levels = len(std["star_bands"])
    p_complete = sim.c.mean(axis=0)
    result = {
        "standard": std["code"],
        "target_date": target_date.isoformat(),
        "today": today.isoformat(),
        "target_stars": inputs.target_stars,
        "samples": samples,
        "seed": seed,
        "probabilities": [float(np.count_nonzero(sim.star == s)) / samples for s in range(levels)],
        "expected_total": float(sim.totals.mean()),
        "p_target": float(sim.hits.mean()),
        "best_case": sim.case(True),
        "worst_case": sim.case(False),
        "top_milestones": _top_milestones(graph, sim, ids, col, p, p_complete, late),
        "at_risk_indicators": [e for e in _indicator_rows(graph, sim, col, p_complete) if e["reasons"]],
        "milestones": _milestone_rows(graph, ids, finish, target_date, today, p, p_complete),
        "warnings": warnings,
    }
    if what_if:
        result["what_if"] = what_if.summary()
    return result


def _probability(graph, mid, finish, target_date, today, inputs):
    m = graph.nodes[mid]["m"]
    on_time, late = inputs.departments.get(m.department_id, (0, 0))
    return finish_probability(
        status=m.status,
        percent=m.percent,
        remaining_days=remaining_days(graph, mid),
        forecast_finish=finish,
        target_date=target_date,
        today=today,
        rate=department_rate(on_time, late),
    )


def _constants(scorer, values, warnings):
    out = {}
    for number, value in values.items():
        try:
            out[number] = scorer.points(number, value)
        except ScoringError as exc:
            warnings.append(f"标准第 {number} 项的直接录入值无法计分（{exc}），已忽略")
    return out


def _open_descendants(graph, col, mid, order):
    seen, stack = set(), [mid]
    while stack:
        for s in succs(graph, stack.pop()):
            if s not in seen and not graph.nodes[s]["m"].is_done:
                seen.add(s)
                stack.append(s)
    return sorted((col[s] for s in seen), key=order.__getitem__)


def _top_milestones(graph, sim, ids, col, p, p_complete, fixed=frozenset()):
    order = {j: k for k, j in enumerate(sim.topo)}
    rows = []
    for mid in ids:
        i = col[mid]
        if sim.done[i] or mid in fixed:
            continue
        desc = _open_descendants(graph, col, mid, order)
        if not sim.matters(i, desc):
            continue
        hits_done = sim.hits_forced(i, True, desc)
        hits_late = sim.hits_forced(i, False, desc)
        if hits_done > hits_late:
            rows.append(
                {
                    "id": mid,
                    "title": graph.nodes[mid]["m"].title,
                    "p_finish": float(p[i]),
                    "p_complete": float(p_complete[i]),
                    "p_target_if_done": hits_done / sim.n,
                    "p_target_if_late": hits_late / sim.n,
                    "delta": (hits_done - hits_late) / sim.n,
                }
            )
    rows.sort(key=lambda r: -r["delta"])  # stable: ties keep input order
    return rows[:TOP_MILESTONES]


def _indicator_rows(graph, sim, col, p_complete):
    """Every indicator with its expected points (or chance of meeting its plan target)."""
    out = []
    for model, pts in zip(sim.models, sim.model_pts, strict=True):
        ind = model.ind
        expected = float(pts.mean())
        reach = None if model.target_points is None else float((pts >= model.target_points).mean())
        weak = []
        for mid, _ in ind.deliveries:
            j = col[mid]
            if not sim.done[j] and p_complete[j] < LOW_COMPLETION and mid not in [w["id"] for w in weak]:
                weak.append(
                    {"id": mid, "title": graph.nodes[mid]["m"].title, "p_complete": float(p_complete[j])}
                )
        reasons = []
        if model.target_points is not None:
            short = expected < model.target_points if model.scored else reach < LOW_COMPLETION
            if short:
                reasons.append("below_target")
        if weak:
            reasons.append("weak_milestones")
        out.append(
            {
                "id": ind.id,
                "name": ind.name,
                "standard_number": ind.standard_number,
                "value": model.fallback,
                "expected_points": expected if model.scored else None,
                "target_points": model.target_points if model.scored else None,
                "p_reaches_target": reach,
                "weak_milestones": weak,
                "reasons": reasons,
            }
        )
    gap = {id(e): (e["target_points"] or 0) - (e["expected_points"] or 0) for e in out}
    out.sort(key=lambda e: -gap[id(e)])
    return out


def _milestone_rows(graph, ids, finish, target_date, today, p, p_complete):
    sl = slack(graph, target_date, today, finish)
    return [
        {
            "id": mid,
            "title": graph.nodes[mid]["m"].title,
            "status": graph.nodes[mid]["m"].status,
            "forecast_finish": finish[mid].isoformat(),
            "slack_days": sl[mid],
            "p_finish": float(p[j]),
            "p_complete": float(p_complete[j]),
        }
        for j, mid in enumerate(ids)
        if not graph.nodes[mid]["m"].is_done
    ]
