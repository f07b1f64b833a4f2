"""When each milestone finishes, sampled (numpy / scipy; pure).

Departments
    A department's record is its finished milestones (on time when finished by
    the due date, else late by so many days) and its open milestones already
    past due (late by at least as_of - due: a censored observation).
    On-time rate: p_d = (on_d + K_ON * p_pool) / (n_d + K_ON), where p_pool is the
    pooled rate of all departments under a Beta(PRIOR_ON, PRIOR_LATE) prior.
    Lateness when late: log-normal, log L ~ N(mu_d, SIGMA); mu_d is the censored
    mean (EM: a censored record counts at E[log L | L > c]) shrunk toward the
    pooled mu with weight K_LATE; SIGMA is the spread of log lateness within
    departments (censored records at their censoring time), shrunk toward
    PRIOR_SIGMA.

Uncertainty of those estimates makes milestones of one department (and of one
plan) late together: per sample, each department and the plan draw a normal
effect, added to the probit of the on-time rate and to mu, with a spread that
shrinks with the number of the department's milestones due before as_of.

An open milestone, per sample:
  - schedule index SI = progress - share of its planned time elapsed
    (start -> due; the start is estimated when the state gives none);
  - not yet due: on time when eps < probit(p_d) * scale + effects + BETA_ON * SI,
    finishing on its due date; else late by L * exp(-BETA_LATE * SI) days;
  - past due: late by L drawn from the lateness distribution above the days
    already late, the remaining days scaled by (1 - progress) / (1 - MID_PROGRESS);
  - then it cannot finish before a predecessor's finish + lag (finish-to-start).

Monotone by construction, with the same draws (common random numbers): more
progress, or another milestone finished on as_of, never makes any sampled finish
later (the estimates above only move toward "earlier" when a record improves;
spreads depend only on counts that finishing does not change).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.special import ndtr, ndtri

from app.engines.schedule import is_overdue, planned_start

PRIOR_ON, PRIOR_LATE = 1.2, 0.8  # Beta prior of the pooled on-time rate (mean 0.6)
K_ON = 3.0  # pseudo-count pulling a department's rate toward the pool
PRIOR_LOG_LATE = math.log(30.0)  # prior median lateness: 30 days
PRIOR_LOG_WEIGHT = 1.0
K_LATE = 3.0
PRIOR_SIGMA = 0.9
SIGMA_WEIGHT = 4.0
ON_SPREAD = 1.2  # probit spread of a department's rate with no history
PLAN_SPREAD = 0.8  # probit spread shared by every department of the plan
BETA_ON = 2.0  # probit shift per unit of schedule index
BETA_LATE = 0.8  # log-lateness shift per unit of schedule index
MID_PROGRESS = 0.5
PRIOR_EARLY = 0.05  # prior mean share of the planned duration an on-time finish comes early
EARLY_WEIGHT = 2.0
BETA_EARLY = 1.0  # log-earliness shift per unit of schedule index
MIN_REMAINING_FACTOR = 0.05
EM_STEPS = 40
# Finish-to-start: after a predecessor finishes (+ lag), this share of the work still
# left is assumed to follow it (0 would let the two finish together, 1 is strict).
FS_WORK_SHARE = 0.3
NEVER = 10**6  # a finish that never comes (days after as_of)


@dataclass
class DepartmentModel:
    name: str
    on_time: int
    late_finished: int
    late_open: int
    rate: float  # point estimate of the on-time rate
    mu: float  # log lateness (days) when late
    on_spread: float
    late_spread: float
    due_before: int

    @property
    def records(self) -> int:
        return self.on_time + self.late_finished + self.late_open

    def summary(self, sigma: float) -> dict:
        return {
            "on_time": self.on_time,
            "late_finished": self.late_finished,
            "late_open": self.late_open,
            "on_time_rate": round(self.rate, 4),
            "median_late_days": round(math.exp(self.mu), 1),
            "p90_late_days": round(math.exp(self.mu + 1.2816 * sigma), 1),
        }


def _inv_mills(a: float) -> float:
    """E[Z | Z > a] for a standard normal Z."""
    if a > 30:
        return a + 1 / a
    return math.exp(-0.5 * a * a) / math.sqrt(2 * math.pi) / (0.5 * math.erfc(a / math.sqrt(2)))


def _em_mu(observed, censored, prior_mu, prior_weight, sigma):
    """Censored-normal mean of log lateness with a prior (monotone in every input)."""
    mu = prior_mu
    total_obs = sum(observed)
    n = len(observed) + len(censored)
    if not censored:
        return (prior_weight * prior_mu + total_obs) / (prior_weight + n)
    for _ in range(EM_STEPS):
        imputed = sum(mu + sigma * _inv_mills((c - mu) / sigma) for c in censored)
        mu = (prior_weight * prior_mu + total_obs + imputed) / (prior_weight + n)
    return mu


def learn_departments(milestones, starts, as_of: date):
    """({department: DepartmentModel}, sigma, pooled summary) from the milestones' record
    (`starts`: each milestone's start, from estimated_starts)."""
    recs = {}
    for m in milestones:
        r = recs.setdefault(m.department, {"on": 0, "obs": [], "cens": [], "due_before": 0})
        if m.due < as_of:
            r["due_before"] += 1
        if m.finished is not None:
            late = (m.finished - m.due).days
            if late <= 0:
                r["on"] += 1
            else:
                r["obs"].append(math.log(late))
        elif is_overdue(m.due, as_of):  # open and past due: late by at least this much
            r["cens"].append(math.log((as_of - m.due).days))
    on_all = sum(r["on"] for r in recs.values())
    late_all = sum(len(r["obs"]) + len(r["cens"]) for r in recs.values())
    p_pool = (on_all + PRIOR_ON) / (on_all + late_all + PRIOR_ON + PRIOR_LATE)
    # Spread of log lateness within departments; censored records at their censoring
    # time, so finishing an overdue milestone on as_of does not change it.
    dev, dof = 0.0, 0
    for r in recs.values():
        logs = r["obs"] + r["cens"]
        if len(logs) > 1:
            mean = sum(logs) / len(logs)
            dev += sum((x - mean) ** 2 for x in logs)
            dof += len(logs) - 1
    sigma = math.sqrt((dev + SIGMA_WEIGHT * PRIOR_SIGMA**2) / (dof + SIGMA_WEIGHT))
    obs_all = [x for r in recs.values() for x in r["obs"]]
    cens_all = [x for r in recs.values() for x in r["cens"]]
    mu_pool = _em_mu(obs_all, cens_all, PRIOR_LOG_LATE, PRIOR_LOG_WEIGHT, sigma)
    models = {}
    for name, r in recs.items():
        n = r["on"] + len(r["obs"]) + len(r["cens"])
        n_late = len(r["obs"]) + len(r["cens"])
        models[name] = DepartmentModel(
            name=name,
            on_time=r["on"],
            late_finished=len(r["obs"]),
            late_open=len(r["cens"]),
            rate=(r["on"] + K_ON * p_pool) / (n + K_ON),
            mu=_em_mu(r["obs"], r["cens"], mu_pool, K_LATE, sigma),
            on_spread=ON_SPREAD / math.sqrt(1 + r["due_before"]),
            late_spread=sigma / math.sqrt(K_LATE + n_late),
            due_before=r["due_before"],
        )
    due_before_all = sum(r["due_before"] for r in recs.values())
    early = early_share(milestones, starts, as_of)
    pooled = {
        "on_time_rate": round(p_pool, 4),
        "median_late_days": round(math.exp(mu_pool), 1),
        "plan_spread": PLAN_SPREAD / math.sqrt(1 + due_before_all / 4),
        "plan_late_spread": sigma / math.sqrt(PRIOR_LOG_WEIGHT + late_all),
        "early_share": early,
    }
    return models, sigma, pooled


def early_share(milestones, starts, as_of: date) -> float:
    """Mean share of the planned duration by which on-time milestones finished early.

    Learned only from milestones due before as_of (finishing an open one on as_of
    never changes it), shrunk toward PRIOR_EARLY."""
    shares = []
    for m, start in zip(milestones, starts, strict=True):
        if m.finished is not None and m.due < as_of and m.finished <= m.due:
            span = max(1, (m.due - start).days)
            shares.append(min(1.0, (m.due - m.finished).days / span))
    return (sum(shares) + EARLY_WEIGHT * PRIOR_EARLY) / (len(shares) + EARLY_WEIGHT)


def estimated_starts(milestones) -> list[date]:
    """Each milestone's start: as given, else its latest predecessor's due date
    (when earlier than its own), else due - DEFAULT_DURATION days: schedule.planned_start."""
    due = {m.id: m.due for m in milestones}
    return [
        m.start if m.start is not None else planned_start(m.due, [due[p] for p, _ in m.predecessors])
        for m in milestones
    ]


class Draws:
    """Common random numbers: one column per milestone and per department (fixed order)."""

    def __init__(self, rng, samples, n_milestones, departments):
        self.on = rng.standard_normal((samples, n_milestones))
        self.late = rng.random((samples, n_milestones))
        self.early = rng.random((samples, n_milestones))
        self.dept_on = {d: rng.standard_normal(samples) for d in departments}
        self.dept_late = {d: rng.standard_normal(samples) for d in departments}
        self.plan_on = rng.standard_normal(samples)
        self.plan_late = rng.standard_normal(samples)


def _schedule_index(m, start, as_of):
    q = m.percent / 100.0
    span = (m.due - start).days
    if span <= 0:
        elapsed = 1.0 if as_of >= m.due else 0.0
    else:
        elapsed = min(1.0, max(0.0, (as_of - start).days / span))
    return q - elapsed, q


def work_after_predecessors(milestones, starts) -> list[int]:
    """Days of each milestone's remaining work that follow its predecessors' finish."""
    return [
        math.ceil(FS_WORK_SHARE * (1 - m.percent / 100.0) * max(1, (m.due - start).days))
        for m, start in zip(milestones, starts, strict=True)
    ]


def after_predecessors(finish, m, column, index, work):
    """A milestone's finish no earlier than each predecessor's finish + lag + its work after
    it; column(c) gives milestone c's sampled finishes."""
    for p, lag in m.predecessors:
        finish = np.maximum(finish, column(index[p]) + lag + work)
    return finish


def sample_finishes(state, order, index, starts, departments, sigma, pooled, draws, late=frozenset()):
    """(own, finish): (samples × milestones) int arrays of finish days counted from as_of
    (NEVER: not at all); `own` before, `finish` after the predecessors' constraint.

    `order` is a topological order of milestone indices; `late` holds indices forced
    never to finish (the what-if's “延误”)."""
    n = state.samples
    ms = state.milestones
    as_of = state.as_of
    out = np.empty((n, len(ms)), dtype=np.int64)
    own = np.empty((n, len(ms)), dtype=np.int64)
    work = work_after_predecessors(ms, starts)
    plan_on = pooled["plan_spread"] * draws.plan_on
    plan_late = pooled["plan_late_spread"] * draws.plan_late
    for j in order:
        m = ms[j]
        if m.finished is not None:
            out[:, j] = own[:, j] = (m.finished - as_of).days
            continue
        if j in late:
            out[:, j] = own[:, j] = NEVER
            continue
        d = departments[m.department]
        si, q = _schedule_index(m, starts[j], as_of)
        mu = d.mu + d.late_spread * draws.dept_late[m.department] + plan_late
        due = (m.due - as_of).days
        if due >= 0:
            scale = math.sqrt(1 + d.on_spread**2 + pooled["plan_spread"] ** 2)
            arg = ndtri(d.rate) * scale + d.on_spread * draws.dept_on[m.department] + plan_on + BETA_ON * si
            on_time = draws.on[:, j] < arg
            log_late = mu + sigma * ndtri(np.clip(draws.late[:, j], 1e-12, 1 - 1e-12)) - BETA_LATE * si
            lateness = np.ceil(np.exp(np.minimum(log_late, 12.0)))
            # On time: finishes early by an exponential share of its planned duration.
            span = max(1, (m.due - starts[j]).days)
            early = -np.log1p(-np.clip(draws.early[:, j], 0, 1 - 1e-12)) * pooled["early_share"]
            early = np.floor(np.minimum(early * math.exp(BETA_EARLY * si), 1.0) * span)
            finish = np.where(on_time, np.maximum(due - early, 0), due + lateness)
        else:
            already = -due  # days late today
            a = (math.log(already) - mu) / sigma
            tail = ndtr(-a)  # P(L > already)
            # L | L > already at the same uniform: monotone in mu (log-normals are LR-ordered).
            u = np.clip((1 - draws.late[:, j]) * tail, 1e-300, 1.0)
            log_late = mu - sigma * ndtri(u)
            lateness = np.exp(np.minimum(log_late, 12.0))
            factor = max(MIN_REMAINING_FACTOR, (1 - q) / (1 - MID_PROGRESS))
            finish = np.ceil(np.maximum(lateness - already, 0.0) * factor)
            finish = np.maximum(finish, 0.0)
        finish = np.minimum(finish, NEVER).astype(np.int64)
        own[:, j] = finish
        finish = after_predecessors(finish, m, lambda c: out[:, c], index, work[j])
        out[:, j] = np.minimum(finish, NEVER)
    return own, out, work
