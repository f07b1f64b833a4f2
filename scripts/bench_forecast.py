"""Benchmark the forecast engine: weihai-1313 itself and synthetic plans.

First the real weihai-1313 plan with its demo data (a scratch SQLite database),
then one synthetic plan shaped like weihai-1313 (~90 milestones in yearly stages, ~50
dependencies, 49 indicators mapped to sd-city-2019) and one ten times larger,
each forecast with 10,000 samples. Goal on a 2-core machine: under 0.5 s and 5 s.

    .venv/bin/python scripts/bench_forecast.py [--samples N] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engines.forecast import (  # noqa: E402
    DependencyData,
    ForecastInputs,
    IndicatorData,
    MilestoneData,
    forecast,
)
from app.engines.standards import load_standard  # noqa: E402

STANDARD = "sd-city-2019"
TODAY = date(2021, 3, 15)
TARGET = date(2021, 10, 31)
STAGES = (date(2020, 12, 31), date(2021, 6, 30), date(2021, 12, 31), date(2022, 12, 31))


def _value(ind, column):
    """An input that meets the given column (1-5) of a standard indicator, or the next one with points."""
    if ind["input"] == "deduction":
        return 0
    columns = [c for c in range(1, 6) if ind["cells"][c - 1]["points"] is not None]
    column = min((c for c in columns if c >= column), default=columns[-1])
    cond = ind["cells"][column - 1]["condition"]
    if ind["input"] in ("number", "rank") and cond and "op" in cond:
        return cond["value"] + (1 if cond["op"] == ">" else 0)
    return {"level": column}


def _milestones(rng, prefix, projects, departments):
    milestones, deps = [], []
    for p in range(projects):
        stages = rng.sample(STAGES, rng.choice((2, 2, 3)))
        stages.sort()
        dept = f"{prefix}d{rng.randrange(departments)}"
        prev = None
        for k, due in enumerate(stages):
            mid = f"{prefix}p{p}-{k}"
            if due < TODAY:
                status = "done" if rng.random() < 0.8 else "in_progress"
            elif due < date(2022, 1, 1):
                status = rng.choice(("not_started", "in_progress", "in_progress", "blocked"))
            else:
                status = "not_started"
            done = status == "done"
            percent = 100 if done else (rng.randrange(10, 95, 5) if status != "not_started" else 0)
            finish = due - timedelta(days=rng.randrange(-20, 30)) if done else None
            milestones.append(
                MilestoneData(mid, f"项目{prefix}{p} 阶段{k + 1}", due, status, percent, finish, due, dept)
            )
            if prev:
                deps.append(DependencyData(prev, mid, rng.choice((0, 0, 15))))
            prev = mid
    return milestones, deps


def _indicators(rng, prefix, std, milestones):
    open_ids = [m.id for m in milestones]
    out = []
    for i, ind in enumerate(std["indicators"]):
        number = ind["number"] if i % 7 != 6 else None  # 42 mapped, 7 plan-only
        base = _value(ind, rng.choice((2, 3, 3, 4)))
        if isinstance(base, dict) or ind["input"] == "deduction":
            history = ((date(2020, 12, 31), base),)
        else:
            history = tuple(
                (date(2020, 6 * k + 6, 30 if k % 2 == 0 else 31), base * (0.9 + 0.05 * k)) for k in range(2)
            )
        delivers = tuple(
            (mid, _value(ind, rng.choice((4, 5))) if number else None)
            for mid in rng.sample(open_ids, rng.choice((1, 1, 2)))
        )
        upper = 100 if ind["unit"] == "%" else None
        out.append(IndicatorData(f"{prefix}i{i}", ind["name"], number, history, 0, upper, delivers, ">=", 80))
    return out


def synthetic_inputs(scale=1, seed=1313):
    """ForecastInputs shaped like weihai-1313, repeated `scale` times."""
    rng = random.Random(seed)
    std = load_standard(STANDARD)
    milestones, deps, indicators, departments = [], [], [], {}
    for s in range(scale):
        prefix = f"s{s}"
        ms, ds = _milestones(rng, prefix, 40, 29)
        milestones += ms
        deps += ds
        indicators += _indicators(rng, prefix, std, ms)
        departments.update({f"{prefix}d{d}": (rng.randrange(10), rng.randrange(5)) for d in range(29)})
    return ForecastInputs(STANDARD, milestones, deps, departments, indicators, {}, 4)


def bench(scale, samples, repeat):
    inputs = synthetic_inputs(scale)
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = forecast(inputs, TARGET, TODAY, samples=samples)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(
        f"scale {scale:>2}: {len(inputs.milestones):4d} milestones, "
        f"{len(inputs.dependencies):4d} dependencies, "
        f"{len(inputs.indicators):4d} indicators, {samples} samples: {best:.3f} s "
        f"(P(>= {inputs.target_stars} stars) = {result['p_target']:.3f}, "
        f"expected total {result['expected_total']:.1f})"
    )
    return best


def bench_real(samples, repeat, code="weihai-1313"):
    """The real plan: demo data loaded into a scratch SQLite database; times the
    forecast itself and, separately, the full stored snapshot the recompute job writes."""
    import tempfile

    from flask_migrate import upgrade

    from app import clock, create_app
    from app.demo import load_demo
    from app.extensions import db
    from app.forecasting.snapshot import compute_snapshot, target_date_of
    from app.forecasting.state import forecast_inputs
    from app.models import Plan

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "STARPATH_AS_OF": "2021-03-15"}
        )
        with app.app_context():
            upgrade()
            load_demo()
            db.session.commit()
            plan = db.session.scalar(db.select(Plan).where(Plan.code == code))
            inputs = forecast_inputs(plan, clock.today())
            target = target_date_of(plan)
            best = min(
                _timed(lambda: forecast(inputs, target, clock.today(), samples=samples))
                for _ in range(repeat)
            )
            snap = min(_timed(lambda: compute_snapshot(plan, clock.today(), samples)) for _ in range(repeat))
            print(
                f"{code} (demo data, {len(inputs.milestones)} milestones, {samples} samples): "
                f"forecast {best:.3f} s; whole stored snapshot incl. database reads {snap:.3f} s"
            )
            db.session.remove()
            db.engine.dispose()
    return best


def _timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    bench_real(args.samples, args.repeat)
    small = bench(1, args.samples, args.repeat)
    large = bench(10, args.samples, args.repeat)
    print(f"goal: 0.5 s and 5 s -> {'met' if small < 0.5 and large < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
