"""What-if on a forecast state (pure): assumed values, milestones assumed done or late.

- values {standard number: input}: a measurement dated as_of is added to the
  indicator's history (its earlier measurements stay: the drift and spread are
  still learned from them), so by property 4 of the contract a value at least
  as good as the latest never lowers the forecast.
- done [milestone ids]: finished on as_of (percent 100), as property 3 reads it.
- late [milestone ids]: never finishes by the target date, in every sample; what
  waits for it waits too.

The draws stay the same (common random numbers), so with the same seed every
difference from the plain forecast comes from the assumptions alone.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.engines.forecast import forecast
from app.engines.forecast_state import StateError, parse_state


@dataclass(frozen=True)
class WhatIf:
    values: Mapping = field(default_factory=dict)  # standard number -> input
    done: tuple = ()
    late: tuple = ()

    def __bool__(self) -> bool:
        return bool(self.values or self.done or self.late)

    def summary(self) -> dict:
        return {"values": dict(self.values), "done": list(self.done), "late": list(self.late)}


def apply(state: dict, what_if: WhatIf) -> dict:
    """A copy of the JSON state with the values and the done milestones applied.

    Raises StateError when a milestone is unknown, both done and late, or late
    although already finished (the message names it)."""
    out = copy.deepcopy(state)
    by_id = {str(m["id"]): m for m in out.get("milestones", [])}
    late = {str(i) for i in what_if.late}
    for mid in (*what_if.done, *what_if.late):
        if str(mid) not in by_id:
            raise StateError(f"what-if: unknown milestone {mid!r}")
    for mid in what_if.done:
        if str(mid) in late:
            raise StateError(f"what-if: milestone {mid!r} cannot be both done and late")
        m = by_id[str(mid)]
        if m.get("finished") is None:
            m["finished"], m["percent"] = out["as_of"], 100
    for mid in late:
        if by_id[mid].get("finished") is not None:
            raise StateError(f"what-if: milestone {mid!r} is already done; it cannot be late")
    indicators = out.setdefault("indicators", {})
    for number, value in what_if.values.items():
        indicators.setdefault(str(number), []).append({"date": out["as_of"], "value": value})
    return out


def forecast_what_if(state: dict, what_if: WhatIf, **kwargs) -> dict:
    """The forecast of the state with the assumptions (checked like any state)."""
    changed = parse_state(apply(state, what_if))
    result = forecast(changed, late=tuple(str(i) for i in what_if.late), **kwargs)
    result["what_if"] = what_if.summary()
    return result
