"""What-if overrides for the forecast (pure): fixed indicator values, milestones forced done or late.

- values {standard number: input}: the indicator's value now and at the target
  date (no trend); a milestone that delivers to it may still raise it (best by
  points, as always). It replaces any direct value for that number too. A value
  the scoring engine rejects raises ScoringError (its message names the indicator).
- done [milestone ids]: the milestone completes, as if finished on `today`
  (status done, 100 %), so its successors' forecast finish and chances follow.
- late [milestone ids]: the milestone does not complete by the target date (its
  chance is 0, so nothing that waits for it completes in any sample either).

Forcing a milestone done never lowers P(target): its finish (today) is no later
than its open forecast finish, so successors finish no later and their chances
do not drop; the draws are the same (common random numbers), so completions,
indicator points and totals can only rise. Forcing late never raises it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WhatIf:
    values: Mapping = field(default_factory=dict)  # standard number -> input
    done: tuple = ()  # milestone ids that complete (done on `today`)
    late: tuple = ()  # milestone ids that do not complete by the target date

    def __bool__(self) -> bool:
        return bool(self.values or self.done or self.late)

    def summary(self) -> dict:
        return {"values": dict(self.values), "done": list(self.done), "late": list(self.late)}


def check(what_if: WhatIf, milestones, scorer) -> None:
    """Raise ValueError (ScoringError for a value) unless the overrides fit the inputs."""
    for number, value in what_if.values.items():
        scorer.points(str(number), value)  # raises ScoringError naming the indicator
    by_id = {m.id: m for m in milestones}
    for mid in (*what_if.done, *what_if.late):
        if mid not in by_id:
            raise ValueError(f"unknown milestone {mid!r}")
    late = set(what_if.late)
    both = [mid for mid in what_if.done if mid in late]
    if both:
        raise ValueError(f"milestone {both[0]!r} cannot be both done and late")
    for mid in what_if.late:
        if by_id[mid].is_done:
            raise ValueError(f"milestone {mid!r} is already done; it cannot be late")


def apply(inputs, what_if: WhatIf, today):
    """A copy of the forecast inputs with the values and the done milestones applied.

    (Late milestones are applied by the forecast, which sets their chance to 0.)
    """
    values = {str(k): v for k, v in what_if.values.items()}
    done = set(what_if.done)
    milestones = [
        dataclasses.replace(m, status="done", percent=100, actual_finish=today)
        if m.id in done and not m.is_done
        else m
        for m in inputs.milestones
    ]
    indicators = [
        dataclasses.replace(ind, history=((today, values[ind.standard_number]),))
        if ind.standard_number in values
        else ind
        for ind in inputs.indicators
    ]
    constants = {**inputs.standard_values, **values}
    return dataclasses.replace(
        inputs, milestones=milestones, indicators=indicators, standard_values=constants
    )
