"""The scoring rules of app.engines.scoring applied to arrays of values (numpy).

The forecast scores thousands of sampled values per indicator; calling the
scalar engine for each would be slow. This module evaluates the same cell
conditions (plans/standards/README.md) on arrays, so the two never disagree:
tests/engines/test_scoring_arrays.py compares them on generated values.

A sampled value of one indicator is a mapping field -> array: the key None
holds a scalar input (a number, a rank, the mean of parts), named keys the
fields of a compound input (coverage / intact, contribution / departments,
national / provincial / related, municipal / provincial).
"""

from __future__ import annotations

import operator

import numpy as np

from app.engines.scoring import PARTS_DECIMALS

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


def holds(cond, fields) -> np.ndarray:
    """Boolean array: where a cell condition holds for the sampled fields."""
    if "all" in cond:
        return np.logical_and.reduce([holds(c, fields) for c in cond["all"]])
    if "any" in cond:
        return np.logical_or.reduce([holds(c, fields) for c in cond["any"]])
    if "field" in cond:
        x = fields[cond["field"]]
    elif "sum" in cond:
        x = sum(fields[f] for f in cond["sum"])
    else:
        x = fields[None]
    return OPS[cond["op"]](x, cond["value"])


def parts_mean(parts: list[np.ndarray]) -> np.ndarray:
    """The mean of the parts, rounded as the scalar engine rounds it."""
    return np.round(sum(parts) / len(parts), PARTS_DECIMALS)


def points(ind: dict, fields) -> np.ndarray:
    """Points (int32 array) of a numeric (non-level) input of indicator `ind`.

    The highest cell whose condition holds wins; a cell without points
    ("/") gives nothing. The deduction is -deduction_per_incident per incident.
    """
    n = len(next(iter(fields.values())))
    if ind["input"] == "deduction":
        return (-ind["deduction_per_incident"] * np.rint(fields[None])).astype(np.int32)
    if ind["input"] == "parts" and None not in fields:
        fields = {None: parts_mean([fields[p] for p in ind["parts"]])}
    out = np.zeros(n, dtype=np.int32)
    done = np.zeros(n, dtype=bool)
    for cell in reversed(ind["cells"]):
        if cell["condition"] is None or cell["points"] is None:
            continue
        hit = holds(cell["condition"], fields) & ~done
        out[hit] = cell["points"]
        done |= hit
    return out
