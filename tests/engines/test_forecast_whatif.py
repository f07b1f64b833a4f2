"""What-if forcing in the forecast engine: fixed values, milestones forced done or late."""

import itertools

import pytest

from app.engines.forecast import WhatIf, forecast
from app.engines.scoring import ScoringError, score
from tests.engines.test_forecast import CITY, SAMPLES, TARGET, TODAY, mark_done, others_at_level_4, plan

OPEN = ("A", "B", "C", "D", "F")


def run(inputs, what_if=None, **kw):
    return forecast(inputs, TARGET, TODAY, samples=kw.pop("samples", SAMPLES), what_if=what_if, **kw)


def without_what_if(result):
    return {k: v for k, v in result.items() if k != "what_if"}


def test_no_overrides_is_the_plain_forecast():
    assert run(plan(), WhatIf()) == run(plan())
    assert "what_if" not in run(plan(), WhatIf())


def test_forcing_done_is_marking_done_on_the_clock_date():
    for mid in OPEN:
        forced = run(plan(), WhatIf(done=(mid,)))
        assert forced["what_if"] == {"values": {}, "done": [mid], "late": []}
        assert without_what_if(forced) == run(mark_done(plan(), mid)), mid


def test_forcing_done_never_lowers_p_target():
    inputs = plan()
    before = run(inputs)["p_target"]
    for k in (1, 2, 3):
        for subset in itertools.combinations(OPEN, k):
            assert run(inputs, WhatIf(done=subset))["p_target"] >= before, subset
    assert run(inputs, WhatIf(done=("B",)))["p_target"] == 1.0  # fibre to 100 %: 344 points


def test_forcing_late_is_the_top_milestones_if_late_case():
    inputs = plan()
    base = run(inputs)
    top = {r["id"]: r for r in base["top_milestones"]}
    for mid, row in top.items():
        forced = run(inputs, WhatIf(late=(mid,)))
        assert forced["p_target"] == pytest.approx(row["p_target_if_late"]), mid
        assert forced["p_target"] <= base["p_target"]
        assert mid not in [r["id"] for r in forced["top_milestones"]]
        rows = {r["id"]: r for r in forced["milestones"]}
        assert rows[mid]["p_finish"] == 0.0 and rows[mid]["p_complete"] == 0.0


def test_a_late_milestone_holds_up_its_successors():
    rows = {r["id"]: r for r in run(plan(), WhatIf(late=("A",)))["milestones"]}
    assert rows["A"]["p_complete"] == rows["B"]["p_complete"] == 0.0  # B waits for A
    assert rows["C"]["p_complete"] > 0


def test_late_everywhere_is_the_worst_case_and_done_everywhere_the_best():
    base = run(plan())
    late = run(plan(), WhatIf(late=OPEN))
    assert late["probabilities"][late["worst_case"]["stars"]] == 1.0
    assert late["expected_total"] == base["worst_case"]["total"] == 338
    done = run(plan(), WhatIf(done=OPEN))
    assert done["expected_total"] == base["best_case"]["total"] == 358
    assert done["p_target"] == 1.0


def test_values_fix_an_indicator_now_and_at_the_target_date():
    inputs = plan()
    # Indicator 1 (fibre, 4 points on its trend) set to 100 %: 10 points in every sample.
    result = run(inputs, WhatIf(values={"1": 100}))
    assert result["p_target"] == 1.0
    assert result["worst_case"]["total"] == 338 - 4 + 10
    # A direct value is replaced too: indicator 2 (level 4 now) set to level 0 drops its points.
    pts2 = score(CITY, {"2": others_at_level_4()["2"]})["indicators"]["2"]["points"]
    lower = run(inputs, WhatIf(values={"2": {"level": 0}}))
    assert lower["worst_case"]["total"] == 338 - pts2
    assert lower["best_case"]["total"] == 358 - pts2
    # A delivering milestone may still raise a fixed value (best by points).
    low = run(inputs, WhatIf(values={"1": 10}))
    assert low["worst_case"]["total"] == 338 - 4  # no trend: 10 % earns nothing
    assert low["best_case"]["total"] == 358  # B still delivers 100 %


def test_what_if_is_deterministic():
    what_if = WhatIf(values={"3": 90}, done=("A",), late=("D",))
    assert run(plan(), what_if) == run(plan(), what_if)


@pytest.mark.parametrize(
    "what_if, error, words",
    [
        (WhatIf(values={"1": -5}), ScoringError, "indicator 1"),
        (WhatIf(values={"99": 5}), ScoringError, "'99'"),
        (WhatIf(values={"29": 50}), ScoringError, "indicator 29"),
        (WhatIf(done=("Z",)), ValueError, "unknown milestone 'Z'"),
        (WhatIf(done=("A",), late=("A",)), ValueError, "both done and late"),
        (WhatIf(late=("E",)), ValueError, "already done"),
    ],
)
def test_bad_overrides_are_refused(what_if, error, words):
    with pytest.raises(error, match=words):
        run(plan(), what_if, samples=50)
