"""P(star level by the target date) from a state (shared/spec/forecast.md; pure: numpy, scipy, networkx).

forecast(state) samples, with one seeded generator and common random numbers,
  - each milestone's finish date (forecast_milestones: departments' learned on-time
    rate and lateness, progress, planned duration, dependencies with lags),
  - each indicator's value at the target date (forecast_indicators: the latest
    measurement with a learned drift and spread, raised by the declared value of
    every delivering milestone done by then),
and scores every sample (scoring_arrays). Same state, same seed → same result.
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx
import numpy as np

from app.engines import forecast_explain as explain
from app.engines import forecast_indicators as fi
from app.engines.forecast_milestones import (
    Draws,
    estimated_starts,
    learn_departments,
    sample_finishes,
)
from app.engines.forecast_state import DEFAULT_SEED, State, StateError, header, parse_state
from app.engines.scoring import score
from app.engines.standards import max_points, stars_for

__all__ = ["DEFAULT_SEED", "State", "StateError", "forecast", "parse_state"]

FIELD_COLUMNS = 3  # normals drawn per indicator (its fields), whatever the value's form
STAR_LEVELS = 6


def _order(state):
    index = {m.id: j for j, m in enumerate(state.milestones)}
    g = nx.DiGraph()
    g.add_nodes_from(range(len(state.milestones)))
    for j, m in enumerate(state.milestones):
        for p, _ in m.predecessors:
            g.add_edge(index[p], j)
    return index, list(nx.lexicographical_topological_sort(g)), g


def _current(state):
    """Score of the latest measurements (the values known on as_of)."""
    return score(state.standard, {n: rows[-1][1] for n, rows in state.indicators.items()})


class _Run:
    """One forecast: the sampled matrices and what is derived from them."""

    def __init__(self, state: State, late=frozenset()):
        self.state = state
        self.std = state.standard
        self.n = state.samples
        self.cache = {}
        self.index, self.order, self.graph = _order(state)
        self.position = {j: k for k, j in enumerate(self.order)}
        self.horizon = (state.target_date - state.as_of).days
        self.starts = estimated_starts(state.milestones)
        self.departments, self.sigma, self.pooled = learn_departments(
            state.milestones, self.starts, state.as_of
        )
        self.late = frozenset(self.index[i] for i in late)
        self.models = fi.build(state, self.cache)

    def run(self):
        """Sample (the draws come in one fixed order: milestones, departments, indicators)."""
        rng = np.random.default_rng(self.state.seed)
        names = sorted({m.department for m in self.state.milestones})
        draws = Draws(rng, self.n, len(self.state.milestones), names)
        self.z = {
            spec["number"]: rng.standard_normal((self.n, FIELD_COLUMNS)) for spec in self.std["indicators"]
        }
        self.own, self.finish, self.work = sample_finishes(
            self.state,
            self.order,
            self.index,
            self.starts,
            self.departments,
            self.sigma,
            self.pooled,
            draws,
            self.late,
        )
        self.done = self.finish <= self.horizon
        self.measured = {
            number: fi.measured_points(model, self.std, self.horizon, self.z[number], self.n, self.cache)
            for number, model in self.models.items()
        }
        self.points = {number: self.points_of(number, lambda j: self.done[:, j]) for number in self.models}
        self.totals = self.total(self.points)
        self.stars = self.stars_of(self.totals)
        return self

    def points_of(self, number, done):
        """Points per sample; done(j) -> whether milestone j is done by the target, per sample."""
        model = self.models[number]
        pts = self.measured[number]
        for j, _, p in model.deliveries:
            pts = np.where(done(j), np.maximum(pts, p), pts)
        return pts

    def total(self, points):
        raw = sum(points.values(), np.zeros(self.n, dtype=np.int64))
        return np.maximum(raw, 0)

    def stars_of(self, totals):
        lut = np.array([stars_for(self.std, t) for t in range(int(totals.max(initial=0)) + 1)], dtype=np.int8)
        return lut[totals]


def _percentile(totals, q):
    return int(np.percentile(totals, q, method="lower" if q < 50 else "higher" if q > 50 else "nearest"))


def _fixed_case(run, delivered):
    """(total and stars, points per number) when every indicator keeps its latest value and
    the milestones `delivered(j)` says deliver (no sampling)."""
    pts = {}
    for number, model in run.models.items():
        best = fi.value_points(run.std, number, model.latest, run.cache) if model.latest is not None else 0
        for j, _, p in model.deliveries:
            if delivered(j):
                best = max(best, p)
        pts[number] = best
    total = max(0, sum(pts.values()))
    return {"total": int(total), "stars": stars_for(run.std, total)}, pts


def _ceiling(run):
    """Every open milestone delivers; every other indicator keeps its latest value."""
    return _fixed_case(run, lambda j: j not in run.late)


def _status_quo(run):
    """No open milestone finishes; every indicator keeps its latest value (done deliveries count)."""
    return _fixed_case(run, lambda j: run.state.milestones[j].finished is not None)[0]


def _capped(run, untracked, ceiling_points):
    """Tracked indicators that stay below full marks even if every milestone delivers."""
    return [
        n
        for n, m in run.models.items()
        if n not in untracked and m.spec["input"] != "deduction" and ceiling_points[n] < max_points(m.spec)
    ]


def _degenerate(state, current):
    total, stars = current["total"], current["stars"]
    probabilities = [0.0] * STAR_LEVELS
    probabilities[stars] = 1.0
    return {
        "probabilities": probabilities,
        "p_target": 1.0 if stars >= state.target_stars else 0.0,
        "expected_total": float(total),
        "p05": total,
        "p50": total,
        "p95": total,
        "milestones": [
            {
                "id": m.id,
                "p_finish": 1.0 if m.finished is not None and m.finished <= state.target_date else 0.0,
                "forecast_finish": m.finished.isoformat() if m.finished else None,
            }
            for m in state.milestones
        ],
    }


def forecast(state, *, late=(), samples=None, seed=None, details=True) -> dict:
    """The forecast of a state (a State, or a JSON-like dict parsed with parse_state).

    late: milestone ids forced never to finish (what-if). details: add the
    product's extra keys (indicators, departments, top milestones) to the spec's.
    """
    if not isinstance(state, State):
        state = parse_state(state, samples=samples, seed=seed)
    elif samples is not None or seed is not None:
        state = replace(state, samples=samples or state.samples, seed=state.seed if seed is None else seed)
    unknown = [i for i in late if i not in {m.id for m in state.milestones}]
    if unknown:
        raise StateError(f"late: unknown milestone {unknown[0]!r}")
    current = _current(state)
    run = _Run(state, frozenset(late))
    ceiling, ceiling_points = _ceiling(run)
    untracked = [n for n, m in run.models.items() if m.latest is None and not m.deliveries]
    capped = _capped(run, untracked, ceiling_points)
    result = {**header(state), "current": {"total": current["total"], "stars": current["stars"]}}
    if state.as_of >= state.target_date:
        result.update(_degenerate(state, current))
        result.update(
            ceiling=result["current"],
            status_quo=result["current"],
            untracked=untracked,
            capped=capped,
            assumptions=explain.assumptions(run, untracked, capped, ceiling_points, degenerate=True),
            warnings=[],
        )
        if details:
            result["indicators"] = explain.indicator_rows(run, ceiling_points, current, degenerate=True)
            result["departments"] = explain.department_rows(run)
            result["top_milestones"] = []
        return result
    run.run()
    totals = run.totals
    n = run.n
    probabilities = [float(np.count_nonzero(run.stars == k)) / n for k in range(STAR_LEVELS)]
    result.update(
        probabilities=probabilities,
        p_target=float(np.count_nonzero(run.stars >= state.target_stars)) / n,
        expected_total=round(float(totals.mean()), 4),
        p05=_percentile(totals, 5),
        p50=int(np.median(totals)) if n % 2 else int(np.percentile(totals, 50, method="lower")),
        p95=_percentile(totals, 95),
        ceiling=ceiling,
        status_quo=_status_quo(run),
        untracked=untracked,
        capped=capped,
        assumptions=explain.assumptions(run, untracked, capped, ceiling_points),
        milestones=explain.milestone_rows(run),
        warnings=[],
    )
    if details:
        result["indicators"] = explain.indicator_rows(run, ceiling_points, current)
        result["departments"] = explain.department_rows(run)
        result["top_milestones"] = explain.top_milestones(run)
    return result
