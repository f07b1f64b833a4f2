"""Benchmark the forecast engine: weihai-1313 itself and synthetic plans.

First the real weihai-1313 plan with its demo data (a scratch SQLite database): the
state from the database, the forecast of it, and a whole stored snapshot; then
synthetic states shaped like weihai-1313 (~90 milestones in yearly stages, chained,
49 indicators of sd-city-2019 measured monthly) at 1×, 10× and 50× its size, each
forecast with 10,000 samples (with and without the product's details: per-indicator
distributions and the milestones that move P(target) most). Goal on a 2-core
machine: under 0.5 s for weihai-1313, under 5 s at 10×.

    .venv/bin/python scripts/bench_forecast.py [--samples N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engines.forecast import forecast  # noqa: E402
from app.engines.forecast_state import parse_state  # noqa: E402
from app.engines.standards import load_standard  # noqa: E402

STANDARD = "sd-city-2019"
AS_OF = date(2021, 3, 15)
TARGET = date(2021, 10, 31)
STAGES = (date(2020, 12, 31), date(2021, 6, 30), date(2021, 12, 31), date(2022, 12, 31))


def _threshold(ind):
    cells = [c for c in ind["cells"] if c["condition"] and "op" in c["condition"]]
    return cells[3]["condition"]["value"] if len(cells) > 3 else None


def synthetic_state(scale: int = 1, seed: int = 1) -> dict:
    """A state shaped like weihai-1313, repeated `scale` times (more milestones, same standard)."""
    rng = random.Random(seed)
    std = load_standard(STANDARD)
    numeric = [i for i in std["indicators"] if i["input"] in ("number", "rank") and _threshold(i)]
    milestones = []
    for copy in range(scale):
        for p in range(45):
            stages = sorted(rng.sample(STAGES, rng.choice((2, 2, 3))))
            dept = f"d{copy}-{rng.randrange(20)}"
            prev = None
            for k, due in enumerate(stages):
                mid = f"c{copy}-p{p}-{k}"
                finished, percent = None, 0
                if due < AS_OF and rng.random() < 0.8:
                    finished = (due + timedelta(days=rng.randint(-30, 40))).isoformat()
                    finished = min(finished, AS_OF.isoformat())
                    percent = 100
                elif due < date(2022, 1, 1):
                    percent = rng.choice((10, 30, 50, 70))
                delivers = []
                if rng.random() < 0.3:
                    ind = rng.choice(numeric)
                    delivers.append({"indicator": ind["number"], "value": _threshold(ind)})
                milestones.append(
                    {
                        "id": mid,
                        "department": dept,
                        "start": None,
                        "due": due.isoformat(),
                        "finished": finished,
                        "percent": percent,
                        "predecessors": [{"id": prev, "lag_days": 0}] if prev else [],
                        "delivers": delivers,
                    }
                )
                prev = mid
    indicators = {}
    for ind in numeric:
        top = _threshold(ind)
        share = rng.uniform(0.6, 1.0)
        rows = []
        for m in range(6):
            day = date(2020, 9, 30) + timedelta(days=30 * m)
            share += rng.gauss(0.01, 0.015)
            value = top * share
            if ind["unit"] == "%":
                value = min(100.0, round(value, 1))
            elif ind["input"] == "rank":
                value = max(1, min(16, round(value)))
            else:
                value = round(value, 1)
            rows.append({"date": day.isoformat(), "value": value})
        indicators[ind["number"]] = rows
    return {
        "standard": STANDARD,
        "as_of": AS_OF.isoformat(),
        "target_date": TARGET.isoformat(),
        "target_stars": 4,
        "samples": 10000,
        "seed": 20211031,
        "milestones": milestones,
        "indicators": indicators,
    }


def _timed(fn, repeat):
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    return best


def bench_weihai(samples: int, repeat: int) -> None:
    """The real plan with its demo data in a scratch SQLite database."""
    tmp = tempfile.mkdtemp(prefix="bench-forecast-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
    os.environ["STARPATH_AS_OF"] = AS_OF.isoformat()
    os.environ.pop("REDIS_URL", None)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import clock, create_app
    from app.demo import load_demo
    from app.extensions import db
    from app.forecasting.snapshot import compute_snapshot
    from app.forecasting.state import build_state
    from app.models import Plan

    app = create_app()
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        plan = db.session.scalar(select(Plan).where(Plan.code == "weihai-1313"))
        state, _ = build_state(plan, clock.today(), samples=samples)
        built = _timed(lambda: build_state(plan, clock.today(), samples=samples), repeat)
        spec = _timed(lambda: forecast(state, details=False), repeat)
        full = _timed(lambda: forecast(state), repeat)
        snap = _timed(lambda: compute_snapshot(plan, clock.today(), samples), repeat)
    print(
        f"weihai-1313 (demo data): {len(state['milestones'])} milestones, {len(state['indicators'])} "
        f"measured indicators, {samples} samples"
    )
    print(f"  state from the database {built:.3f} s")
    print(f"  forecast (spec output)  {spec:.3f} s")
    print(f"  forecast with details   {full:.3f} s")
    print(f"  whole stored snapshot   {snap:.3f} s")


def bench_synthetic(samples: int, repeat: int) -> None:
    for scale in (1, 10, 50):
        raw = synthetic_state(scale)
        raw["samples"] = samples
        state = parse_state(raw)
        parsed = _timed(lambda raw=raw: parse_state(raw), repeat)
        spec = _timed(lambda state=state: forecast(state, details=False), repeat)
        full = _timed(lambda state=state: forecast(state), 1)
        print(
            f"synthetic ×{scale:<3} {len(raw['milestones']):>5} milestones: parse {parsed:.3f} s, "
            f"forecast {spec:.3f} s, with details {full:.3f} s"
        )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    bench_synthetic(args.samples, args.repeat)
    bench_weihai(args.samples, args.repeat)


if __name__ == "__main__":
    main()
