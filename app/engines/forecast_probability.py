"""How likely an open milestone is to finish by the target date (pure Python).

The formula, for an open milestone X (a done one has probability 1):

    r   = (on_time + 2) / (on_time + late + 3)    department's on-time rate: the mean of
                                                  Beta(2 + on_time, 1 + late), i.e. a
                                                  Beta(2, 1) prior; a new department gets 2/3
    q   = percent / 100
    p0  = r + (1 - r) * q / 2                     progress halves at most the risk of lateness
    R   = remaining work in days ((100 - percent)% of the planned duration, >= 1)
    s   = target_date - forecast_finish(X)        in days (graph.forecast_finish: slippage
                                                  of predecessors and overdue work included)
    tau = max(7, R / 2)                           uncertainty grows with the work left
    p   = 1 - (1 - p0) * exp(-s / tau)            if s >= 0 (room to spare: towards 1)
    p   = p0 * exp(s / tau)                       if s < 0  (forecast after the date: towards 0)
    p   = p / 2                                   if the milestone is blocked (受阻)
    p   = clamp(p, 0.01, 0.99)

and p = 0 when the target date is not after today (nothing open can still make it).
"""

import math

MIN_P, MAX_P = 0.01, 0.99
PRIOR_ON_TIME, PRIOR_LATE = 2, 1
MIN_TAU_DAYS = 7
BLOCKED_FACTOR = 0.5


def department_rate(on_time=0, late=0):
    """Posterior mean on-time rate of a department under a Beta(2, 1) prior."""
    return (on_time + PRIOR_ON_TIME) / (on_time + late + PRIOR_ON_TIME + PRIOR_LATE)


def finish_probability(*, status, percent, remaining_days, forecast_finish, target_date, today, rate):
    """P(an open milestone finishes by target_date); see the module docstring."""
    if status == "done":
        return 1.0
    if target_date <= today:
        return 0.0
    p0 = rate + (1 - rate) * (percent / 100) / 2
    s = (target_date - forecast_finish).days
    tau = max(MIN_TAU_DAYS, remaining_days / 2)
    p = 1 - (1 - p0) * math.exp(-s / tau) if s >= 0 else p0 * math.exp(s / tau)
    if status == "blocked":
        p *= BLOCKED_FACTOR
    return min(MAX_P, max(MIN_P, p))
