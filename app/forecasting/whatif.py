"""The what-if panel: the plan's forecast with assumed values and milestones, saving nothing.

The form has one group of fields per standard indicator, named
`w<number>-<field>` (the fields of app.indicators.values for its input kind:
a number, the parts of a compound input, or `w<number>-level`), and the
checkbox lists `done` and `late` of milestone keys. An assumed value is added
to the indicator's history as a measurement on the clock date (see
app.engines.forecast_whatif); a blank group assumes nothing.

The baseline is the plan's state known on the clock date with the stored run's
samples and seed, so with unchanged data it equals the stored run and every
difference comes from the assumptions (the engine reuses the draws).
"""

from __future__ import annotations

from app import clock
from app.engines.forecast import forecast
from app.engines.forecast_state import StateError
from app.engines.forecast_whatif import WhatIf, forecast_what_if
from app.engines.scoring import explain
from app.engines.standards import load_standard
from app.forecasting.state import build_state, latest_values, target_date_of
from app.indicators.values import ValueInputError, read_value, standard_spec, validate
from app.models import ForecastRun, Plan

SUMMARY_KEYS = ("probabilities", "p_target", "expected_total", "p05", "p50", "p95", "ceiling")
MAX_IDS = 5000
PREFIX = "w"


class WhatIfError(ValueError):
    """A request the panel cannot compute; `messages` (Chinese) go back with a 400.

    `by_number` {standard number: messages} and `by_milestone` {milestone key: messages}
    say which field group each message belongs to, so a form can show it there."""

    def __init__(self, messages, by_number=None, by_milestone=None):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.by_number = dict(by_number or {})
        self.by_milestone = dict(by_milestone or {})
        super().__init__("；".join(self.messages))


def field_name(number: str, name: str) -> str:
    return f"{PREFIX}{number}-{name}"


def _values(form, std: dict) -> tuple[dict, dict[str, list[str]]]:
    """(assumed values, {number: messages}) of the indicator field groups."""
    values, errors = {}, {}
    for ind in std["indicators"]:
        number = ind["number"]
        spec = standard_spec(std, ind)
        sub = {f.name: form.get(field_name(number, f.name), "") for f in spec.fields}
        sub["level"] = form.get(field_name(number, "level"), "")
        if not any(str(v).strip() for v in sub.values()):
            continue
        try:
            value = read_value(spec, sub)
            validate(spec, value)
        except ValueInputError as exc:
            errors[number] = list(exc.messages)
            continue
        values[number] = value
    return values, errors


def _ids(form, name: str) -> list[str]:
    raw = form.getlist(name) if hasattr(form, "getlist") else form.get(name) or []
    if len(raw) > MAX_IDS:
        raise WhatIfError(f"“{name}”最多 {MAX_IDS} 个里程碑")
    return list(dict.fromkeys(str(x).strip() for x in raw if str(x).strip()))


def parse(form, plan: Plan, state: dict) -> WhatIf:
    """A WhatIf from the submitted form; WhatIfError naming every problem."""
    std = load_standard(plan.standard_code)
    values, by_number = _values(form, std)
    done, late = _ids(form, "done"), _ids(form, "late")
    by_id = {m["id"]: m for m in state["milestones"]}
    by_milestone: dict[str, list[str]] = {}

    def refuse(mid, message):
        by_milestone.setdefault(mid, []).append(message)

    for mid in dict.fromkeys((*done, *late)):
        if mid not in by_id:
            refuse(mid, f"里程碑 {mid} 不属于计划 {plan.code}")
    for mid in [m for m in done if m in set(late)]:
        refuse(mid, f"里程碑“{by_id[mid]['title']}”不能同时假设为完成和延误")
    for mid in late:
        if mid in by_id and by_id[mid]["finished"] is not None:
            refuse(mid, f"里程碑“{by_id[mid]['title']}”已完成，不能假设为延误")
    errors = [m for n in by_number for m in by_number[n]] + [m for k in by_milestone for m in by_milestone[k]]
    if errors:
        raise WhatIfError(errors, by_number, by_milestone)
    return WhatIf(values=values, done=tuple(done), late=tuple(late))


def _summary(current: dict, fc: dict) -> dict:
    return {"total": current["total"], "stars": current["stars"], **{k: fc[k] for k in SUMMARY_KEYS}}


def stored_summary(run: ForecastRun | None) -> dict | None:
    if run is None:
        return None
    return _summary(run.result["forecast"]["current"], run.result["forecast"])


def _changed(std: dict, before: dict, after: dict, base: dict, assumed: dict) -> list[dict]:
    rows = []
    for ind in std["indicators"]:
        number = ind["number"]
        old, new = before["indicators"][number], after["indicators"][number]
        if number not in assumed and old["points"] == new["points"]:
            continue
        rows.append(
            {
                "number": number,
                "name": ind["name"],
                "unit": ind.get("unit"),
                "value_before": base.get(number),
                "value_after": assumed.get(number, base.get(number)),
                "points_before": old["points"],
                "points_after": new["points"],
                "expected_before": before["expected"].get(number),
                "expected_after": after["expected"].get(number),
            }
        )
    return rows


def what_if(plan: Plan, form, run: ForecastRun | None) -> dict:
    """The panel's answer (see the module docstring); raises WhatIfError on a bad request."""
    if not plan.standard_code:
        raise WhatIfError(f"计划 {plan.code} 未指定评价标准，无法测算")
    as_of = clock.today()
    samples = run.samples if run is not None else None
    state, _ = build_state(plan, as_of, **({"samples": samples} if samples else {}))
    assumptions = parse(form, plan, state)
    std = load_standard(plan.standard_code)
    base_values = latest_values(state)
    base_fc = forecast(state)
    try:
        new_fc = forecast_what_if(state, assumptions) if assumptions else base_fc
    except StateError as exc:
        raise WhatIfError(str(exc)) from None
    new_values = {**base_values, **assumptions.values}
    before = {**explain(std, base_values), "expected": _expected(base_fc)}
    after = {**explain(std, new_values), "expected": _expected(new_fc)}
    stored = stored_summary(run)
    baseline = _summary(base_fc["current"], base_fc)
    return {
        "plan": plan.code,
        "as_of": as_of.isoformat(),
        "target_date": target_date_of(plan).isoformat(),
        "target_stars": state["target_stars"],
        "samples": state["samples"],
        "assumptions": assumptions.summary(),
        "stored": stored,
        "baseline": baseline,
        "baseline_matches_stored": stored == baseline,
        "what_if": _summary(new_fc["current"], new_fc),
        "changed": _changed(std, before, after, base_values, assumptions.values),
        "milestones": {m["id"]: m["title"] for m in state["milestones"]},
    }


def _expected(fc: dict) -> dict:
    return {n: row["expected_points"] for n, row in fc.get("indicators", {}).items()}
